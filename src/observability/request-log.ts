/**
 * @module Request middleware: gives every request an id (kept in the context for the error
 * renderer, answered as `X-Request-Id`) and writes one structured log line when it ends.
 * Logged: id, method, route pattern (never the raw path: paths can carry tokens and JWTs),
 * status, duration, upload id, hashed owner. Never tokens, keys, bodies or file names.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../api/app-env';
import { hashOwner, logLine } from './log-line';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';

/** Upload ids are 32 hex digits; anything else in an id slot is not logged. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** A created upload's id, from the `Location` the create routes answer (native and tus). */
const LOCATION_ID = /\/(?:api\/uploads|files)\/([0-9a-f]{32})(?:[/?]|$)/;

/** The upload a request was about: its `:id` route parameter, or the one it created. */
function uploadIdOf(param: string | undefined, location: string | null): string | undefined {
  if (param && UPLOAD_ID.test(param)) return param;
  const created = location ? LOCATION_ID.exec(location)?.[1] : undefined;
  return created;
}

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    const requestId = requestIdOf(c.req.raw.headers);
    c.set('requestId', requestId);
    try {
      await next();
    } finally {
      // After next() the context points at the route that answered (or at this middleware when none did).
      const route = routePath(c);
      const owner = c.get('owner') ?? c.get('tokenOwner');
      // A WebSocket upgrade (101) is passed through untouched: its response cannot be rebuilt.
      if (c.res.status !== 101) {
        try {
          c.res.headers.set(REQUEST_ID_HEADER, requestId);
        } catch {
          // Headers of a response passed through from a binding (a Durable Object's SSE stream) are immutable.
          c.res = new Response(c.res.body, c.res);
          c.res.headers.set(REQUEST_ID_HEADER, requestId);
        }
      }
      logLine('request', {
        requestId,
        method: c.req.method,
        route: route === '*' || route === '/*' ? null : route,
        status: c.res.status,
        durationMs: Date.now() - started,
        uploadId: uploadIdOf(c.req.param('id'), c.res.headers.get('Location')),
        owner: owner ? await hashOwner(owner) : undefined,
      });
    }
  };
}
