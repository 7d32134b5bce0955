/** @module Editing the headers of the response a middleware wraps, whatever made that response. */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';

/**
 * Applies `edit` to `c.res`'s headers. Responses from fetch() or a Durable Object (the events
 * stream, a WebSocket upgrade) have immutable headers: those are copied into a new Response
 * first (status, body and WebSocket kept), instead of failing the request with a 500.
 */
export function editHeaders(c: Context<AppEnv>, edit: (headers: Headers) => void): void {
  try {
    edit(c.res.headers);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const original = c.res;
    c.res = new Response(original.body, { status: original.status, statusText: original.statusText, headers: original.headers, webSocket: original.webSocket });
    edit(c.res.headers);
  }
}
