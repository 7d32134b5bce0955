/**
 * @module Import from a URL: the Worker opens the remote file (src/api/import-source.ts), opens an
 * upload for it like any other (allowlist, size limit, quota, session), answers the create request,
 * and streams the body into the upload's R2 parts in the background through the same stream writer
 * tus uses — so progress events, validation, scanning and derivatives are those of any upload.
 *
 * Why the create request waits for the source's response headers (bounded, 15 s) but not its body:
 * a URL that is refused, redirects in a loop, answers 404 or declares a size over the limits fails
 * the create call itself with its `ERR_IMPORT_…` code, and nothing is created; the body then streams
 * in `ctx.waitUntil`. Failures after that end the import record as `failed` with a reason
 * (`GET /api/uploads/:id/import`). A broken connection is retried from the upload's offset with a
 * Range request (up to 3 times automatically, then on `POST /api/uploads/:id/import`) when the
 * source serves ranges; so is an import whose Worker died.
 */
import type { Grant } from '../domain/grant';
import { loadConfig, type AppConfig } from '../config';
import { AppError, unwrap, type ErrorBody } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import { isAccepting } from '../contracts/upload-states';
import { originalKey, ownerSegment } from '../storage/object-keys';
import { R2Store } from '../storage/r2-store';
import { readImportRecord, writeImportRecord, type ImportRecord } from './import-record';
import { openSource, type OpenedSource } from './import-source';
import { openUpload, type OpenedUpload } from './open-upload';
import { writeStream } from './stream-writer';

/** How long the create request waits for the source's status and headers. */
const HEADERS_TIMEOUT_MS = 15_000;
/** Attempts per run: the first, and retries after a broken connection (with Range). */
const ATTEMPTS_PER_RUN = 3;

export interface ImportRequest {
  owner: string;
  sourceUrl: string;
  name?: string;
  type?: string;
  sha256?: string;
  metadata?: Record<string, string>;
  partSize?: number;
  /** The creator token's upload grant: an import is held to it like any upload. */
  grant?: Grant;
}

/** What the import needs of the request's context: to keep working after the response. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}

export interface StartedImport {
  opened: OpenedUpload;
  record: ImportRecord;
}

/** A name for the file: the client's, the source's Content-Disposition, or the URL's last path segment. */
function nameFor(request: ImportRequest, source: OpenedSource): string {
  if (request.name) return request.name;
  if (source.filename) return source.filename;
  try {
    const last = decodeURIComponent(new URL(source.url).pathname.split('/').pop() ?? '');
    return last || 'file';
  } catch {
    return 'file';
  }
}

function tooLarge(size: number, config: AppConfig): AppError {
  return new AppError('ERR_IMPORT_TOO_LARGE', `The source's file (${size} bytes) is larger than the limit of ${config.maxFileSize} bytes.`, {
    maxFileSize: config.maxFileSize,
  });
}

/** Opens the source and the upload; the body is left to `runImport`, which `waitUntil` keeps going. */
export async function startImport(env: Env, ctx: Background, request: ImportRequest): Promise<StartedImport> {
  const config = loadConfig(env);
  const deadline = Date.now() + config.imports.timeoutSeconds * 1000;
  const abort = new AbortController();
  const headersTimer = setTimeout(
    () => abort.abort(new AppError('ERR_IMPORT_TIMEOUT', `The source did not answer within ${HEADERS_TIMEOUT_MS / 1000} s.`)),
    Math.min(HEADERS_TIMEOUT_MS, deadline - Date.now()),
  );
  let source: OpenedSource;
  try {
    source = await openSource(request.sourceUrl, config, { signal: abort.signal });
  } finally {
    clearTimeout(headersTimer);
  }
  let opened: OpenedUpload;
  try {
    if (source.size !== null && source.size > config.maxFileSize) throw tooLarge(source.size, config);
    opened = await openUpload(env, {
      owner: request.owner,
      name: nameFor(request, source),
      type: request.type ?? source.type,
      size: source.size,
      sha256: request.sha256,
      metadata: request.metadata,
      partSize: request.partSize,
      grant: request.grant,
    });
  } catch (error) {
    await source.body.cancel().catch(() => undefined);
    throw error;
  }
  const store = new R2Store(env.BUCKET);
  const record = await writeImportRecord(store, opened.key, {
    v: 1,
    uploadId: opened.id,
    owner: request.owner,
    sourceUrl: request.sourceUrl,
    size: source.size,
    acceptsRanges: source.acceptsRanges,
    validator: source.validator,
    deadline,
    state: 'running',
    attempts: 1,
    updatedAt: '',
  });
  ctx.waitUntil(runImport(env, opened.key, record, source));
  return { opened, record };
}

/**
 * Counts the bytes on their way to the writer and stops the stream (the writer then keeps what it
 * has, as for a client that went away) when the file passes its declared size or the file size
 * limit. (The owner's storage quota is the session's: it refuses each part that would pass it.)
 */
function byteGuard(record: ImportRecord, config: AppConfig, startOffset: number) {
  const limit = record.size ?? config.maxFileSize;
  let seen = startOffset;
  let control: TransformStreamDefaultController<Uint8Array> | undefined;
  const guard = {
    failure: null as AppError | null,
    /** Ends the stream from outside (the time limit): the writer sees a broken body, the source is cancelled. */
    stop(reason: unknown) {
      control?.error(reason);
    },
    stream: new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        control = controller;
      },
      async transform(chunk, controller) {
        seen += chunk.length;
        if (seen > limit) {
          guard.failure =
            record.size !== null
              ? new AppError('ERR_IMPORT_TOO_LARGE', `The source sent more than the ${record.size} bytes it declared.`)
              : tooLarge(seen, config);
          controller.error(guard.failure);
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  };
  return guard;
}

/** Body errors end as truncation inside the writer, so anything unexpected here is storage or RPC trouble. */
/** Limits the session enforces while the bytes arrive: for an import, the source is too large. */
const TOO_LARGE = new Set(['ERR_QUOTA_STORAGE', 'ERR_FILE_TOO_LARGE', 'ERR_PAYLOAD_TOO_LARGE']);

const asErrorBody = (error: unknown): ErrorBody => {
  if (!(error instanceof AppError)) return { code: 'ERR_STORAGE', message: `The import stopped: ${String(error).slice(0, 200)}` };
  return TOO_LARGE.has(error.code) ? { code: 'ERR_IMPORT_TOO_LARGE', message: error.message, details: error.details } : error.toBody();
};

/** Failures after which a later attempt can still succeed from the upload's offset (given Range support). */
const RETRYABLE = new Set(['ERR_IMPORT_TRUNCATED', 'ERR_IMPORT_UNREACHABLE', 'ERR_STORAGE']);

/**
 * Streams the source into the upload until it is complete, the time limit passes, or a failure
 * that another attempt would not cure. Resumes at the session's offset (confirmed parts plus the
 * staged tail), with `Range` and `If-Range`. Never throws: the outcome goes to the import record,
 * and a final failure aborts the upload so nothing it stored outlives it.
 */
export async function runImport(env: Env, uploadKey: string, initial: ImportRecord, first?: OpenedSource): Promise<ImportRecord> {
  const config = loadConfig(env);
  const store = new R2Store(env.BUCKET);
  const session = sessionStub(env, initial.uploadId);
  let record = initial;
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new AppError('ERR_IMPORT_TIMEOUT', `The import took longer than ${config.imports.timeoutSeconds} s.`)),
    Math.max(0, record.deadline - Date.now()),
  );
  let source = first ?? null;
  try {
    for (let attempt = 0; ; attempt++) {
      if (abort.signal.aborted) throw abort.signal.reason;
      const status = unwrap(await session.streamStatus());
      if (!isAccepting(status.state)) {
        // Complete already (a resumption raced a finished run), or cancelled by the client.
        if (status.size !== null && status.offset === status.size) return (record = await writeImportRecord(store, uploadKey, { ...record, state: 'done' }));
        throw new AppError('ERR_UPLOAD_STATE', `The upload is ${status.state}; the import stopped.`);
      }
      if (!source) source = await openSource(record.sourceUrl, config, { signal: abort.signal, offset: status.offset, validator: record.validator });
      if (record.size !== null && source.size !== null && source.size !== record.size) {
        throw new AppError('ERR_IMPORT_NOT_RESUMABLE', `The source's file changed size (${record.size} → ${source.size} bytes).`);
      }
      // The first body shares the create request's fetch; its timer covered only the headers.
      const guard = byteGuard(record, config, status.offset);
      const onAbort = () => guard.stop(abort.signal.reason);
      abort.signal.addEventListener('abort', onAbort, { once: true });
      let result;
      try {
        result = await writeStream(env, record.uploadId, status.offset, source.body.pipeThrough(guard.stream));
      } catch (error) {
        // The writer stopped reading: end the pipe, so the source's connection closes now.
        guard.stop(error);
        // The writer's own "past the end" check: the source sent more than it declared.
        if (error instanceof AppError && error.code === 'ERR_PAYLOAD_TOO_LARGE') {
          throw new AppError('ERR_IMPORT_TOO_LARGE', `The source sent more than the ${record.size} bytes it declared.`);
        }
        throw error;
      } finally {
        abort.signal.removeEventListener('abort', onAbort);
        source = null;
      }
      if (guard.failure) throw guard.failure;
      if (abort.signal.aborted) throw abort.signal.reason;
      if (result.complete) return (record = await writeImportRecord(store, uploadKey, { ...record, state: 'done' }));
      if (!result.truncated && record.size === null) {
        // The body ended and no size was declared: what arrived is the file (the session checks the quota).
        unwrap(await session.declareSize(result.offset));
        const closed = await writeStream(env, record.uploadId, result.offset, null);
        if (closed.complete) return (record = await writeImportRecord(store, uploadKey, { ...record, state: 'done' }));
      }
      const truncated = new AppError(
        'ERR_IMPORT_TRUNCATED',
        `The source stopped sending at byte ${result.offset}${record.size !== null ? ` of the ${record.size} it declared` : ''}.`,
      );
      if (!record.acceptsRanges || attempt + 1 >= ATTEMPTS_PER_RUN) throw truncated;
      record = await writeImportRecord(store, uploadKey, { ...record, attempts: record.attempts + 1 });
    }
  } catch (error) {
    const reason = asErrorBody(abort.signal.aborted ? abort.signal.reason : error);
    const resumable = record.acceptsRanges && RETRYABLE.has(reason.code);
    // A final failure releases everything the upload holds (R2 parts, quota); a resumable one keeps
    // the confirmed parts for POST …/import (the upload's expiry cleans them up otherwise).
    if (!resumable) await session.failUpload(`${reason.code}: ${reason.message}`).catch(() => undefined);
    await source?.body.cancel().catch(() => undefined);
    return (record = await writeImportRecord(store, uploadKey, { ...record, state: 'failed', reason, resumable }).catch(() => record));
  } finally {
    clearTimeout(timer);
  }
}

async function uploadKeyOf(owner: string, uploadId: string): Promise<string> {
  return originalKey(await ownerSegment(owner), uploadId);
}

/** The import's record with the upload's live offset (`GET /api/uploads/:id/import`). */
export async function importStatus(env: Env, uploadId: string, owner: string) {
  const record = await readImportRecord(new R2Store(env.BUCKET), await uploadKeyOf(owner, uploadId));
  if (!record || record.uploadId !== uploadId) throw new AppError('ERR_NOT_FOUND', 'This upload was not imported from a URL.');
  const status = await sessionStub(env, uploadId).streamStatus();
  return {
    state: record.state,
    sourceUrl: record.sourceUrl,
    size: record.size,
    receivedBytes: status.ok ? status.value.offset : null,
    attempts: record.attempts,
    resumable: record.state === 'failed' ? record.resumable === true : record.acceptsRanges,
    deadline: new Date(record.deadline).toISOString(),
    ...(record.reason ? { reason: record.reason } : {}),
  };
}

/**
 * `POST /api/uploads/:id/import`: continues an import that stopped (its Worker died, or the
 * connection broke more often than the automatic retries allow) from the upload's offset. Answers
 * at once; the bytes stream in the background as on creation. The session's write lock keeps two
 * runs from writing at once (423 while another holds it).
 */
export async function resumeImport(env: Env, ctx: Background, uploadId: string, owner: string) {
  const store = new R2Store(env.BUCKET);
  const key = await uploadKeyOf(owner, uploadId);
  const record = await readImportRecord(store, key);
  if (!record || record.uploadId !== uploadId) throw new AppError('ERR_NOT_FOUND', 'This upload was not imported from a URL.');
  if (record.state === 'done') return importStatus(env, uploadId, owner);
  if (record.state === 'failed' && !record.resumable) {
    throw new AppError('ERR_IMPORT_NOT_RESUMABLE', `This import failed for good: ${record.reason?.message ?? 'see its reason'}`, { reason: record.reason });
  }
  if (!record.acceptsRanges) throw new AppError('ERR_IMPORT_NOT_RESUMABLE', 'The source does not serve byte ranges: the import cannot continue where it stopped.');
  if (Date.now() >= record.deadline) throw new AppError('ERR_IMPORT_TIMEOUT', 'The import ran out of time.');
  const status = unwrap(await sessionStub(env, uploadId).streamStatus());
  if (!isAccepting(status.state)) return importStatus(env, uploadId, owner);
  // Open the source here, so a refusal (changed file, 404 now) is this request's answer.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new AppError('ERR_IMPORT_TIMEOUT', 'The source did not answer in time.')), HEADERS_TIMEOUT_MS);
  let source: OpenedSource;
  try {
    source = await openSource(record.sourceUrl, loadConfig(env), { signal: abort.signal, offset: status.offset, validator: record.validator });
  } finally {
    clearTimeout(timer);
  }
  const running = await writeImportRecord(store, key, { ...record, state: 'running', attempts: record.attempts + 1, resumable: undefined, reason: undefined });
  ctx.waitUntil(runImport(env, key, running, source));
  return { ...(await importStatus(env, uploadId, owner)), state: 'running' as const };
}
