/**
 * @module Direct-to-R2 mode's presigned part URLs, for one part or a range of them, with one
 * session round trip per range: the single-part route, the batch route and the create answer
 * (`"direct": true`) all come through here, so their URLs and answers are the same.
 */
import type { Context } from 'hono';
import { loadConfig } from '../config';
import { AppError, unwrap } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import { presignUploadPart, s3Target } from '../storage/presign';
import type { PresignedPart } from '../contracts/messages';
import type { AppEnv } from './app-env';

/** Parts whose URLs the create answer carries when the client asks for direct mode. */
export const FIRST_DIRECT_PARTS = 8;

export function requireDirectUploads(env: Env) {
  const direct = loadConfig(env).directUploads;
  if (!direct) throw new AppError('ERR_NOT_CONFIGURED', 'Direct-to-R2 uploads are not configured on this server; PUT parts to the API.');
  return direct;
}

/** Presigned UploadPart URLs for parts `from`…`to` (those past the plan are left out). */
export async function presignParts(c: Context<AppEnv>, id: string, from: number, to: number, expiresIn: number): Promise<PresignedPart[]> {
  const target = s3Target(requireDirectUploads(c.env), new URL(c.req.url).origin);
  const claimed = unwrap(await sessionStub(c.env, id).claimDirectParts(from, to));
  const expiresAt = new Date(Date.now() + expiresIn * 1000).toISOString();
  return Promise.all(
    claimed.parts.map(async ({ partNumber, size }) => ({
      partNumber,
      method: 'PUT' as const,
      url: await presignUploadPart(target, { key: claimed.key, uploadId: claimed.r2UploadId, partNumber, size, expiresSeconds: expiresIn }),
      size,
      expiresAt,
    })),
  );
}
