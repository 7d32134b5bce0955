/**
 * @module Object key layout in the bucket. Keys are built by the server only, never from a
 * client's file name, and grouped by prefix so lifecycle rules can target them.
 */

/** Owner ids become a key segment: kept when plainly safe, otherwise replaced by a hash. */
export async function ownerSegment(owner: string): Promise<string> {
  if (/^[A-Za-z0-9._-]{1,64}$/.test(owner) && owner !== '.' && owner !== '..') return owner;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(owner));
  return 'h-' + Array.from(new Uint8Array(digest).subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Prefixes the R2 lifecycle rules (lifecycle/r2-lifecycle.json) target. */
export const KEY_PREFIXES = {
  /** Uploaded files, in progress and finished: to Infrequent Access after 30 days. */
  originals: 'originals/',
  /** Image derivatives, keyed by content hash: kept hot (small, read often). */
  derived: 'derived/',
  /** Short-lived helper objects (e.g. bytes held between protocol writes): expire after 7 days. */
  staging: 'staging/',
} as const;

export const originalKey = (ownerSeg: string, uploadId: string): string => `${KEY_PREFIXES.originals}${ownerSeg}/${uploadId}`;

/** Where a streamed write keeps the bytes after its last full part until the next write. */
export const stagingKey = (originalKeyOfUpload: string): string =>
  `${KEY_PREFIXES.staging}${originalKeyOfUpload.slice(KEY_PREFIXES.originals.length)}`;

/** Where processing in slices keeps its progress (hash state, offset) between invocations. */
export const processingStateKey = (uploadId: string): string => `${KEY_PREFIXES.staging}processing/${uploadId}.json`;

/**
 * Derivatives are keyed by the owner and the content hash, not the upload: deterministic (a
 * redelivered job writes the same keys) and shared by deduplicated uploads of the same bytes.
 */
export const derivedPrefix = (originalKeyOfOwner: string, sha256: string): string =>
  `${KEY_PREFIXES.derived}${originalKeyOfOwner.split('/')[1]}/${sha256}/`;

export const derivativeKey = (originalKeyOfOwner: string, sha256: string, variant: string): string =>
  `${derivedPrefix(originalKeyOfOwner, sha256)}${variant}.jpg`;
