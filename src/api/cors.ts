/**
 * @module CORS for the API and media routes: exact origins from configuration (never `*`),
 * preflights answered, only the headers clients need exposed, other origins refused outright.
 */
import type { MiddlewareHandler } from 'hono';
import { loadConfig } from '../config';
import { AppError } from '../domain/errors';
import type { AppEnv } from './app-env';

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = [
  'Authorization, Content-Type, Content-Digest, Range, If-None-Match, If-Modified-Since, X-Requested-With',
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

export function cors(): MiddlewareHandler<AppEnv> {
  return async function cors(c, next) {
    const origin = c.req.header('origin');
    // No Origin (curl, <img>) or our own origin: not a cross-origin call.
    if (!origin || origin === new URL(c.req.url).origin) return next();
    if (!loadConfig(c.env).corsOrigins.includes(origin)) {
      throw new AppError('ERR_ORIGIN_NOT_ALLOWED', `Origin ${origin} may not call this API; add it to CORS_ORIGINS.`);
    }
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': EXPOSE_HEADERS,
      Vary: 'Origin',
    };
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: { ...headers, 'Access-Control-Allow-Methods': ALLOW_METHODS, 'Access-Control-Allow-Headers': ALLOW_HEADERS, 'Access-Control-Max-Age': '600' },
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
