/**
 * @module tus 1.0 and IETF resumable-upload wire details, pure: versions, extensions, header
 * parsing. The IETF drafts as tus-js-client speaks them (interop versions 5 and 6) share
 * endpoints with tus and are told apart by `Upload-Draft-Interop-Version`; the draft's current
 * interop version has its own adapter (src/api/ietf).
 */
import { decodeBase64 } from '../../domain/base64url';

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'checksum',
  'termination',
  'concatenation',
];
/** Algorithms for `Upload-Checksum`: sha1 is required by the spec. */
export const CHECKSUM_ALGORITHMS = { sha1: 'SHA-1', sha256: 'SHA-256', md5: 'MD5' } as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;
/** Bodies above the Workers request cap never arrive: we say how large a PATCH may be. */
export const MAX_CHUNK_BYTES = 95 * 1024 * 1024;
export const IETF_INTEROP_VERSIONS = ['5', '6'];

export type Dialect = { kind: 'tus' } | { kind: 'ietf'; interop: string };

export function dialectOf(headers: Headers): Dialect | null {
  const interop = headers.get('upload-draft-interop-version');
  if (interop !== null) return IETF_INTEROP_VERSIONS.includes(interop.trim()) ? { kind: 'ietf', interop: interop.trim() } : null;
  return headers.get('tus-resumable') === TUS_VERSION ? { kind: 'tus' } : null;
}

/**
 * The longest `Upload-Metadata` header read at all: room for the decoded limits (8 KiB of keys and
 * values, METADATA_LIMITS) once base64 has grown them by a third. The decoded entries are then
 * checked against the same limits as the native API's `metadata`.
 */
export const MAX_METADATA_HEADER_CHARS = 12 * 1024;

/** `Upload-Metadata`: comma-separated `key base64value` pairs (value optional). Null when malformed. */
export function parseMetadata(header: string | null): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (header === null || header.trim() === '') return out;
  if (header.length > MAX_METADATA_HEADER_CHARS) return null;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || !/^[\x21-\x7e]+$/.test(key) || key.includes(',') || key in out) return null;
    if (value === undefined) {
      out[key] = '';
      continue;
    }
    const bytes = decodeBase64(value);
    if (!bytes) return null;
    try {
      out[key] = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      return null;
    }
  }
  return out;
}

export function encodeMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${key} ${btoa(String.fromCharCode(...new TextEncoder().encode(value)))}`)
    .join(',');
}

/** `Upload-Checksum: <algorithm> <base64>`. */
export function parseChecksum(header: string | null): { ok: true; checksum: { algorithm: ChecksumAlgorithm; digest: Uint8Array } | null } | { ok: false; reason: 'algorithm' | 'malformed' } {
  if (header === null) return { ok: true, checksum: null };
  const [algorithm, value, extra] = header.trim().split(' ');
  if (!algorithm || !value || extra !== undefined) return { ok: false, reason: 'malformed' };
  if (!(algorithm in CHECKSUM_ALGORITHMS)) return { ok: false, reason: 'algorithm' };
  const digest = decodeBase64(value);
  return digest ? { ok: true, checksum: { algorithm: algorithm as ChecksumAlgorithm, digest } } : { ok: false, reason: 'malformed' };
}

/** A non-negative integer header, or null when absent; NaN when malformed. */
export function integerHeader(value: string | null): number | null {
  if (value === null) return null;
  return /^[0-9]{1,16}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
}

/** `Upload-Complete: ?1` (IETF structured boolean). */
export const isComplete = (value: string | null): boolean => value?.trim() === '?1';

export const httpDate = (iso: string): string => new Date(iso).toUTCString();
