/**
 * @module The S3-style `uploadId` carries the capability: "<upload id>~<upload token>". Uppy sends
 * it back on every call (URL-encoded in the path), so signing, listing, completing and aborting
 * need no other credentials, and a client that persisted it (Golden Retriever) can resume after a
 * reload. `key` is our upload id. "~" is neither hex nor in the token's alphabet, and
 * `encodeURIComponent` leaves it (and the token's "." "-" "_") as they are.
 */
import { type CapabilityClaims } from '../../domain/capability';
import { AppError } from '../../domain/errors';
import type { Env } from '../../env';
import { checkCapability } from '../auth';

const SEPARATOR = '~';
const HANDLE = /^([0-9a-f]{32})~([A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,512})$/;

export interface UploadHandle {
  id: string;
  token: string;
}

export const formatUploadHandle = (id: string, token: string): string => `${id}${SEPARATOR}${token}`;

/** The upload id and token in an S3-style uploadId, or null when it is not one we issue. */
export function parseUploadHandle(handle: string): UploadHandle | null {
  const match = HANDLE.exec(handle);
  return match ? { id: match[1]!, token: match[2]! } : null;
}

/**
 * Verifies the capability in `handle` (signature, expiry, scope) and that `key` names the same
 * upload, before any Durable Object or R2 work.
 */
export async function verifyUploadHandle(env: Env, handle: string, key: string | undefined): Promise<UploadHandle & { claims: CapabilityClaims }> {
  const parsed = parseUploadHandle(handle);
  if (!parsed) throw new AppError('ERR_TOKEN_INVALID', 'The uploadId is not one this server issued.');
  const claims = await checkCapability(env, parsed.token, parsed.id);
  if (key === undefined || key === '') throw new AppError('ERR_VALIDATION', 'Send the object key as ?key= (the "key" returned with the uploadId).');
  if (key !== parsed.id) throw new AppError('ERR_TOKEN_SCOPE', 'The key does not belong to this uploadId.');
  return { ...parsed, claims };
}

/** Paths name upload tokens (in uploadIds) and JWTs (in /jwt/…): never log them. */
export function redactPath(path: string): string {
  return path.replace(/~[^/]*/g, '~…').replace(/^\/jwt\/[^/]+/, '/jwt/…');
}
