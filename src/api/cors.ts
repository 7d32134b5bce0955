/**
 * @module CORS for the API and media routes: exact origins from configuration (never `*`),
 * preflights answered, only the headers clients need exposed, other origins refused outright.
 */
import type { MiddlewareHandler } from 'hono';
import { loadConfig } from '../config';
import { AppError } from '../domain/errors';
import type { AppEnv } from './app-env';
import { editHeaders } from './edit-headers';

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = [
  'Authorization, Content-Type, Content-Digest, Range, If-Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, X-Requested-With',
  // tus 1.0 and the IETF resumable-upload drafts
  'Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Checksum',
  'Upload-Complete, Upload-Draft-Interop-Version, X-HTTP-Method-Override',
].join(', ');
/** What scripts on an allowed origin may read: ETag for parts, Location for creation, backoff hints, tus state. */
const EXPOSE_HEADERS = [
  'ETag, Location, Retry-After, Content-Range, Content-Length, Accept-Ranges',
  'Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, Upload-Concat, Upload-Defer-Length, Upload-Complete',
  'Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Upload-Draft-Interop-Version, Upload-Max-Chunk-Size, Upload-Limit',
].join(', ');

/** Adds `token` to the response's Vary list, keeping what is there. */
export function vary(headers: Headers, token: string): void {
  const current = headers.get('Vary');
  const tokens = (current ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (tokens.includes('*') || tokens.some((t) => t.toLowerCase() === token.toLowerCase())) return;
  headers.set('Vary', [...tokens, token].join(', '));
}

/**
 * Every answer on a CORS route says `Vary: Origin`, with an Origin or without, success or error:
 * whether it carries Access-Control-Allow-Origin depends on the Origin, so no cache (the browser's
 * or a shared one) may give one origin's answer to another.
 */
export function cors(): MiddlewareHandler<AppEnv> {
  return async function cors(c, next) {
    const origin = c.req.header('origin');
    // No Origin (curl, <img>) or our own origin: not a cross-origin call.
    if (!origin || origin === new URL(c.req.url).origin) {
      await next();
      editHeaders(c, (h) => vary(h, 'Origin'));
      return;
    }
    if (!loadConfig(c.env).corsOrigins.includes(origin)) {
      throw new AppError('ERR_ORIGIN_NOT_ALLOWED', `Origin ${origin} may not call this API; add it to CORS_ORIGINS.`, undefined, { Vary: 'Origin' });
    }
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': EXPOSE_HEADERS,
    };
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...headers,
          Vary: 'Origin',
          'Access-Control-Allow-Methods': ALLOW_METHODS,
          'Access-Control-Allow-Headers': ALLOW_HEADERS,
          'Access-Control-Max-Age': '600',
        },
      });
    }
    await next();
    editHeaders(c, (h) => {
      for (const [name, value] of Object.entries(headers)) h.set(name, value);
      vary(h, 'Origin');
    });
  };
}
