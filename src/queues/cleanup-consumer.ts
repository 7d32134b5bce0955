/**
 * @module The cleanup consumer: aborts the R2 multipart upload of an expired session, then tells
 * the session. Aborting an upload R2 no longer knows is success, so redelivery is harmless.
 */
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import type { CleanupMessage } from '../protocol/messages';
import { R2Store } from '../storage/r2-store';

export async function cleanupUpload(message: CleanupMessage, env: Env): Promise<void> {
  await new R2Store(env.BUCKET).abortMultipart(message.key, message.r2UploadId);
  await sessionStub(env, message.uploadId).cleanupDone();
}
