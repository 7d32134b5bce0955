/**
 * @module Object key layout in the bucket. Keys are built by the server only, never from a
 * client's file name, and grouped by prefix so lifecycle rules can target them.
 */

/** The mark of a hashed owner segment. */
const HASHED = 'h-';

/**
 * Owner ids become a key segment: kept when plainly safe, otherwise replaced by a hash ("h-" and
 * 32 hex digits). Injective: a kept segment never starts with "h-", so an owner whose id merely
 * looks like another owner's hash (a JWT `sub` of "h-<hex>") is hashed too and cannot share that
 * owner's prefix, nor delete its derivatives. Keys already stored stay valid: every upload keeps
 * its key, and derivative keys are derived from it, not from the owner.
 */
export async function ownerSegment(owner: string): Promise<string> {
  if (/^[A-Za-z0-9._-]{1,64}$/.test(owner) && owner !== '.' && owner !== '..' && !owner.startsWith(HASHED)) return owner;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(owner));
  return HASHED + Array.from(new Uint8Array(digest).subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
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

/** File extension of each derivative format's key (JPEG's stays `.jpg`, as keys already stored are). */
export const DERIVATIVE_EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/avif': 'avif' };

export const derivativeKey = (originalKeyOfOwner: string, sha256: string, variant: string, type = 'image/jpeg'): string =>
  `${derivedPrefix(originalKeyOfOwner, sha256)}${variant}.${DERIVATIVE_EXTENSIONS[type] ?? 'jpg'}`;

/** The key of the same derivative in another format (the session knows the JPEG's key). */
export const derivativeKeyAs = (jpegKey: string, type: string): string =>
  jpegKey.replace(/\.[a-z]+$/, `.${DERIVATIVE_EXTENSIONS[type] ?? 'jpg'}`);
