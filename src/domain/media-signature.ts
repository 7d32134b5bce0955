/**
 * @module Signed media URLs for private files: `/media/<id>[/<variant>]?exp=<unix s>&kid=<key id>&sig=<base64url
 * HMAC-SHA256(key, "media-v1\n" + path + "\n" + exp)>`. The path names the file and variant, so a
 * signature opens exactly one object until `exp`. Keys rotate (MEDIA_URL_KEYS, "id:secret", several
 * accepted, one signs). Pure Web Crypto: the Worker verifies, the server SDK mints the same URLs offline.
 */
import { decodeBase64, encodeBase64Url } from './base64url';
import type { KeyRing } from './capability';

const encoder = new TextEncoder();

export const mediaPath = (id: string, variant?: string): string => (variant ? `/media/${id}/${variant}` : `/media/${id}`);

const signedText = (path: string, exp: number) => encoder.encode(`media-v1\n${path}\n${exp}`);

/** The query string that opens `path` until `exp` (seconds since the epoch). */
export async function signMediaPath(ring: KeyRing, path: string, exp: number): Promise<string> {
  const kid = ring.signingKeyId;
  const signature = await crypto.subtle.sign('HMAC', (await ring.key(kid))!, signedText(path, exp));
  return `exp=${exp}&kid=${encodeURIComponent(kid)}&sig=${encodeBase64Url(signature)}`;
}

export type MediaSignatureCheck = { ok: true; exp: number } | { ok: false; reason: 'missing' | 'invalid' | 'expired' };

/** Checks the `exp`, `kid` and `sig` query parameters of a request for `path`. */
export async function verifyMediaSignature(
  ring: KeyRing,
  path: string,
  query: { exp?: string; kid?: string; sig?: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<MediaSignatureCheck> {
  if (query.exp === undefined && query.sig === undefined) return { ok: false, reason: 'missing' };
  if (!query.exp || !/^[0-9]{1,12}$/.test(query.exp) || !query.kid || !query.sig || query.sig.length > 100) return { ok: false, reason: 'invalid' };
  const exp = Number(query.exp);
  const signature = decodeBase64(query.sig);
  const key = ring.key(query.kid);
  if (!signature || encodeBase64Url(signature) !== query.sig || !key) return { ok: false, reason: 'invalid' };
  if (!(await crypto.subtle.verify('HMAC', await key, signature, signedText(path, exp)))) return { ok: false, reason: 'invalid' };
  if (exp <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, exp };
}
