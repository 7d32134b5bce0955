/**
 * @module The cleanup consumer: asks an expired upload's session to remove everything it stored
 * (the R2 multipart upload, staging, quota). Off the alarm, so expiry itself stays cheap; the
 * cleanup is idempotent, so redelivery is harmless.
 */
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import type { CleanupMessage } from '../contracts/messages';

export async function cleanupUpload(message: CleanupMessage, env: Env): Promise<void> {
  await sessionStub(env, message.uploadId).cleanUp();
}
