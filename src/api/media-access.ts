/**
 * @module Who may read a file at /media: anyone for a public file; for a private one, only a
 * request with a valid signed URL, and its response is never cached beyond that URL's expiry.
 */
import type { Context } from 'hono';
import { loadConfig, requireMediaKeys } from '../config';
import { AppError } from '../domain/errors';
import { mediaPath, verifyMediaSignature } from '../domain/media-signature';
import type { Visibility } from '../contracts/messages';
import type { AppEnv } from './app-env';

const REFUSALS = {
  missing: new AppError('ERR_MEDIA_PRIVATE', 'This file is private: open it through a signed URL (POST /api/files/:id/url).'),
  invalid: new AppError('ERR_MEDIA_SIGNATURE_INVALID', 'The signed URL is not valid for this file.'),
  expired: new AppError('ERR_MEDIA_SIGNATURE_EXPIRED', 'The signed URL has expired; ask for a new one.'),
};

/** The Cache-Control to serve with: `publicCacheControl` for public files, a private one ending at the URL's expiry otherwise. */
export async function mediaCacheControl(c: Context<AppEnv>, id: string, variant: string | undefined, visibility: Visibility | undefined, publicCacheControl: string): Promise<string> {
  if (visibility !== 'private') return publicCacheControl;
  const check = await verifyMediaSignature(requireMediaKeys(loadConfig(c.env)), mediaPath(id, variant), {
    exp: c.req.query('exp'),
    kid: c.req.query('kid'),
    sig: c.req.query('sig'),
  });
  if (!check.ok) throw REFUSALS[check.reason];
  return `private, max-age=${Math.max(0, check.exp - Math.floor(Date.now() / 1000))}`;
}
