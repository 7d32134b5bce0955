/** One `wrangler dev` for a whole test file: started before its tests, stopped after them. */
import { afterAll, beforeAll } from 'vitest';
import { startDevServer, type DevServer, type DevServerOptions } from './dev-server';

/** Returns the running server (available inside tests and hooks). */
export function useDevServer(options?: DevServerOptions): () => DevServer {
  let server: DevServer | undefined;
  beforeAll(async () => {
    server = await startDevServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the dev server is not running');
    return server;
  };
}
