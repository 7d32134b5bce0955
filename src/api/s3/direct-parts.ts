/**
 * @module Direct mode of the S3-style API (`S3_DIRECT_PARTS=true` with the R2 S3 credentials of
 * direct-to-R2 mode): the part URLs Uppy gets are presigned R2 UploadPart URLs, so part bytes skip
 * the Worker. Uppy reports only ETags, so before listing or completing, R2's own ListParts tells
 * which parts arrived and how large they are, and the session records them (R2 checks every ETag
 * again when it assembles). Opt-in, apart from the native API's direct mode, because it needs a
 * CORS rule on the bucket (PUT from the app's origin, `ETag` exposed) and the session sees parts
 * only when the client lists or completes.
 */
import { loadConfig } from '../../config';
import { AppError, unwrap } from '../../domain/errors';
import { sessionStub } from '../../durable/session-stub';
import type { Env } from '../../env';
import { presignUploadPart, s3Target, type S3Target } from '../../storage/presign';
import { listUploadedParts, type ListedPart } from '../../storage/s3-list-parts';

/** How long a presigned part URL is valid (Companion's default is 800 s). */
const PART_URL_SECONDS = 900;

/** The R2 S3 target when direct mode is on for this API, else null. */
export function directParts(env: Env, origin: string): S3Target | null {
  const config = loadConfig(env);
  return config.s3DirectParts && config.directUploads ? s3Target(config.directUploads, origin) : null;
}

export async function signDirectPart(env: Env, target: S3Target, id: string, partNumber: number): Promise<{ url: string; expires: number }> {
  const part = unwrap(await sessionStub(env, id).claimDirectPart(partNumber));
  const url = await presignUploadPart(target, { key: part.key, uploadId: part.r2UploadId, partNumber, size: part.size, expiresSeconds: PART_URL_SECONDS });
  return { url, expires: PART_URL_SECONDS };
}

/** Records the parts R2 has and the session does not (or has with another ETag, i.e. re-sent). */
export async function recordDirectParts(env: Env, target: S3Target, id: string): Promise<void> {
  const session = sessionStub(env, id);
  // Where the upload lives in R2; an upload that takes no more parts has nothing to record.
  const where = await session.claimDirectPart(1);
  if (!where.ok) return;
  const known = new Map(unwrap(await session.listParts()).map((p) => [p.partNumber, p.etag]));
  let parts: ListedPart[];
  try {
    parts = await listUploadedParts(target, where.value.key, where.value.r2UploadId);
  } catch (error) {
    throw new AppError('ERR_STORAGE', 'R2 could not list the parts sent to it; try again.', { cause: String(error).slice(0, 200) });
  }
  for (const part of parts) {
    if (known.get(part.partNumber) === part.etag) continue;
    unwrap(await session.confirmDirectPart(part.partNumber, part.etag, part.size));
  }
}
