/**
 * @module A file's fingerprint for recognising it after a reload: name, size, lastModified and a
 * SHA-256 of its first bytes (cheap, and distinguishes files that share name and size).
 */

export const FINGERPRINT_HEAD_BYTES = 64 * 1024;

/** `name` is the name the upload goes by (a Blob in Node has none of its own: `add(blob, { name })`). */
export async function fingerprint(file: Blob & { name?: string; lastModified?: number }, name = file.name): Promise<string> {
  const head = await file.slice(0, FINGERPRINT_HEAD_BYTES).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', head));
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return [name ?? '', file.size, file.lastModified ?? 0, hex].join('|');
}
