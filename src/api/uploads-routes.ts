/**
 * @module The native upload API: create, inspect, send parts, complete, delete, and the events
 * stream. Parses and renders only; the session owns state, R2Store owns the bytes.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { loadConfig } from '../config';
import { bytesEqual, parseContentDigest } from '../domain/content-digest';
import { encodeBase64Url } from '../domain/base64url';
import { AppError, unwrap } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import { partBody } from '../storage/part-body';
import { R2Store } from '../storage/r2-store';
import type { AppEnv } from './app-env';
import { requireCapability, requirePrincipal } from './auth';
import { importStatus, resumeImport, startImport } from './import-upload';
import { openUpload, type OpenedUpload } from './open-upload';
import { enforceCreateLimit, enforcePartLimit } from './rate-limit';
import { FIRST_DIRECT_PARTS, presignParts, requireDirectUploads } from './direct-parts';
import { createUploadSchema, directPartSchema, directPartsSchema, importUploadSchema, partNumberSchema, presignExpirySchema, presignRangeSchema, uploadIdSchema } from './schemas';
import { parseJsonBody, parsePartNumber, parseWith } from './validation';

export const uploads = new Hono<AppEnv>();

const uploadIdOf = (c: Context<AppEnv>) => parseWith(uploadIdSchema, c.req.param('id'), 'upload id');

/** The create answer, for uploads sent by the client and imported from a URL alike. */
function created(c: Context<AppEnv>, { id, key, manifest, uploadToken }: OpenedUpload) {
  const self = new URL(`/api/uploads/${id}`, c.req.url).toString();
  c.header('Location', self);
  return {
    id,
    key,
    state: manifest.state,
    name: manifest.name,
    size: manifest.size,
    partSize: manifest.partSize,
    partCount: manifest.partCount,
    expiresAt: manifest.expiresAt,
    uploadToken,
    urls: { self, parts: `${self}/parts/{partNumber}`, complete: `${self}/complete`, events: `${self}/events`, import: `${self}/import` },
  };
}

uploads.post('/', requirePrincipal(), async (c) => {
  await enforceCreateLimit(c, c.get('owner'));
  const raw = await parseJsonBody(c, z.unknown());
  // `{ sourceUrl, name?, type? }`: the Worker fetches the file itself (src/api/import-upload.ts).
  if (typeof raw === 'object' && raw !== null && 'sourceUrl' in raw) {
    const body = parseWith(importUploadSchema, raw, 'request body');
    const { opened, record } = await startImport(c.env, c.executionCtx, { ...body, owner: c.get('owner'), grant: c.get('grant') });
    return c.json({ ...created(c, opened), import: { state: record.state, sourceUrl: record.sourceUrl, size: record.size } }, 201);
  }
  const { direct, ...body } = parseWith(createUploadSchema, raw, 'request body');
  if (direct) requireDirectUploads(c.env);
  const opened = await openUpload(c.env, { ...body, owner: c.get('owner'), grant: c.get('grant') });
  const answer = created(c, opened);
  if (!direct || opened.manifest.partCount === null) return c.json(answer, 201);
  // Direct mode: the first parts' URLs come with the answer, saving the first presign round trip.
  const parts = await presignParts(c, opened.id, 1, Math.min(FIRST_DIRECT_PARTS, opened.manifest.partCount), 900);
  return c.json({ ...answer, direct: { parts, presign: `${answer.urls.self}/parts/presign`, etags: `${answer.urls.self}/parts/etags` } }, 201);
});

uploads.get('/:id/import', async (c) => {
  const id = uploadIdOf(c);
  const claims = await requireCapability(c, id);
  c.header('Cache-Control', 'no-store');
  return c.json(await importStatus(c.env, id, claims.sub));
});

uploads.post('/:id/import', async (c) => {
  const id = uploadIdOf(c);
  const claims = await requireCapability(c, id);
  return c.json(await resumeImport(c.env, c.executionCtx, id, claims.sub), 202);
});

uploads.get('/:id', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  c.header('Cache-Control', 'no-store');
  return c.json(unwrap(await sessionStub(c.env, id).manifest()));
});

/**
 * The ETags of many direct parts in one request, recorded in order; the last part of a planned
 * upload starts assembly as usual. Registered before PUT …/parts/:n, which "etags" would match.
 */
uploads.put('/:id/parts/etags', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  requireDirectUploads(c.env);
  const { parts } = await parseJsonBody(c, directPartsSchema);
  return c.json(unwrap(await sessionStub(c.env, id).confirmDirectParts(parts)));
});

/** The hot path: verify locally, claim the part, stream into R2, confirm. Two small RPCs. */
uploads.put('/:id/parts/:n', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parsePartNumber(partNumberSchema, c.req.param('n'));
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
  // The rate limit (a round trip once per batch of a client's parts) and the claim are independent: ask both at once.
  const [limited, begun] = await Promise.allSettled([
    enforcePartLimit(c, claims.sub),
    session.claimPart(partNumber, length),
  ]);
  if (limited.status === 'rejected') {
    if (begun.status === 'fulfilled' && begun.value.ok && begun.value.value.kind === 'claimed') {
      c.executionCtx.waitUntil(session.releasePart(partNumber, begun.value.value.claimId).catch(() => undefined));
    }
    throw limited.reason;
  }
  if (begun.status === 'rejected') throw begun.reason;
  const claim = unwrap(begun.value);
  if (claim.kind === 'confirmed') {
    const { kind: _kind, ...receipt } = claim;
    return c.json(receipt);
  }
  const body = c.req.raw.body;
  try {
    if (!body) throw new AppError('ERR_PART_SIZE', 'The part body is empty.');
    const piped = partBody(body, length, digest.sha256 !== null);
    const stored = await new R2Store(c.env.BUCKET).uploadPart(claim.key, claim.r2UploadId, partNumber, piped.stream);
    const sha256 = piped.digest ? await piped.digest : null;
    if (sha256 && !bytesEqual(sha256, digest.sha256!)) {
      throw new AppError('ERR_DIGEST_MISMATCH', `Part ${partNumber} does not match its Content-Digest; it was not recorded.`);
    }
    const receipt = unwrap(
      await session.confirmPart({
        requestId: c.get('requestId'),
        partNumber,
        size: length,
        etag: stored.etag,
        digest: sha256 ? encodeBase64Url(sha256) : null,
        claimId: claim.claimId,
      }),
    );
    c.header('ETag', `"${receipt.etag}"`);
    return c.json(receipt);
  } catch (error) {
    c.executionCtx.waitUntil(session.releasePart(partNumber, claim.claimId).catch(() => undefined));
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
 * The client then reports R2's ETag with PUT …/parts/:n/etag (or many at once with PUT
 * …/parts/etags); R2 checks it at completion.
 */
uploads.post('/:id/parts/:n/presign', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parsePartNumber(partNumberSchema, c.req.param('n'));
  const claims = await requireCapability(c, id);
  await enforcePartLimit(c, claims.sub);
  const expiresIn = parseWith(presignExpirySchema, c.req.query('expiresIn'), 'expiresIn') ?? 900;
  const [part] = await presignParts(c, id, partNumber, partNumber, expiresIn);
  return c.json(part);
});

/** A range of parts in one request: `{ from, to }` in the body or `?parts=1-8`; counts as one part request against the rate limit. */
uploads.post('/:id/parts/presign', async (c) => {
  const id = uploadIdOf(c);
  const claims = await requireCapability(c, id);
  requireDirectUploads(c.env);
  const query = c.req.query('parts');
  const range = query !== undefined ? parseWith(presignRangeSchema, query, 'parts') : await parseJsonBody(c, presignRangeSchema);
  await enforcePartLimit(c, claims.sub);
  const expiresIn = parseWith(presignExpirySchema, c.req.query('expiresIn'), 'expiresIn') ?? 900;
  return c.json({ parts: await presignParts(c, id, range.from, range.to, expiresIn) });
});

uploads.put('/:id/parts/:n/etag', async (c) => {
  const id = uploadIdOf(c);
  const partNumber = parsePartNumber(partNumberSchema, c.req.param('n'));
  await requireCapability(c, id);
  requireDirectUploads(c.env);
  const { etag } = await parseJsonBody(c, directPartSchema);
  return c.json(unwrap(await sessionStub(c.env, id).confirmDirectPart(partNumber, etag, undefined, c.get('requestId'))));
});

uploads.post('/:id/complete', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  return c.json(unwrap(await sessionStub(c.env, id).complete(c.get('requestId'))), 202);
});

uploads.delete('/:id', async (c) => {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  return c.json(unwrap(await sessionStub(c.env, id).abort(c.get('requestId'))));
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
