/**
 * @module `GET /media/:id`: serves a ready upload from R2 with ETag, Range and conditional
 * request support. Nothing is served before the pipeline marked the upload ready.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { AppError, unwrap } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { MediaInfo } from '../durable/upload-session';
import { R2Store } from '../storage/r2-store';
import type { AppEnv } from './app-env';
import { mediaCacheControl } from './media-access';
import { uploadIdSchema } from './schemas';
import { parseWith } from './validation';

export const media = new Hono<AppEnv>();

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function contentRange(range: R2Range, size: number): { start: number; end: number } {
  if ('suffix' in range && range.suffix !== undefined) {
    const length = Math.min(range.suffix, size);
    return { start: size - length, end: size - 1 };
  }
  const start = 'offset' in range && range.offset !== undefined ? range.offset : 0;
  const length = 'length' in range && range.length !== undefined ? range.length : size - start;
  return { start, end: Math.min(start + length, size) - 1 };
}

const variantSchema = z.string().regex(/^[a-z0-9-]{1,32}$/, 'not a variant name');
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Derivatives never change under their URL: serve them through the Cache API where it helps. */
media.on(['GET', 'HEAD'], '/:id/:variant', async (c) => {
  const cache = typeof caches !== 'undefined' ? caches.default : undefined;
  const cacheable = c.req.method === 'GET' && !c.req.header('range') && !c.req.header('if-none-match') && !c.req.header('if-modified-since');
  if (cache && cacheable) {
    const hit = await cache.match(c.req.raw);
    if (hit) return hit;
  }
  const id = parseWith(uploadIdSchema, c.req.param('id'), 'upload id');
  const variant = parseWith(variantSchema, c.req.param('variant'), 'variant');
  const info = unwrap(await sessionStub(c.env, id).media(variant));
  const cacheControl = await mediaCacheControl(c, id, variant, info.visibility, IMMUTABLE);
  const response = await serveObject(c.req.raw, info, cacheControl, new R2Store(c.env.BUCKET));
  // A private file's response is never put in the shared cache.
  if (cache && cacheable && response.status === 200 && info.visibility !== 'private') c.executionCtx.waitUntil(cache.put(c.req.raw, response.clone()));
  return response;
});

media.on(['GET', 'HEAD'], '/:id', async (c) => {
  const id = parseWith(uploadIdSchema, c.req.param('id'), 'upload id');
  const info = unwrap(await sessionStub(c.env, id).media());
  const cacheControl = await mediaCacheControl(c, id, undefined, info.visibility, c.env.ORIGINALS_CACHE_CONTROL || 'public, max-age=3600');
  return serveObject(c.req.raw, info, cacheControl, new R2Store(c.env.BUCKET));
});

/** One R2 object as an HTTP response: ETag, Last-Modified, Range (206/416), conditionals (304/412). */
export async function serveObject(request: Request, info: MediaInfo, cacheControl: string, store: R2Store): Promise<Response> {
  const rangeHeader = request.headers.get('range') ?? undefined;
  if (rangeHeader && !/^bytes=(\d+-\d*|-\d+)$/.test(rangeHeader.trim())) {
    throw new AppError('ERR_RANGE_NOT_SATISFIABLE', 'Only a single byte range ("bytes=start-end") is supported.', undefined, {
      'Content-Range': `bytes */${info.size}`,
    });
  }
  const bounds = rangeHeader ? /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim()) : null;
  const from = bounds?.[1] ? Number(bounds[1]) : null;
  const to = bounds?.[2] ? Number(bounds[2]) : null;
  // "bytes=5-1" (end before start) and "bytes=-0" (an empty suffix) select nothing.
  if ((from !== null && to !== null && to < from) || (from === null && to === 0)) {
    throw new AppError('ERR_RANGE_NOT_SATISFIABLE', 'The range selects no bytes.', undefined, { 'Content-Range': `bytes */${info.size}` });
  }
  if (from !== null && from >= info.size) {
    throw new AppError('ERR_RANGE_NOT_SATISFIABLE', `The range starts past the end (${info.size} bytes).`, undefined, {
      'Content-Range': `bytes */${info.size}`,
    });
  }
  const object = await store.get(info.key, request.headers);
  if (!object) throw new AppError('ERR_NOT_FOUND', 'The stored file is missing.');

  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set('Content-Type', info.type);
  headers.set('ETag', object.httpEtag);
  headers.set('Accept-Ranges', 'bytes');
  headers.set('Cache-Control', cacheControl);
  headers.set('Last-Modified', object.uploaded.toUTCString());
  headers.set('Content-Disposition', disposition(info.name));
  headers.set('X-Content-Type-Options', 'nosniff');

  if (!('body' in object)) {
    // onlyIf failed: If-None-Match / If-Modified-Since → 304, If-Match / If-Unmodified-Since → 412.
    const notModified = request.headers.has('if-none-match') || request.headers.has('if-modified-since');
    if (notModified) return new Response(null, { status: 304, headers });
    throw new AppError('ERR_PRECONDITION_FAILED', 'The stored file does not match the request preconditions.');
  }
  const body = request.method === 'HEAD' ? null : object.body;
  if (rangeHeader && object.range) {
    const { start: from, end } = contentRange(object.range, object.size);
    headers.set('Content-Range', `bytes ${from}-${end}/${object.size}`);
    headers.set('Content-Length', String(end - from + 1));
    return new Response(body, { status: 206, headers });
  }
  headers.set('Content-Length', String(object.size));
  return new Response(body, { status: 200, headers });
}
