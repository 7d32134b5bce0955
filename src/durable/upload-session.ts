/**
 * @module UploadSession: one Durable Object per upload. The authoritative manifest (SQLite),
 * the state machine, the events hub and the alarm-driven assembly. Part bytes never pass
 * through here: the Worker streams them into R2 and only asks for a lease and commits the result.
 * RPC methods return plain `Result` values; the HTTP adapters turn them into responses.
 */
import { DurableObject } from 'cloudflare:workers';
import { loadConfig } from '../config';
import { fail, ok, type Result } from '../domain/errors';
import { partRange, type PartPlan } from '../domain/part-plan';
import type { Env } from '../env';
import {
  ACCEPTING_STATES,
  type EventMessage,
  type Manifest,
  type PartReceipt,
  type ProcessMessage,
  type DerivativeInfo,
  type ProgressFields,
  type UploadResult,
  type UploadEventName,
  type UploadState,
  type Visibility,
} from '../protocol/messages';
import { derivativeKey, derivedPrefix } from '../storage/object-keys';
import { emitUploadEvent, eventForState, uploadEvent } from '../webhooks/upload-event';
import { R2Store } from '../storage/r2-store';
import { Leases } from './leases';
import { ManifestStore, type UploadRow } from './manifest-store';
import { ProgressHub } from './progress-hub';
import { ledgerStub, sweeperStub } from './session-stub';

/** A PUT that stalls longer than this loses its claim on the part number. */
const PART_LEASE_MS = 30_000;
/** Assembly: 3 attempts, delays 1 s then 2 s (factor 2). */
const ASSEMBLY_ATTEMPTS = 3;
const ASSEMBLY_BASE_DELAY_MS = 1_000;
const ENQUEUE_RETRY_MS = 2_000;
/** One processing run at a time per upload (a redelivered message waits instead of redoing work). */
const PROCESSING_LEASE_MS = 10 * 60_000;
/** A job that has not reported back by then is queued again (queues can lose work locally), at most 3 times. */
const PROCESSING_ATTEMPTS = 3;


export interface CreateSessionInput {
  id: string;
  owner: string;
  key: string;
  name: string;
  type: string;
  /** Null when the size is declared later (the plan then fixes only the part size). */
  size: number | null;
  partSize: number;
  partCount: number | null;
  sha256?: string;
  metadata?: Record<string, string>;
  expiresAt: number;
  /** tus Upload-Concat: partial. */
  partial?: boolean;
  /** Private files are served only through signed URLs (issue 13). */
  visibility?: Visibility;
  /** An upload grant's size limit, below the server's, for sizes declared later (issue 13). */
  maxFileSize?: number;
}

/** The files API's view of an upload (issue 13). */
export interface FileView {
  manifest: Manifest;
  owner: string;
  visibility: Visibility;
}

export interface FileChanges {
  name?: string;
  metadata?: Record<string, string>;
  visibility?: Visibility;
}

/** Where the visibility is kept (the storage's key-value side, beside the manifest's SQL). */
const VISIBILITY_KEY = 'visibility';
const MAX_SIZE_KEY = 'maxFileSize';

export interface PartLease {
  kind: 'lease';
  key: string;
  r2UploadId: string;
  leaseId: string;
}

export interface PartCommit {
  partNumber: number;
  size: number;
  etag: string;
  digest: string | null;
  leaseId: string;
}

export type ProcessingOutcome =
  | { ok: true; detectedType: string | null; sha256?: string; key?: string; extra?: Partial<UploadResult> }
  | { ok: false; code: string; message: string };

export interface MediaInfo {
  key: string;
  type: string;
  name: string;
  size: number;
  /** Set when a derivative was asked for. */
  derivative?: DerivativeInfo;
  visibility?: Visibility;
}

/** A streamed write (tus PATCH) that stalls longer than this loses its lock on the upload. */
const STREAM_LEASE_MS = 120_000;
/** R2 allows 10,000 parts. */
const MAX_PARTS = 10_000;

export interface StreamLease {
  leaseId: string;
  key: string;
  r2UploadId: string;
  partSize: number;
  /** The part the next full chunk becomes. */
  nextPart: number;
  /** Bytes held in the staging object, to be prepended to the next part. */
  stagedBytes: number;
  /** The upload's offset: confirmed bytes plus staged bytes. */
  offset: number;
  size: number | null;
}

const GONE_STATES: readonly UploadState[] = ['aborted', 'expired'];
const FINISHED_STATES: readonly UploadState[] = ['ready', 'rejected', 'failed'];

export class UploadSession extends DurableObject<Env> {
  private readonly store: ManifestStore;
  private readonly r2: R2Store;
  private readonly hub: ProgressHub;
  private readonly partLeases = new Leases<number>(PART_LEASE_MS);
  private readonly streamLeases = new Leases<'stream'>(STREAM_LEASE_MS);
  private readonly processingLeases = new Leases<'processing'>(PROCESSING_LEASE_MS);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ManifestStore(ctx.storage.sql);
    this.r2 = new R2Store(env.BUCKET);
    this.hub = new ProgressHub(ctx, () => this.progress());
    // Keep-alive pings are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  // ---- RPC: lifecycle ------------------------------------------------------------------------

  async create(input: CreateSessionInput): Promise<Result<Manifest>> {
    if (this.store.upload()) return fail('ERR_UPLOAD_STATE', 'An upload with this id already exists.');
    const r2UploadId = await this.r2.createMultipart(input.key, input.type, { uploadId: input.id });
    this.store.insert({
      id: input.id,
      owner: input.owner,
      key: input.key,
      name: input.name,
      type: input.type,
      size: input.size,
      partSize: input.partSize,
      partCount: input.partCount,
      r2UploadId,
      sha256: input.sha256 ?? null,
      metadata: input.metadata ?? null,
      createdAt: Date.now(),
      expiresAt: input.expiresAt,
      partial: input.partial ?? false,
    });
    await this.ctx.storage.setAlarm(input.expiresAt);
    if (input.visibility === 'private') this.ctx.storage.kv.put(VISIBILITY_KEY, 'private');
    if (input.maxFileSize !== undefined) this.ctx.storage.kv.put(MAX_SIZE_KEY, input.maxFileSize);
    await sweeperStub(this.env).watch(input.id, input.expiresAt);
    this.emitEvent('upload.created');
    return ok(this.manifestOf(this.store.upload()!));
  }

  manifest(): Result<Manifest> {
    const upload = this.store.upload();
    return upload ? ok(this.manifestOf(upload)) : notFound();
  }

  // ---- RPC: the files API (issue 13) ---------------------------------------------------------

  fileView(): Result<FileView> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    return ok({ manifest: this.manifestOf(upload), owner: upload.owner, visibility: this.visibility() });
  }

  /** Renames, replaces the metadata or changes the visibility; the index hears of it as `upload.updated`. */
  updateFile(changes: FileChanges): Result<FileView> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    this.ctx.storage.transactionSync(() => {
      this.store.setDetails(changes.name ?? upload.name, changes.metadata ?? upload.metadata);
      if (changes.visibility) this.ctx.storage.kv.put(VISIBILITY_KEY, changes.visibility);
    });
    this.emitEvent('upload.updated');
    return this.fileView();
  }

  private sizeLimit(): number {
    return Math.min(loadConfig(this.env).maxFileSize, this.ctx.storage.kv.get<number>(MAX_SIZE_KEY) ?? Infinity);
  }

  private visibility(): Visibility {
    return this.ctx.storage.kv.get<Visibility>(VISIBILITY_KEY) ?? 'public';
  }

  /** `complete`: idempotent; starts assembly when every part is confirmed. */
  async complete(): Promise<Result<{ state: UploadState }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    const settled = this.completedAlready(upload);
    if (settled) return settled;
    if (upload.size === null) {
      return fail('ERR_SIZE_UNKNOWN', 'The size of this upload is not known yet: declare it, or complete with the list of parts.');
    }
    const missingParts = this.missingParts(upload);
    if (missingParts.length > 0) {
      return fail('ERR_PARTS_MISSING', `${missingParts.length} part(s) are not confirmed yet.`, {
        missingParts: missingParts.slice(0, 1000),
        missingCount: missingParts.length,
      });
    }
    await this.startAssembly();
    return ok({ state: 'assembling' });
  }

  /** Aborts an unfinished upload, or deletes a finished one's bytes. Idempotent. */
  async abort(): Promise<Result<{ state: UploadState }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return ok({ state: upload.state });
    if (!ACCEPTING_STATES.includes(upload.state) && !FINISHED_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state}; try again when it has finished.`, {
        state: upload.state,
      });
    }
    // Record first, so parts arriving meanwhile are refused; then release R2.
    const accepting = ACCEPTING_STATES.includes(upload.state);
    this.setState('aborted', 'Deleted by the client.');
    this.partLeases.clear();
    if (accepting) await this.r2.abortMultipart(upload.key, upload.r2UploadId);
    // A ready upload's bytes may be shared (deduplicated): the ledger says what nobody references.
    else if (upload.state !== 'ready' || upload.partial) await this.r2.delete(upload.key);
    await this.settle(upload);
    await this.ctx.storage.deleteAlarm();
    return ok({ state: 'aborted' });
  }

  // ---- RPC: the part hot path ----------------------------------------------------------------

  /**
   * Claims part `partNumber` for one PUT of `contentLength` bytes. Refused when the upload is not
   * accepting parts, the number or length is wrong, or another PUT of the part is in flight.
   * A part re-sent after the upload moved on is answered from the manifest (idempotent).
   */
  beginPart(partNumber: number, contentLength: number): Result<PartLease | ({ kind: 'confirmed' } & PartReceipt)> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    const expected = this.expectedPart(upload, partNumber);
    if (!expected) return this.badPartNumber(upload);
    if (expected.exact !== undefined ? contentLength !== expected.exact : contentLength < 1 || contentLength > expected.max) {
      return expected.exact !== undefined
        ? fail('ERR_PART_SIZE', `Part ${partNumber} must be exactly ${expected.exact} bytes, not ${contentLength}.`, { expectedSize: expected.exact })
        : fail('ERR_PART_SIZE', `Part ${partNumber} must be 1 to ${expected.max} bytes, not ${contentLength}.`, { maxSize: expected.max });
    }
    if (!ACCEPTING_STATES.includes(upload.state)) {
      const part = this.store.part(partNumber);
      if (part) return ok({ kind: 'confirmed', ...this.receipt(part.partNumber, part.size, part.etag) });
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    const lease = this.partLeases.acquire(partNumber);
    if (!lease.ok) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${partNumber} is being uploaded by another request.`, {
        retryAfterSeconds: Math.ceil(lease.retryAfterMs / 1000),
      });
    }
    return ok({ kind: 'lease', key: upload.key, r2UploadId: upload.r2UploadId, leaseId: lease.id });
  }

  /** Records a part R2 accepted, if this PUT still holds the part's lease. */
  async commitPart(commit: PartCommit): Promise<Result<PartReceipt>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    // A lost or expired lease still counts while nobody else took the part: its bytes are the latest in R2.
    if (!this.partLeases.valid(commit.partNumber, commit.leaseId)) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${commit.partNumber} was claimed by another request; send it again.`);
    }
    this.partLeases.release(commit.partNumber, commit.leaseId);
    return ok(await this.confirm(upload, commit.partNumber, commit.size, commit.etag, commit.digest));
  }

  /** Where a client may PUT part `partNumber` straight to R2 (direct-to-R2 mode). */
  directPartTarget(partNumber: number): Result<{ key: string; r2UploadId: string; size: number | null }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    const expected = this.expectedPart(upload, partNumber);
    if (!expected) return this.badPartNumber(upload);
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    return ok({ key: upload.key, r2UploadId: upload.r2UploadId, size: expected.exact ?? null });
  }

  /**
   * Records a part the client PUT straight to R2, by the ETag R2 gave it. The ETag is checked by
   * R2 itself at completion: a wrong one fails assembly rather than assembling the wrong bytes.
   */
  async recordDirectPart(partNumber: number, etag: string, size?: number): Promise<Result<PartReceipt>> {
    const target = this.directPartTarget(partNumber);
    if (!target.ok) return target;
    const partSize = target.value.size ?? size;
    if (partSize === undefined) return fail('ERR_PART_SIZE', 'The size of the part is needed while the upload size is unknown.');
    return ok(await this.confirm(this.store.upload()!, partNumber, partSize, etag, null));
  }

  /** One confirmed part: recorded atomically, expiry pushed back, progress out, assembly when complete. */
  private async confirm(upload: UploadRow, partNumber: number, size: number, etag: string, digest: string | null): Promise<PartReceipt> {
    this.ctx.storage.transactionSync(() => {
      this.store.confirmPart({ partNumber, size, etag, digest });
      this.store.extendExpiry(Date.now() + loadConfig(this.env).uploadTtlSeconds * 1000);
    });
    const receipt = this.receipt(partNumber, size, etag);
    if (upload.state === 'created') this.hub.broadcast({ type: 'state', state: 'uploading' });
    this.hub.progressChanged();
    if (receipt.confirmedParts === upload.partCount && upload.stagedBytes === 0) await this.startAssembly();
    return receipt;
  }

  /**
   * The answer to a completion request once parts are no longer accepted (idempotent: the state
   * it moved on to), or null while the upload still takes parts.
   */
  private completedAlready(upload: UploadRow): Result<{ state: UploadState }> | null {
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (ACCEPTING_STATES.includes(upload.state)) return null;
    return upload.state === 'rejected' || upload.state === 'failed'
      ? fail('ERR_UPLOAD_STATE', `The upload is ${upload.state}.`, { state: upload.state, reason: upload.reason })
      : ok({ state: upload.state });
  }

  /** What part `n` must be: an exact size under a known plan, or up to the maximum while the size is open. */
  private expectedPart(upload: UploadRow, n: number): { exact: number; max?: undefined } | { exact?: undefined; max: number } | null {
    if (upload.size !== null) {
      const range = partRange(upload as PartPlan, n);
      return range ? { exact: range.size } : null;
    }
    if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) return null;
    return { max: loadConfig(this.env).partLimits.max };
  }

  private badPartNumber(upload: UploadRow) {
    const last = upload.partCount ?? MAX_PARTS;
    return fail('ERR_PART_NUMBER', `Part number must be between 1 and ${last}.`, { partCount: upload.partCount });
  }

  // ---- RPC: uploads whose size is settled late ----------------------------------------------

  /** Confirmed parts with their ETags (S3 ListParts). */
  listParts(): Result<{ partNumber: number; size: number; etag: string }[]> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    return ok(this.store.parts().map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag })));
  }

  /**
   * S3-style completion: the client names the parts (1..n, in order) that make the file. They must
   * be confirmed (with the ETags given), all but the last of one size, the last no larger. The size
   * follows, is checked against the limits, and assembly starts. Idempotent once assembling.
   */
  async completeWithParts(parts: { partNumber: number; etag?: string }[]): Promise<Result<{ state: UploadState; size: number }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    const settled = this.completedAlready(upload);
    if (settled) return settled.ok ? ok({ ...settled.value, size: upload.size ?? 0 }) : settled;
    const stored = new Map(this.store.parts().map((p) => [p.partNumber, p]));
    const listed = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (listed.length === 0) return fail('ERR_PART_LIST', 'Name at least one part.');
    const sizes: number[] = [];
    for (const [i, part] of listed.entries()) {
      const have = stored.get(part.partNumber);
      if (part.partNumber !== i + 1) return fail('ERR_PART_LIST', `Parts must be numbered 1 to ${listed.length} without gaps.`);
      if (!have) return fail('ERR_PARTS_MISSING', `Part ${part.partNumber} was never received.`, { missingParts: [part.partNumber] });
      if (part.etag !== undefined && part.etag.replace(/"/g, '') !== have.etag) {
        return fail('ERR_PART_LIST', `Part ${part.partNumber} has another ETag than the one named.`);
      }
      sizes.push(have.size);
    }
    const partSize = sizes[0]!;
    if (sizes.some((size, i) => (i < sizes.length - 1 ? size !== partSize : size > partSize))) {
      return fail('ERR_PART_LIST', 'All parts but the last must be the same size, and the last no larger (R2 requires it).');
    }
    const size = sizes.reduce((a, b) => a + b, 0);
    const limit = this.sizeLimit();
    if (size > limit) return fail('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${limit} bytes.`, { maxFileSize: limit });
    this.ctx.storage.transactionSync(() => {
      this.store.keepOnlyParts(listed.map((p) => p.partNumber));
      this.store.setSize(size, partSize, listed.length);
    });
    await this.startAssembly();
    return ok({ state: 'assembling', size });
  }

  /** The size became known (tus Upload-Length after Upload-Defer-Length). */
  async declareSize(size: number): Promise<Result<{ size: number; partCount: number }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (upload.size !== null) {
      return upload.size === size ? ok({ size, partCount: upload.partCount! }) : fail('ERR_VALIDATION', `The size is already ${upload.size}.`);
    }
    const totals = this.store.totals();
    const limit = this.sizeLimit();
    if (size > limit) return fail('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${limit} bytes.`, { maxFileSize: limit });
    if (size < totals.confirmedBytes + upload.stagedBytes || size === 0) return fail('ERR_VALIDATION', 'The size is smaller than what was already received.');
    const partCount = Math.ceil(size / upload.partSize);
    if (partCount > MAX_PARTS) return fail('ERR_FILE_TOO_LARGE', 'The file needs more parts than R2 allows at this part size.');
    this.store.setSize(size, upload.partSize, partCount);
    return ok({ size, partCount });
  }

  // ---- RPC: streamed writes (tus PATCH, form POSTs) ------------------------------------------

  /**
   * Locks the upload for one streamed write starting at `offset`, which must be the server's
   * offset (confirmed bytes plus staged bytes). Refused while another write holds the lock.
   */
  beginStream(offset: number): Result<StreamLease> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no more bytes.`, { state: upload.state });
    }
    const state = this.streamState(upload);
    if (offset !== state.offset) {
      return fail('ERR_OFFSET_MISMATCH', `The upload is at offset ${state.offset}, not ${offset}.`, { offset: state.offset });
    }
    const lease = this.streamLeases.acquire('stream');
    if (!lease.ok) return fail('ERR_UPLOAD_LOCKED', 'Another write to this upload is in progress.');
    return ok({ ...state, leaseId: lease.id });
  }

  /** A full part of a streamed write reached R2: confirmed, the staged bytes it took in consumed. */
  async streamPart(leaseId: string, partNumber: number, size: number, etag: string): Promise<Result<StreamLease>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (!this.streamLeases.valid('stream', leaseId)) return fail('ERR_UPLOAD_LOCKED', 'This write lost its lock on the upload.');
    if (!ACCEPTING_STATES.includes(upload.state)) return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state}.`, { state: upload.state });
    this.store.setStagedBytes(0);
    this.streamLeases.renew('stream', leaseId);
    await this.confirm({ ...upload, stagedBytes: 0 }, partNumber, size, etag, null);
    return ok({ ...this.streamState(this.store.upload()!), leaseId });
  }

  /** The tail of a streamed write was saved to the staging object. */
  streamStaged(leaseId: string, stagedBytes: number): Result<StreamLease> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (!this.streamLeases.valid('stream', leaseId)) return fail('ERR_UPLOAD_LOCKED', 'This write lost its lock on the upload.');
    this.store.setStagedBytes(stagedBytes);
    return ok({ ...this.streamState(this.store.upload()!), leaseId });
  }

  /** Offset and size as streamed protocols report them (tus HEAD). */
  streamStatus(): Result<{ state: UploadState; offset: number; size: number | null; expiresAt: string; metadata: Record<string, string> | null; partial: boolean }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    const offset = ACCEPTING_STATES.includes(upload.state) ? this.streamState(upload).offset : (upload.size ?? 0);
    return ok({ state: upload.state, offset, size: upload.size, expiresAt: new Date(upload.expiresAt).toISOString(), metadata: upload.metadata, partial: upload.partial });
  }

  endStream(leaseId: string): void {
    this.streamLeases.release('stream', leaseId);
  }

  private streamState(upload: UploadRow): Omit<StreamLease, 'leaseId'> {
    const parts = this.store.parts();
    // Streamed writes fill parts in order: the confirmed prefix is contiguous.
    let contiguous = 0;
    while (parts[contiguous]?.partNumber === contiguous + 1) contiguous += 1;
    const confirmed = parts.slice(0, contiguous).reduce((sum, p) => sum + p.size, 0);
    return {
      key: upload.key,
      r2UploadId: upload.r2UploadId,
      partSize: upload.partSize,
      nextPart: contiguous + 1,
      stagedBytes: upload.stagedBytes,
      offset: confirmed + upload.stagedBytes,
      size: upload.size,
    };
  }

  /** Gives up a lease after a failed PUT, so a retry need not wait for it to expire. */
  releasePart(partNumber: number, leaseId: string): void {
    this.partLeases.release(partNumber, leaseId);
  }

  // ---- RPC: from the processing consumer -----------------------------------------------------

  /** Where the assembled object is, while it is being validated. */
  processingTarget(): Result<ProcessMessage & { state: UploadState; owner: string }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    return ok({ ...this.processMessage(upload), state: upload.state, owner: upload.owner });
  }

  /** Deduplicated: serve the owner's existing copy of these bytes from now on. */
  useStoredCopy(key: string): Result<{ key: string }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (upload.state === 'validating' || upload.state === 'processing') this.store.setKey(key);
    return ok({ key: this.store.upload()!.key });
  }

  markProcessing(): Result<{ state: UploadState }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (upload.state === 'validating') this.setState('processing');
    return ok({ state: this.store.upload()!.state });
  }

  /** Final word of the pipeline. Idempotent: a re-delivered message changes nothing. */
  async finishProcessing(outcome: ProcessingOutcome): Promise<Result<Manifest>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (upload.state === 'validating' || upload.state === 'processing') {
      if (outcome.ok) {
        const result: UploadResult = {
          url: `/media/${upload.id}`,
          detectedType: outcome.detectedType,
          ...(outcome.sha256 ? { sha256: outcome.sha256 } : {}),
          ...outcome.extra,
        };
        if (outcome.key) this.store.setKey(outcome.key);
        this.store.setResult(result);
        this.setState('ready', null, result);
        await sweeperStub(this.env).unwatch(upload.id);
      } else {
        this.setState('rejected', `${outcome.code}: ${outcome.message}`);
        await this.settle(upload);
      }
    }
    return ok(this.manifestOf(this.store.upload()!));
  }

  /** The pipeline gave up on this upload (dead-letter queue). */
  async failProcessing(reason: string): Promise<Result<{ state: UploadState }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (upload.state === 'validating' || upload.state === 'processing') {
      this.setState('failed', reason);
      await this.settle(upload);
    }
    return ok({ state: this.store.upload()!.state });
  }

  /** The cleanup consumer aborted the R2 upload of an expired session. */
  async cleanupDone(): Promise<void> {
    const upload = this.store.upload();
    if (!upload || upload.cleaned) return;
    this.store.setCleaned();
    await sweeperStub(this.env).unwatch(upload.id);
  }

  /** For the cron sweep: does whatever the alarm should have done by now. */
  async sweep(): Promise<{ state: UploadState | null }> {
    await this.alarm();
    const upload = this.store.upload();
    if (!upload) return { state: null };
    const settled = ['ready', 'rejected', 'failed', 'aborted'].includes(upload.state) || (upload.state === 'expired' && upload.cleaned);
    if (settled) await sweeperStub(this.env).unwatch(upload.id);
    else if (ACCEPTING_STATES.includes(upload.state)) await sweeperStub(this.env).watch(upload.id, upload.expiresAt);
    return { state: upload.state };
  }

  /** A derivative was stored: subscribers see it as it appears. */
  recordDerivative(derivative: DerivativeInfo): void {
    this.hub.broadcast({ type: 'derivative', derivative });
  }

  /** What `GET /media/:id[/:variant]` needs, once the upload is ready. */
  media(variant?: string): Result<MediaInfo> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (upload.state !== 'ready') {
      if (GONE_STATES.includes(upload.state)) return gone(upload);
      return fail('ERR_NOT_READY', `The upload is ${upload.state}, not ready.`, { state: upload.state, reason: upload.reason });
    }
    if (upload.partial) return fail('ERR_NOT_FOUND', 'A partial upload is a fragment of another; fetch the final upload.');
    const info = { key: upload.key, type: upload.type, name: upload.name, size: upload.size ?? 0, visibility: this.visibility() };
    if (variant === undefined) return ok(info);
    const derivative = upload.result?.derivatives?.find((d) => d.variant === variant);
    if (!derivative || !upload.result?.sha256) {
      return fail('ERR_NOT_FOUND', `This upload has no "${variant}" derivative.`, {
        variants: upload.result?.derivatives?.map((d) => d.variant) ?? [],
        ...(upload.result?.derivativesSkipped ? { skipped: upload.result.derivativesSkipped } : {}),
      });
    }
    const stem = upload.name.replace(/\.[^.]*$/, '');
    return ok({
      key: derivativeKey(upload.key, upload.result.sha256, variant),
      type: derivative.type,
      name: `${stem}-${variant}.jpg`,
      size: derivative.bytes,
      derivative,
      visibility: info.visibility,
    });
  }

  // ---- events --------------------------------------------------------------------------------

  /** Only the events stream comes through fetch(): WebSocket upgrade, or SSE. */
  override async fetch(request: Request): Promise<Response> {
    const upload = this.store.upload();
    if (!upload) return Response.json({ error: notFound().error }, { status: 404 });
    const snapshot: EventMessage = { type: 'snapshot', manifest: this.manifestOf(upload) };
    if (request.headers.get('Upgrade')?.toLowerCase() === 'websocket') return this.hub.acceptWebSocket(snapshot);
    return this.hub.acceptEventStream(snapshot);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Any text frame other than the auto-answered "ping" asks for a fresh snapshot.
    if (typeof message !== 'string') return;
    const upload = this.store.upload();
    if (upload) this.hub.sendTo(ws, { type: 'snapshot', manifest: this.manifestOf(upload) });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'closing');
    } catch {
      // Already closed.
    }
  }

  // ---- alarm: assembly, job hand-off and expiry ----------------------------------------------

  override async alarm(): Promise<void> {
    const upload = this.store.upload();
    if (!upload) return;
    switch (upload.state) {
      case 'assembling':
        return this.assemble(upload);
      case 'validating':
      case 'processing':
        return this.watchProcessing(upload);
      case 'created':
      case 'uploading':
        if (Date.now() >= upload.expiresAt) return this.expire(upload);
        await this.ctx.storage.setAlarm(upload.expiresAt);
        return;
      case 'expired':
        if (!upload.cleanupQueued) return this.enqueueCleanup(upload);
        return;
      default:
        return;
    }
  }

  private async startAssembly(): Promise<void> {
    // The state flips synchronously, so concurrent triggers collapse into one assembly.
    this.setState('assembling');
    await this.ctx.storage.setAlarm(Date.now());
  }

  private async assemble(upload: UploadRow): Promise<void> {
    const parts = this.store.parts();
    try {
      await this.r2.completeMultipart(upload.key, upload.r2UploadId, parts);
    } catch (error) {
      // complete() is not idempotent: if an earlier attempt succeeded before we could record it,
      // the object is there and this attempt fails with NoSuchUpload.
      const object = await this.r2.head(upload.key).catch(() => null);
      if (!object || object.size !== (upload.size ?? this.store.totals().confirmedBytes)) {
        const attempts = this.store.bumpAssemblyAttempts();
        if (attempts < ASSEMBLY_ATTEMPTS) {
          await this.ctx.storage.setAlarm(Date.now() + ASSEMBLY_BASE_DELAY_MS * 2 ** (attempts - 1));
        } else {
          this.setState('failed', `ERR_ASSEMBLY_FAILED: ${String(error).slice(0, 300)}`);
          await this.r2.abortMultipart(upload.key, upload.r2UploadId).catch(() => undefined);
          await this.settle(upload);
        }
        return;
      }
    }
    if (upload.partial) {
      // A fragment: complete and readable for concatenation, but nothing to validate or serve.
      const result: UploadResult = { url: '', detectedType: null, partial: true };
      this.store.setResult(result);
      this.setState('ready', null, result);
      return;
    }
    this.setState('validating');
    await this.enqueueProcessing(this.store.upload()!);
  }

  /** For concatenation: a complete partial upload's object and owner. */
  partialSource(): Result<{ key: string; size: number; owner: string }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (!upload.partial) return fail('ERR_VALIDATION', 'Only partial uploads (Upload-Concat: partial) can be concatenated.');
    if (upload.state !== 'ready' || upload.size === null) return fail('ERR_NOT_READY', 'This partial upload is not complete yet.', { state: upload.state });
    return ok({ key: upload.key, size: upload.size, owner: upload.owner });
  }

  private async enqueueProcessing(upload: UploadRow): Promise<void> {
    try {
      await this.env.PROCESS_QUEUE.send(this.processMessage(upload));
      this.store.setJobQueued();
      await this.ctx.storage.setAlarm(Date.now() + this.watchdogMs());
    } catch {
      await this.ctx.storage.setAlarm(Date.now() + ENQUEUE_RETRY_MS);
    }
  }

  private watchdogMs(): number {
    return loadConfig(this.env).processingWatchdogSeconds * 1000;
  }

  /**
   * The job was queued but has not reported back: queue it again (a local queue loses messages
   * on a crash; consumers are idempotent), and after the last try report the upload failed.
   */
  private async watchProcessing(upload: UploadRow): Promise<void> {
    if (!upload.jobQueued) return this.enqueueProcessing(upload);
    const due = (upload.jobQueuedAt ?? 0) + this.watchdogMs();
    if (Date.now() < due) {
      await this.ctx.storage.setAlarm(due);
      return;
    }
    if (upload.jobAttempts < PROCESSING_ATTEMPTS) return this.enqueueProcessing(upload);
    this.setState('failed', 'ERR_PROCESSING_TIMEOUT: processing did not finish after every retry.');
    await this.settle(upload);
  }

  /** One processing run at a time: a second delivery of the same job waits (and retries later). */
  beginProcessing(): Result<{ leaseId: string }> {
    const lease = this.processingLeases.acquire('processing');
    if (!lease.ok) return fail('ERR_UPLOAD_LOCKED', 'This upload is being processed already.', { retryAfterSeconds: Math.ceil(lease.retryAfterMs / 1000) });
    return ok({ leaseId: lease.id });
  }

  endProcessing(leaseId: string): void {
    this.processingLeases.release('processing', leaseId);
  }

  /** Idle past its expiry: keep a tombstone, let the cleanup consumer abort the R2 upload. */
  private async expire(upload: UploadRow): Promise<void> {
    this.partLeases.clear();
    this.ctx.storage.transactionSync(() => {
      this.store.clearParts();
      this.setState('expired', 'The upload was not finished before it expired.');
    });
    await this.enqueueCleanup(upload);
    await this.settle(upload);
  }

  private async enqueueCleanup(upload: UploadRow): Promise<void> {
    try {
      await this.env.CLEANUP_QUEUE.send({ type: 'upload.expired', v: 1, uploadId: upload.id, key: upload.key, r2UploadId: upload.r2UploadId });
      this.store.setCleanupQueued();
    } catch {
      await this.ctx.storage.setAlarm(Date.now() + ENQUEUE_RETRY_MS);
    }
  }

  /**
   * An upload ended without (or stopped) being stored: give its quota back and delete bytes that
   * nothing references any more. Idempotent (the ledger releases an upload once).
   */
  private async settle(upload: UploadRow): Promise<void> {
    const release = await ledgerStub(this.env, upload.owner).release(upload.id);
    for (const key of release.deleteKeys) await this.r2.delete(key);
    if (release.deleteKeys.length > 0 && release.sha256) await this.r2.deletePrefix(derivedPrefix(upload.key, release.sha256));
    if (upload.state !== 'expired') await sweeperStub(this.env).unwatch(upload.id);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private setState(state: UploadState, reason: string | null = null, result?: UploadResult): void {
    this.store.setState(state, reason);
    this.hub.broadcast({ type: 'state', state, ...(reason ? { reason } : {}), ...(result ? { result } : {}) });
    this.emitEvent(eventForState(state));
  }

  /** Webhooks and the files index hear of it (issue 13; the lead ports this into the machine's effects). */
  private emitEvent(event: UploadEventName | null): void {
    const upload = this.store.upload();
    if (!event || !upload || upload.partial) return;
    const message = uploadEvent(this.env, event, { manifest: this.manifestOf(upload), owner: upload.owner, visibility: this.visibility() });
    this.ctx.waitUntil(emitUploadEvent(this.env, message).catch((error) => console.error('upload event not queued', event, upload.id, error)));
  }

  private progress(): ProgressFields | null {
    const upload = this.store.upload();
    if (!upload) return null;
    return { ...this.store.totals(), size: upload.size, partCount: upload.partCount };
  }

  private receipt(partNumber: number, size: number, etag: string): PartReceipt {
    return { partNumber, size, etag, ...this.store.totals() };
  }

  private missingParts(upload: UploadRow, parts = this.store.parts()): number[] {
    const confirmed = new Set(parts.map((p) => p.partNumber));
    const missing: number[] = [];
    for (let n = 1; n <= (upload.partCount ?? 0); n++) if (!confirmed.has(n)) missing.push(n);
    return missing;
  }

  private processMessage(upload: UploadRow): ProcessMessage {
    return {
      type: 'upload.assembled',
      v: 1,
      uploadId: upload.id,
      key: upload.key,
      declaredType: upload.type,
      // Assembled uploads always know their size; before assembly this message is not sent.
      size: upload.size ?? 0,
      ...(upload.sha256 ? { sha256: upload.sha256 } : {}),
    };
  }

  private manifestOf(upload: UploadRow): Manifest {
    const parts = this.store.parts();
    return {
      id: upload.id,
      state: upload.state,
      ...(upload.reason ? { reason: upload.reason } : {}),
      name: upload.name,
      type: upload.type,
      size: upload.size,
      partSize: upload.partSize,
      partCount: upload.partCount,
      confirmedBytes: parts.reduce((sum, p) => sum + p.size, 0),
      confirmedParts: parts.length,
      parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size })),
      missingParts: this.missingParts(upload, parts),
      createdAt: new Date(upload.createdAt).toISOString(),
      updatedAt: new Date(upload.updatedAt).toISOString(),
      expiresAt: new Date(upload.expiresAt).toISOString(),
      ...(upload.metadata ? { metadata: upload.metadata } : {}),
      ...(upload.result ? { result: upload.result } : {}),
    };
  }
}

const notFound = () => fail('ERR_UPLOAD_NOT_FOUND', 'No upload with this id.');
const gone = (upload: UploadRow) =>
  fail('ERR_UPLOAD_GONE', `The upload was ${upload.state}.`, { state: upload.state, reason: upload.reason });
