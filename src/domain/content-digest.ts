/**
 * @module RFC 9530 `Content-Digest` parsing: `sha-256=:<base64>:` (a structured-field dictionary
 * of byte sequences). Only sha-256 is used; other algorithms in the header are ignored.
 */
import { decodeBase64 } from './base64url';

export type DigestParse = { ok: true; sha256: Uint8Array | null } | { ok: false };

export function parseContentDigest(header: string | null | undefined): DigestParse {
  if (header === null || header === undefined || header.trim() === '') return { ok: true, sha256: null };
  if (header.length > 1024) return { ok: false };
  for (const member of header.split(',')) {
    const match = /^\s*([a-z0-9_-]+)\s*=\s*:([A-Za-z0-9+/=]*):\s*$/i.exec(member);
    if (!match) return { ok: false };
    if (match[1]!.toLowerCase() !== 'sha-256') continue;
    const bytes = decodeBase64(match[2]!);
    if (!bytes || bytes.length !== 32) return { ok: false };
    return { ok: true, sha256: bytes };
  }
  return { ok: true, sha256: null };
}

/** Constant-time comparison of two byte arrays of public length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
