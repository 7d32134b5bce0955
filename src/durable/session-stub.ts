/** @module How any Worker-side caller reaches the session of an upload id. */
import type { Env } from '../env';

export function sessionStub(env: Env, uploadId: string) {
  return env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(uploadId));
}
