/**
 * @module The IETF resumable-upload draft (interop version 8) over the same upload session as
 * tus and the native API: creation, offset retrieval, append, cancellation. Each check quotes the
 * draft sentence it enforces. The session keeps the offset and serialises appends (its stream
 * lock); the stream writer cuts bodies into R2 parts.
 */
import type { Context } from 'hono';
import { loadConfig } from '../../config';
import { AppError, unwrap, type Result } from '../../domain/errors';
import { sessionStub } from '../../durable/session-stub';
import { isAccepting } from '../../contracts/upload-states';
import type { AppEnv } from '../app-env';
import { requireCapability } from '../auth';
import { openUpload } from '../open-upload';
import { enforceCreateLimit, enforcePartLimit } from '../rate-limit';
import { writeStream, type StreamWriteResult } from '../stream-writer';
import { metadataFromHeader, uploadIdOf, uploadUrl } from '../tus/handlers';
import { integerHeader, MAX_CHUNK_BYTES } from '../tus/protocol';
import { uploadLimits } from './limits';
import { CURRENT_INTEROP_VERSION, dispositionFilename, serializeLimits, sfBoolean, sfBooleanText, sfInteger } from './protocol';

type DraftContext = Context<AppEnv>;

/** Media types that say nothing about the representation (a client that labels bytes generically). */
const GENERIC_TYPES = ['', 'application/octet-stream', 'application/partial-upload'];

function limitsHeader(c: DraftContext, expiresAt?: string): string {
  return serializeLimits(uploadLimits(loadConfig(c.env), expiresAt));
}

/** `Upload-Complete` is required on creation and append: "The request MUST include the Upload-Complete header field." */
function requireComplete(c: DraftContext): boolean {
  const complete = sfBoolean(c.req.header('upload-complete') ?? null);
  if (complete === null) throw new AppError('ERR_VALIDATION', 'Send Upload-Complete: ?1 (this request ends the upload) or ?0.');
  return complete;
}

/** Content-Length, when the client sent one (a chunked body has none). */
function contentLengthOf(c: DraftContext): number | null {
  const length = integerHeader(c.req.header('content-length') ?? null);
  if (Number.isNaN(length)) throw new AppError('ERR_VALIDATION', 'Content-Length must be a whole number of bytes.');
  return length;
}

/**
 * The length a request indicates, from "(1) … Upload-Complete … true and a valid Content-Length
 * … the sum of the current offset … and the Content-Length" and "(2) … the Upload-Length header
 * field". "If indicators (1) and (2) are both present in the same request, their indicated lengths
 * MUST match."
 */
function indicatedLength(c: DraftContext, offset: number, complete: boolean, contentLength: number | null): number | null {
  const declared = sfInteger(c.req.header('upload-length') ?? null);
  const fromContent = complete && contentLength !== null ? offset + contentLength : null;
  if (declared !== null && fromContent !== null && declared !== fromContent) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `Upload-Length says ${declared} bytes, Upload-Complete with Content-Length says ${fromContent}.`);
  }
  return declared ?? fromContent;
}

/** "A server … can respond with a 413 … SHOULD include the Upload-Limit header field in this response." */
function checkAppendSize(c: DraftContext, contentLength: number | null, complete: boolean, creation: boolean): void {
  if (contentLength !== null && contentLength > MAX_CHUNK_BYTES) {
    throw new AppError(
      'ERR_PAYLOAD_TOO_LARGE',
      `One request may carry at most ${MAX_CHUNK_BYTES} bytes (Upload-Limit max-append-size); append the rest in further requests.`,
      { maxAppendSize: MAX_CHUNK_BYTES },
      { 'Upload-Limit': limitsHeader(c) },
    );
  }
  // min-append-size=1: "This limit does not apply to upload creation requests with no content, or
  // to requests completing the upload by including the Upload-Complete: ?1 header field."
  if (!creation && !complete && contentLength === 0) {
    throw new AppError('ERR_VALIDATION', 'An append that does not complete the upload must carry at least 1 byte (Upload-Limit min-append-size).');
  }
}

/**
 * Streams a body into the upload. "If the length is known, the server MUST prevent the offset from
 * exceeding the upload length by rejecting the request once the offset exceeds the length, marking
 * the upload resource invalid and rejecting any further interaction with it."
 */
async function append(c: DraftContext, id: string, offset: number, body: ReadableStream<Uint8Array> | null): Promise<StreamWriteResult> {
  try {
    return await writeStream(c.env, id, offset, body, { requestId: c.get('requestId') });
  } catch (error) {
    if (error instanceof AppError && error.code === 'ERR_PAYLOAD_TOO_LARGE') {
      await sessionStub(c.env, id).abort();
      throw new AppError('ERR_INCONSISTENT_LENGTH', `${error.message} The upload was cancelled.`);
    }
    if (error instanceof AppError && error.code === 'ERR_OFFSET_MISMATCH') {
      // Another append moved the offset between our check and the lock.
      throw mismatch(Number(error.details?.offset), offset);
    }
    throw error;
  }
}

/**
 * "If the Upload-Offset request header field value does not match the current offset …, the server
 * MUST reject the request with a 409 (Conflict) status code and the Upload-Complete header field set
 * to false. The response MUST include the correct offset in the Upload-Offset header field."
 */
function mismatch(expected: number, provided: number): AppError {
  return new AppError(
    'ERR_OFFSET_MISMATCH',
    `The upload is at offset ${expected}, not ${provided}.`,
    { expectedOffset: expected, providedOffset: provided },
    { 'Upload-Offset': String(expected), 'Upload-Complete': '?0' },
  );
}

/**
 * When a request ended the upload with no length known ("the server might not know the length until
 * the upload is complete"), the length is what arrived: record it, then let the writer close the
 * last part (it holds the tail that did not fill a part).
 */
async function completeAtOffset(c: DraftContext, id: string, offset: number): Promise<StreamWriteResult> {
  unwrap(await sessionStub(c.env, id).declareSize(offset, c.get('requestId')));
  return append(c, id, offset, null);
}

/** The answer when the upload just became (or already was) complete: what the targeted resource produces. */
function completedResponse(c: DraftContext, id: string, status: 200 | 201): Response {
  c.header('Upload-Complete', '?1');
  const media = new URL(`/media/${id}`, c.req.url).toString();
  return c.json({ id, state: 'assembling', url: media }, status);
}

/** POST /files/ with Upload-Draft-Interop-Version: 8 — Upload Creation. */
export async function createHandler(c: DraftContext): Promise<Response> {
  await enforceCreateLimit(c, c.get('owner'));
  const complete = requireComplete(c);
  const contentLength = contentLengthOf(c);
  checkAppendSize(c, contentLength, complete, true);
  // "The server MUST record the length according to {{upload-length}} if the Upload-Length or Upload-Complete: ?1 header fields are included."
  const size = indicatedLength(c, 0, complete, contentLength);
  if (size !== null && contentLength !== null && contentLength > size) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `The request carries ${contentLength} bytes of a ${size}-byte upload.`);
  }
  // Representation metadata: "The Content-Type header field … indicates the media type of the
  // representation"; "The Content-Disposition header field … can be used to transmit a filename."
  // Upload-Metadata (tus style) is read too, within the same limits as everywhere.
  const metadata = metadataFromHeader(c.req.header('upload-metadata') ?? null);
  const contentType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const type = GENERIC_TYPES.includes(contentType) ? (metadata.filetype ?? metadata.type ?? contentType) : contentType;
  const name = dispositionFilename(c.req.header('content-disposition') ?? null) ?? metadata.filename ?? metadata.name ?? 'file';

  const opened = await openUpload(c.env, { owner: c.get('owner'), name, type, size, metadata });
  // "the server MUST include the Location response header field pointing to the upload resource and
  // MUST include the Upload-Limit header field with the corresponding limits if existing."
  c.header('Location', uploadUrl(c, opened.id, opened.uploadToken));
  c.header('Upload-Limit', limitsHeader(c, opened.manifest.expiresAt));
  // 104 (Upload Resumption Supported) is not sent: "unless the server is not capable of sending
  // interim responses" — a Worker returns one final Response (see README, IETF section).

  const body = c.req.raw.body;
  let result: StreamWriteResult | null = null;
  if (body && contentLength !== 0) result = await append(c, opened.id, 0, body);
  const offset = result?.offset ?? 0;
  if (complete && result && !result.truncated && !result.complete && size === null) result = await completeAtOffset(c, opened.id, offset);
  if (complete && size !== null && !result?.complete && !result?.truncated) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `Upload-Complete: ?1, but ${offset} of ${size} bytes arrived.`, undefined, { 'Upload-Offset': String(offset) });
  }
  c.header('Upload-Offset', String(result?.offset ?? 0));
  if (result?.complete) return completedResponse(c, opened.id, 201);
  // "In this case, … the upload resource MUST NOT be considered complete then."
  c.header('Upload-Complete', '?0');
  return c.body(null, 201);
}

/**
 * HEAD (and GET) on the upload resource — Offset Retrieval: "MUST include the offset in the
 * Upload-Offset header field, MUST include the Upload-Complete header field …, MUST include the length
 * in the Upload-Length header field, unless the client has not supplied one, …, MUST indicate the
 * limits in the Upload-Limit header field, and SHOULD include the Cache-Control header field with the
 * value no-store".
 */
export async function offsetHandler(c: DraftContext): Promise<Response> {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  const session = sessionStub(c.env, id);
  const status = unwrap(await session.streamStatus());
  if (isAccepting(status.state)) requireNoWriteInProgress(status);
  c.header('Upload-Offset', String(status.offset));
  c.header('Upload-Complete', sfBooleanText(status.size !== null && status.offset === status.size));
  if (status.size !== null) c.header('Upload-Length', String(status.size));
  c.header('Upload-Limit', limitsHeader(c, status.expiresAt));
  c.header('Cache-Control', 'no-store');
  return c.body(null, 204);
}

/**
 * "the server MUST NOT send outdated information in responses when retrieving the offset … the offset
 * sent by the server MUST be accepted in a subsequent request to append representation data". While
 * an append is still running (the client gave up on it, the server has not noticed yet) the offset
 * can still move, so the answer is "locked, retry shortly" — the draft's access-lock approach,
 * without holding the request.
 */
function requireNoWriteInProgress(status: { writing: boolean }): void {
  if (status.writing) {
    throw new AppError('ERR_UPLOAD_LOCKED', 'An append to this upload is still running; ask for the offset again shortly.', undefined, { 'Retry-After': '1' });
  }
}

/** PATCH with application/partial-upload — Upload Append. */
export async function appendHandler(c: DraftContext): Promise<Response> {
  const id = uploadIdOf(c);
  const claims = await requireCapability(c, id);
  // "A client can continue the upload … by sending a PATCH request with the application/partial-upload media type".
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/partial-upload') {
    throw new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Appends are PATCH requests with Content-Type: application/partial-upload.');
  }
  // "The client MUST indicate the offset of the request content … by including the Upload-Offset header field."
  const offset = sfInteger(c.req.header('upload-offset') ?? null);
  if (offset === null) throw new AppError('ERR_VALIDATION', 'Send Upload-Offset (the offset this content starts at, an Integer).');
  const complete = requireComplete(c);
  await enforcePartLimit(c, claims.sub);
  const contentLength = contentLengthOf(c);

  const session = sessionStub(c.env, id);
  const status = unwrap(await session.streamStatus());
  const alreadyComplete = status.size !== null && status.offset === status.size;
  if (alreadyComplete && offset === status.offset && complete && contentLength === 0) {
    // "The server can choose to replay the final response to the client if the request to append to
    // the completed upload is valid": an empty Upload-Complete: ?1 at the end (e.g. after all bytes
    // went with ?0, or the last response was lost).
    c.header('Upload-Offset', String(status.offset));
    return completedResponse(c, id, 200);
  }
  if (alreadyComplete) {
    throw new AppError('ERR_UPLOAD_COMPLETED', 'This upload is complete; nothing more can be appended.', undefined, { 'Upload-Complete': '?0' });
  }
  if (offset !== status.offset) throw mismatch(status.offset, offset);
  checkAppendSize(c, contentLength, complete, false);
  // "If multiple requests include indicators, their indicated values MUST match."
  const size = indicatedLength(c, offset, complete, contentLength);
  if (size !== null && status.size !== null && size !== status.size) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `The upload's length is ${status.size} bytes, this request indicates ${size}.`);
  }
  if (size !== null && status.size === null) {
    const declared = (await session.declareSize(size, c.get('requestId'))) as Result<unknown>;
    if (!declared.ok && declared.error.code === 'ERR_VALIDATION') throw new AppError('ERR_INCONSISTENT_LENGTH', declared.error.message);
    unwrap(declared);
  }
  if (size !== null && contentLength !== null && offset + contentLength > size) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `${contentLength} bytes at offset ${offset} pass the upload's length of ${size}.`);
  }

  let result = await append(c, id, offset, contentLength === 0 ? null : c.req.raw.body);
  if (complete && !result.truncated && !result.complete && size === null && status.size === null) {
    result = await completeAtOffset(c, id, result.offset);
  }
  c.header('Upload-Offset', String(result.offset));
  if (result.complete) {
    // "the response MUST include the Upload-Complete header field with a true value".
    if (complete) return completedResponse(c, id, 200);
    // All bytes are in although the client did not say ?1: the upload is processed now (the session
    // assembles on the last byte); a later empty ?1 append gets the final answer replayed.
    c.header('Upload-Complete', '?0');
    return c.body(null, 204);
  }
  if (complete && !result.truncated) {
    throw new AppError('ERR_INCONSISTENT_LENGTH', `Upload-Complete: ?1, but the upload is at ${result.offset} of ${status.size ?? size} bytes.`, undefined, {
      'Upload-Offset': String(result.offset),
    });
  }
  // "If the Upload-Complete request header field is set to false, … the server acknowledges the
  // appended data by sending a 2xx (Successful) response with the Upload-Complete header field set to false."
  c.header('Upload-Complete', '?0');
  return c.body(null, 204);
}

/** DELETE — Upload Cancellation: "Upon receiving a DELETE request, the server SHOULD deactivate the upload resource." */
export async function cancelHandler(c: DraftContext): Promise<Response> {
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  unwrap(await sessionStub(c.env, id).abort(c.get('requestId')));
  return c.body(null, 204);
}

/** OPTIONS: the limits, which the draft requires ("the server MUST include the Upload-Limit header field"). */
export function optionsHandler(c: DraftContext): Response {
  c.header('Upload-Limit', limitsHeader(c));
  c.header('Upload-Draft-Interop-Version', CURRENT_INTEROP_VERSION);
  return c.body(null, 204);
}
