/**
 * @module `GET /media/:id[/:variant]`: serves a ready upload from R2 with ETag, Range and
 * conditional request support (RFC 9110). Nothing is served before the pipeline marked the upload
 * ready, and nothing after it was deleted: the session is asked first, even for cached derivatives.
 * Public answers say only whether a file is there; why an upload failed is for its owner.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { loadConfig } from '../config';
import { z } from 'zod';
import { AppError, unwrap, type ErrorBody } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { MediaInfo } from '../durable/upload-session';
import type { Env } from '../env';
import { formatCacheKey } from '../media/negotiate-format';
import { variantToServe } from '../media/serve-variant';
import { R2Store } from '../storage/r2-store';
import type { AppEnv } from './app-env';
import { editHeaders } from './edit-headers';
import { evaluatePreconditions, ifRangeHolds } from './http-conditions';
import { mediaCacheControl } from './media-access';
import { uploadIdSchema } from './schemas';
import { parseWith } from './validation';

export const media = new Hono<AppEnv>();

/**
 * Media shares the page's origin: whatever a file holds must never run there. The same policy
 * GitHub serves raw user content with; images and videos still display when opened directly.
 */
export const MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

function protect(headers: Headers): void {
  headers.set('Content-Security-Policy', MEDIA_CSP);
  headers.set('X-Content-Type-Options', 'nosniff');
}

/** Every `/media` answer, errors and form-upload replies included, carries the media CSP and nosniff. */
export function mediaHeaders(): MiddlewareHandler<AppEnv> {
  return async function mediaHeaders(c, next) {
    await next();
    editHeaders(c, protect);
  };
}

/** Only images and videos are shown in the browser; anything else (PDFs …) is downloaded. */
const displayable = (type: string): boolean => (type.startsWith('image/') && type !== 'image/svg+xml') || type.startsWith('video/');

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
function disposition(name: string, type: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${displayable(type) ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
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

/**
 * What a public (unauthenticated) media answer may say about an upload: that it is not there, or
 * not ready, and its state. Reasons (a checksum mismatch names the file's real SHA-256, a type
 * mismatch what the bytes are) are for the owner, through the authenticated manifest.
 */
function publicMediaError(error: ErrorBody): AppError {
  const state = typeof error.details?.state === 'string' ? { state: error.details.state } : undefined;
  switch (error.code) {
    case 'ERR_NOT_READY':
      return new AppError('ERR_NOT_READY', 'This file is not available (yet).', state);
    case 'ERR_UPLOAD_GONE':
      return new AppError('ERR_UPLOAD_GONE', 'This file was removed.', state);
    case 'ERR_NOT_FOUND': {
      const variants = Array.isArray(error.details?.variants) ? { variants: error.details.variants } : undefined;
      return new AppError('ERR_NOT_FOUND', 'There is no such file.', variants);
    }
    default:
      return new AppError(error.code, error.code === 'ERR_UPLOAD_NOT_FOUND' ? 'There is no such file.' : error.message);
  }
}

/** Runs a lookup for a public media request, its errors reduced to what the public may know. */
async function publicly<T>(lookup: () => Promise<T>): Promise<T> {
  try {
    return await lookup();
  } catch (error) {
    throw error instanceof AppError ? publicMediaError(error.toBody()) : error;
  }
}

/** The session's answer for a public media request, errors reduced to what the public may know. */
export async function publicMediaInfo(env: Env, id: string, variant?: string): Promise<MediaInfo> {
  return publicly(async () => unwrap(await sessionStub(env, id).media(variant)));
}

const variantSchema = z.string().regex(/^[a-z0-9-]{1,32}$/, 'not a variant name');
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Derivatives never change under their URL, so their bytes may come from the Cache API; but the
 * session is asked first, so a deleted upload or a variant it no longer has is never served.
 */
media.on(['GET', 'HEAD'], '/:id/:variant', async (c) => {
  const id = parseWith(uploadIdSchema, c.req.param('id'), 'upload id');
  const variant = parseWith(variantSchema, c.req.param('variant'), 'variant');
  // The session first (a deleted upload or a variant it no longer has is never served from cache).
  const info = await publicly(() => variantToServe(c.env, id, variant, c.req.header('accept')));
  const cacheControl = await mediaCacheControl(c, id, variant, info.visibility, IMMUTABLE);
  const cache = typeof caches !== 'undefined' ? caches.default : undefined;
  const conditional = ['range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'].some((h) => c.req.header(h) !== undefined);
  // A private file's response is never put in, nor answered from, the shared cache.
  const cacheable = c.req.method === 'GET' && !conditional && info.visibility !== 'private';
  const cacheKey = formatCacheKey(c.req.raw); // one entry per format (WebP, AVIF, JPEG)
  if (cache && cacheable) {
    const hit = await cache.match(cacheKey);
    // A fresh Response: the cached one's headers are immutable, and the middleware adds to them.
    if (hit) return new Response(hit.body, hit);
  }
  const response = await serveObject(c.req.raw, info, cacheControl, new R2Store(c.env.BUCKET));
  response.headers.set('Vary', 'Accept');
  if (cache && cacheable && response.status === 200) c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  return response;
});

media.on(['GET', 'HEAD'], '/:id', async (c) => {
  const id = parseWith(uploadIdSchema, c.req.param('id'), 'upload id');
  const info = await publicMediaInfo(c.env, id);
  const cacheControl = await mediaCacheControl(c, id, undefined, info.visibility, loadConfig(c.env).originalsCacheControl);
  return serveObject(c.req.raw, info, cacheControl, new R2Store(c.env.BUCKET));
});

const unsatisfiable = (message: string, size: number) =>
  new AppError('ERR_RANGE_NOT_SATISFIABLE', message, undefined, { 'Content-Range': `bytes */${size}` });

/**
 * One R2 object as an HTTP response: ETag, Last-Modified, Range (206/416), If-Range, and the
 * conditionals (304/412) evaluated here per RFC 9110 rather than handed to R2, which throws on
 * a malformed If-None-Match.
 */
export async function serveObject(request: Request, info: MediaInfo, cacheControl: string, store: R2Store): Promise<Response> {
  const rangeHeader = request.headers.get('range')?.trim() || undefined;
  if (rangeHeader && !/^bytes=(\d+-\d*|-\d+)$/.test(rangeHeader)) {
    throw unsatisfiable('Only a single byte range ("bytes=start-end") is supported.', info.size);
  }
  const bounds = rangeHeader ? /^bytes=(\d*)-(\d*)$/.exec(rangeHeader) : null;
  const from = bounds?.[1] ? Number(bounds[1]) : null;
  const to = bounds?.[2] ? Number(bounds[2]) : null;
  // "bytes=5-1" (end before start) and "bytes=-0" (an empty suffix) select nothing.
  if ((from !== null && to !== null && to < from) || (from === null && to === 0)) throw unsatisfiable('The range selects no bytes.', info.size);
  if (from !== null && from >= info.size) throw unsatisfiable(`The range starts past the end (${info.size} bytes).`, info.size);

  // If-Range needs the current validators before the read decides between a part and the whole.
  let useRange = rangeHeader !== undefined;
  if (useRange && request.headers.has('if-range')) {
    const head = await store.head(info.key);
    if (!head) throw new AppError('ERR_NOT_FOUND', 'The stored file is missing.');
    useRange = ifRangeHolds(request.headers.get('if-range'), { etag: head.httpEtag, lastModified: head.uploaded });
  }
  // Only the Range goes to R2 (as `range` and, harmlessly, `onlyIf`): no conditional headers.
  const object = await store.get(info.key, new Headers(useRange ? { range: rangeHeader! } : {}));
  if (!object) throw new AppError('ERR_NOT_FOUND', 'The stored file is missing.');
  const body = 'body' in object ? object.body : null;

  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set('Content-Type', info.type);
  headers.set('ETag', object.httpEtag);
  headers.set('Accept-Ranges', 'bytes');
  headers.set('Cache-Control', cacheControl);
  headers.set('Last-Modified', object.uploaded.toUTCString());
  headers.set('Content-Disposition', disposition(info.name, info.type));
  protect(headers);

  const precondition = evaluatePreconditions(request.headers, request.method, { etag: object.httpEtag, lastModified: object.uploaded });
  if (precondition !== 'proceed' || request.method === 'HEAD') body?.cancel().catch(() => undefined);
  if (precondition === 'not-modified') return new Response(null, { status: 304, headers });
  if (precondition === 'failed') throw new AppError('ERR_PRECONDITION_FAILED', 'The stored file does not match the request preconditions.');
  const payload = request.method === 'HEAD' ? null : body;
  if (useRange && object.range) {
    const { start, end } = contentRange(object.range, object.size);
    headers.set('Content-Range', `bytes ${start}-${end}/${object.size}`);
    headers.set('Content-Length', String(end - start + 1));
    return new Response(payload, { status: 206, headers });
  }
  headers.set('Content-Length', String(object.size));
  return new Response(payload, { status: 200, headers });
}
