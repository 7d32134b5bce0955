/** @module The Hono environment type shared by every route module. */
import type { Env } from '../env';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The authenticated principal that creates uploads (JWT `sub`, or "anonymous" in dev mode). */
    owner: string;
    /** This request's id (src/observability/request-log.ts): in its log line, error bodies and `X-Request-Id`. */
    requestId: string;
    /** The owner named by a verified upload token, for the request log (logged only as a hash). */
    tokenOwner?: string;
  };
}
