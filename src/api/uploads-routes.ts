/**
 * @module The native upload API: create, inspect, send parts, complete, delete, and the events
 * stream. Parses and renders only; the session owns state, R2Store owns the bytes.
 */
import { Hono, type Context } from 'hono';
import { loadConfig } from '../config';
import { bytesEqual, parseContentDigest } from '../domain/content-digest';
import { encodeBase64Url } from '../domain/base64url';
import { AppError, unwrap } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import { partBody } from '../storage/part-body';
import { presignUploadPart } from '../storage/presign';
import { R2Store } from '../storage/r2-store';
import type { AppEnv } from './app-env';
import { requireCapability, requirePrincipal } from './auth';
import { openUpload } from './open-upload';
import { enforceRateLimit } from './rate-limit';
import { createUploadSchema, directPartSchema, partNumberSchema, presignExpirySchema, uploadIdSchema } from './schemas';
import { parseJsonBody, parseWith } from './validation';

export const uploads = new Hono<AppEnv>();

const uploadIdOf = (c: Context<AppEnv>) => parseWith(uploadIdSchema, c.req.param('id'), 'upload id');

uploads.post('/', requirePrincipal(), async (c) => {
  await enforceRateLimit(c, 'create', { owner: c.env.CREATE_LIMIT_OWNER, ip: c.env.CREATE_LIMIT_IP }, c.get('owner'));
  const body = await parseJsonBody(c, createUploadSchema);
  const { id, key, manifest, uploadToken } = await openUpload(c.env, { ...body, owner: c.get('owner'), grant: c.get('grant') });
  const self = new URL(`/api/uploads/${id}`, c.req.url).toString();
  c.header('Location', self);
  return c.json(
    {
      id,
      key,
      state: manifest.state,
      name: manifest.name,
      size: manifest.size,
      partSize: manifest.partSize,
      partCount: manifest.partCount,
      expiresAt: manifest.expiresAt,
      uploadToken,
      urls: { self, parts: `${self}/parts/{partNumber}`, complete: `${self}/complete`, events: `${self}/events` },
    },
    201,
  );
});

uploads.get('/:id', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  c.header('Cache-Control', 'no-store');
  return c.json(unwrap(await sessionStub(c.env, id).manifest()));
});

/** The hot path: verify locally, lease the part, stream into R2, commit. Two small RPCs. */
uploads.put('/:id/parts/:n', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parseWith(partNumberSchema, c.req.param('n'), 'part number');
  const claims = await requireCapability(c, id);
  const lengthHeader = c.req.header('content-length');
  if (lengthHeader === undefined || !/^[0-9]+$/.test(lengthHeader)) {
    throw new AppError('ERR_LENGTH_REQUIRED', 'Parts need a Content-Length header: R2 stores bodies of a known length.');
  }
  const length = Number(lengthHeader);
  const limits = loadConfig(c.env).partLimits;
  if (length > limits.max) throw new AppError('ERR_PART_TOO_LARGE', `A part is at most ${limits.max} bytes.`);
  const digest = parseContentDigest(c.req.header('content-digest'));
  if (!digest.ok) throw new AppError('ERR_DIGEST_INVALID', 'Content-Digest must look like "sha-256=:<base64>:" (RFC 9530).');

  const session = sessionStub(c.env, id);
  // The rate limiter and the lease are independent round trips: ask both at once.
  const [limited, begun] = await Promise.allSettled([
    enforceRateLimit(c, 'part', { owner: c.env.PART_LIMIT, ip: c.env.PART_LIMIT }, claims.sub),
    session.beginPart(partNumber, length),
  ]);
  if (limited.status === 'rejected') {
    if (begun.status === 'fulfilled' && begun.value.ok && begun.value.value.kind === 'lease') {
      c.executionCtx.waitUntil(session.releasePart(partNumber, begun.value.value.leaseId).catch(() => undefined));
    }
    throw limited.reason;
  }
  if (begun.status === 'rejected') throw begun.reason;
  const lease = unwrap(begun.value);
  if (lease.kind === 'confirmed') {
    const { kind: _kind, ...receipt } = lease;
    return c.json(receipt);
  }
  const body = c.req.raw.body;
  try {
    if (!body) throw new AppError('ERR_PART_SIZE', 'The part body is empty.');
    const piped = partBody(body, length, digest.sha256 !== null);
    const stored = await new R2Store(c.env.BUCKET).uploadPart(lease.key, lease.r2UploadId, partNumber, piped.stream);
    const sha256 = piped.digest ? await piped.digest : null;
    if (sha256 && !bytesEqual(sha256, digest.sha256!)) {
      throw new AppError('ERR_DIGEST_MISMATCH', `Part ${partNumber} does not match its Content-Digest; it was not recorded.`);
    }
    const receipt = unwrap(
      await session.commitPart({
        partNumber,
        size: length,
        etag: stored.etag,
        digest: sha256 ? encodeBase64Url(sha256) : null,
        leaseId: lease.leaseId,
      }),
    );
    c.header('ETag', `"${receipt.etag}"`);
    return c.json(receipt);
  } catch (error) {
    c.executionCtx.waitUntil(session.releasePart(partNumber, lease.leaseId).catch(() => undefined));
    if (error instanceof AppError) throw error;
    // R2 refused the stream. A body that ended early (client aborted) or ran long is the client's;
    // anything else is storage trouble the client may retry.
    const cause = String(error).slice(0, 200);
    if (/length|stream|body|aborted|disconnected/i.test(cause)) {
      throw new AppError('ERR_PART_SIZE', `Part ${partNumber} was not stored: the body did not arrive as ${length} bytes.`, { cause });
    }
    throw new AppError('ERR_STORAGE', `Part ${partNumber} was not stored; send it again.`, { cause });
  }
});

/**
 * Direct-to-R2 mode: a presigned S3 UploadPart URL for one part, so the bytes skip the Worker.
 * The client then reports R2's ETag with PUT …/parts/:n/etag; R2 checks it at completion.
 */
uploads.post('/:id/parts/:n/presign', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parseWith(partNumberSchema, c.req.param('n'), 'part number');
  const claims = await requireCapability(c, id);
  await enforceRateLimit(c, 'part', { owner: c.env.PART_LIMIT, ip: c.env.PART_LIMIT }, claims.sub);
  const direct = loadConfig(c.env).directUploads;
  if (!direct) throw new AppError('ERR_NOT_CONFIGURED', 'Direct-to-R2 uploads are not configured on this server; PUT parts to the API.');
  const expiresIn = parseWith(presignExpirySchema, c.req.query('expiresIn'), 'expiresIn') ?? 900;
  const target = unwrap(await sessionStub(c.env, id).directPartTarget(partNumber));
  const endpoint = direct.endpoint === 'local' ? `${new URL(c.req.url).origin}/cdn-cgi/local/r2/s3` : direct.endpoint;
  const url = await presignUploadPart({ ...direct, endpoint }, { key: target.key, uploadId: target.r2UploadId, partNumber, expiresSeconds: expiresIn });
  return c.json({ partNumber, method: 'PUT', url, size: target.size, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() });
});

uploads.put('/:id/parts/:n/etag', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parseWith(partNumberSchema, c.req.param('n'), 'part number');
  await requireCapability(c, id);
  if (!loadConfig(c.env).directUploads) throw new AppError('ERR_NOT_CONFIGURED', 'Direct-to-R2 uploads are not configured on this server.');
  const { etag } = await parseJsonBody(c, directPartSchema);
  return c.json(unwrap(await sessionStub(c.env, id).recordDirectPart(partNumber, etag)));
});

uploads.post('/:id/complete', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  return c.json(unwrap(await sessionStub(c.env, id).complete()), 202);
});

uploads.delete('/:id', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  return c.json(unwrap(await sessionStub(c.env, id).abort()));
});

/** Events: the Durable Object accepts the WebSocket itself, so the socket can hibernate. */
uploads.get('/:id/events', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  const wantsSocket = c.req.header('upgrade')?.toLowerCase() === 'websocket';
  const wantsStream = (c.req.header('accept') ?? '').includes('text/event-stream');
  if (!wantsSocket && !wantsStream) {
    throw new AppError('ERR_BAD_REQUEST', 'Open this URL as a WebSocket, or with "Accept: text/event-stream" for SSE.');
  }
  return sessionStub(c.env, id).fetch(c.req.raw);
});
