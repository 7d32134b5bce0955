/**
 * @module The Uppy/Companion S3 API (`@uppy/aws-s3` with `companionEndpoint`) over the same upload
 * session as the native API: create a multipart upload, sign a URL per part (our own part endpoint,
 * or R2's S3 API in direct mode), list, complete with the part list, abort; and `/s3/params` for
 * single-request uploads (an S3 POST-policy-shaped form, see form-upload.ts). Parses and renders
 * only. Creating needs the principal (a bearer JWT: in the Authorization header, or in the path as
 * `/jwt/<JWT>/s3/…` for clients that cannot set headers); every other call is authorised by the
 * capability inside the uploadId.
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loadConfig } from '../../config';
import { AppError, unwrap } from '../../domain/errors';
import { sessionStub } from '../../durable/session-stub';
import type { AppEnv } from '../app-env';
import { requirePrincipal } from '../auth';
import { openUpload } from '../open-upload';
import { enforceCreateLimit, enforcePartLimit } from '../rate-limit';
import { parseJsonBody, parsePartNumber, parseWith } from '../validation';
import { directParts, recordDirectParts, signDirectPart } from './direct-parts';
import { completeMultipartSchema, createMultipartSchema, paramsQuerySchema, s3PartNumberSchema } from './schemas';
import { formatUploadHandle, redactPath, verifyUploadHandle } from './upload-handle';

export const s3 = new Hono<AppEnv>();

/** Part lists of 10,000 parts run to about 600 KB of JSON. */
const COMPLETE_MAX_BYTES = 1024 * 1024;

const principal = requirePrincipal({ token: (c) => c.req.param('jwt') });

const origin = (c: Context<AppEnv>) => new URL(c.req.url).origin;
const handleOf = (c: Context<AppEnv>) => verifyUploadHandle(c.env, c.req.param('uploadId') ?? '', c.req.query('key'));

// Paths carry capabilities: log a redacted one, and let the application's handler render the error.
s3.onError((error, c) => {
  if (error instanceof AppError || error instanceof HTTPException) throw error;
  console.error('unhandled error', c.req.method, redactPath(c.req.path), error);
  throw new AppError('ERR_INTERNAL', 'Something went wrong on our side; try again.');
});

/** createMultipartUpload: `{ filename, type, metadata }` → `{ key, uploadId }`. The size comes with complete. */
s3.post('/multipart', principal, async (c) => {
  await enforceCreateLimit(c, c.get('owner'));
  const body = await parseJsonBody(c, createMultipartSchema);
  const opened = await openUpload(c.env, { owner: c.get('owner'), grant: c.get('grant'), name: body.filename, type: body.type ?? '', size: null, metadata: body.metadata });
  return c.json({ key: opened.id, uploadId: formatUploadHandle(opened.id, opened.uploadToken) });
});

/** signPart: `{ url, expires }`, a URL to PUT part `n` to, answering with its ETag. */
s3.get('/multipart/:uploadId/:partNumber', async (c) => {
  const { id, token, claims } = await handleOf(c);
  const partNumber = parsePartNumber(s3PartNumberSchema, c.req.param('partNumber'));
  const direct = directParts(c.env, origin(c));
  if (direct) {
    await enforcePartLimit(c, claims.sub);
    return c.json(await signDirectPart(c.env, direct, id, partNumber));
  }
  // Our own part endpoint, authorised by the token: valid as long as the token is.
  const url = new URL(`/api/uploads/${id}/parts/${partNumber}`, c.req.url);
  url.searchParams.set('token', token);
  return c.json({ url: url.toString(), expires: Math.max(0, claims.exp - Math.floor(Date.now() / 1000)) });
});

/** listParts: the parts the server has, `[{ PartNumber, ETag, Size }]`, ETags quoted as S3 lists them. */
s3.get('/multipart/:uploadId', async (c) => {
  const { id } = await handleOf(c);
  const session = sessionStub(c.env, id);
  const direct = directParts(c.env, origin(c));
  if (direct) await recordDirectParts(c.env, direct, id);
  c.header('Cache-Control', 'no-store');
  return c.json(unwrap(await session.listParts()).map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"`, Size: p.size })));
});

/**
 * completeMultipartUpload: `{ parts: [{ PartNumber, ETag }] }` → `{ location, key }`. The session
 * checks the list (1..n, ETags, equal sizes but the last), fixes the size and assembles; `location`
 * serves the file once it has been validated (409 ERR_NOT_READY until then).
 */
s3.post('/multipart/:uploadId/complete', async (c) => {
  const { id } = await handleOf(c);
  const { parts } = await parseJsonBody(c, completeMultipartSchema, COMPLETE_MAX_BYTES);
  const session = sessionStub(c.env, id);
  const direct = directParts(c.env, origin(c));
  if (direct) await recordDirectParts(c.env, direct, id);
  // R2 refuses parts under its minimum (all but the last) only when assembling: say so now.
  const sizes = new Map(unwrap(await session.listParts()).map((p) => [p.partNumber, p.size]));
  const last = Math.max(...parts.map((p) => p.PartNumber));
  const min = loadConfig(c.env).partLimits.min;
  for (const { PartNumber } of parts) {
    const size = sizes.get(PartNumber);
    if (PartNumber !== last && size !== undefined && size < min) {
      throw new AppError('ERR_PART_SIZE', `Part ${PartNumber} is ${size} bytes; every part but the last must be at least ${min} bytes (use a getChunkSize of whole MiB, at least 5).`, {
        partNumber: PartNumber,
        size,
        minPartSize: min,
      });
    }
  }
  unwrap(await session.completeWithParts(parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })), c.get('requestId')));
  return c.json({ location: `${origin(c)}/media/${id}`, key: id });
});

/** abortMultipartUpload: `{}` (JSON, as Companion answers). */
s3.delete('/multipart/:uploadId', async (c) => {
  const { id } = await handleOf(c);
  unwrap(await sessionStub(c.env, id).abort(c.get('requestId')));
  return c.json({});
});

/**
 * Single-request uploads: `{ method, url, fields }` for a `multipart/form-data` POST of the fields and
 * then the file to `url`. The upload is opened now (its size comes with the file); `fields.token`
 * is its upload token: signed, expiring, scoped to this one upload, and spent by the first complete
 * POST. Uppy derives the file's URL as `url + "/" + key`: `/media/<id>`, as for multipart uploads.
 */
s3.get('/params', principal, async (c) => {
  await enforceCreateLimit(c, c.get('owner'));
  const url = new URL(c.req.url);
  const metadata: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    const match = /^metadata\[(.+)\]$/.exec(name);
    if (match) metadata[match[1]!] = value;
  }
  const query = parseWith(
    paramsQuerySchema,
    { filename: url.searchParams.get('filename') ?? undefined, type: url.searchParams.get('type') ?? undefined, metadata },
    'query',
  );
  const opened = await openUpload(c.env, { owner: c.get('owner'), grant: c.get('grant'), name: query.filename, type: query.type ?? '', size: null, metadata: query.metadata });
  c.header('Cache-Control', 'no-store');
  return c.json({ method: 'POST', url: `${origin(c)}/media`, fields: { key: opened.id, token: opened.uploadToken }, headers: {} });
});
