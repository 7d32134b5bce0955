/** @module The Hono environment type shared by every route module. */
import type { Env } from '../env';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The authenticated principal that creates uploads (JWT `sub`, or "anonymous" in dev mode). */
    owner: string;
  };
}
