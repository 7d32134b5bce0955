/**
 * @module UploadSession: one Durable Object per upload. The authoritative manifest (SQLite),
 * the state machine, the events hub and the alarm-driven assembly. Part bytes never pass
 * through here: the Worker streams them into R2 and only asks for a lease and commits the result.
 * RPC methods return plain `Result` values; the HTTP adapters turn them into responses.
 */
import { DurableObject } from 'cloudflare:workers';
import { loadConfig } from '../config';
import { fail, ok, type Result } from '../domain/errors';
import { partRange } from '../domain/part-plan';
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
  type UploadState,
} from '../protocol/messages';
import { derivativeKey, derivedPrefix } from '../storage/object-keys';
import { R2Store } from '../storage/r2-store';
import { ManifestStore, type UploadRow } from './manifest-store';
import { ProgressHub } from './progress-hub';
import { ledgerStub, sweeperStub } from './session-stub';

/** A PUT that stalls longer than this loses its claim on the part number. */
const PART_LEASE_MS = 120_000;
/** Assembly: 3 attempts, delays 1 s then 2 s (factor 2). */
const ASSEMBLY_ATTEMPTS = 3;
const ASSEMBLY_BASE_DELAY_MS = 1_000;
const ENQUEUE_RETRY_MS = 2_000;


export interface CreateSessionInput {
  id: string;
  owner: string;
  key: string;
  name: string;
  type: string;
  size: number;
  partSize: number;
  partCount: number;
  sha256?: string;
  metadata?: Record<string, string>;
  expiresAt: number;
}

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
}

const GONE_STATES: readonly UploadState[] = ['aborted', 'expired'];
const FINISHED_STATES: readonly UploadState[] = ['ready', 'rejected', 'failed'];

export class UploadSession extends DurableObject<Env> {
  private readonly store: ManifestStore;
  private readonly r2: R2Store;
  private readonly hub: ProgressHub;

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
    });
    await this.ctx.storage.setAlarm(input.expiresAt);
    await sweeperStub(this.env).watch(input.id, input.expiresAt);
    return ok(this.manifestOf(this.store.upload()!));
  }

  manifest(): Result<Manifest> {
    const upload = this.store.upload();
    return upload ? ok(this.manifestOf(upload)) : notFound();
  }

  /** `complete`: idempotent; starts assembly when every part is confirmed. */
  async complete(): Promise<Result<{ state: UploadState }>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return upload.state === 'rejected' || upload.state === 'failed'
        ? fail('ERR_UPLOAD_STATE', `The upload is ${upload.state}.`, { state: upload.state, reason: upload.reason })
        : ok({ state: upload.state });
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
    this.store.clearLeases();
    if (accepting) await this.r2.abortMultipart(upload.key, upload.r2UploadId);
    // A ready upload's bytes may be shared (deduplicated): the ledger says what nobody references.
    else if (upload.state !== 'ready') await this.r2.delete(upload.key);
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
    const range = partRange(upload, partNumber);
    if (!range) {
      return fail('ERR_PART_NUMBER', `Part number must be between 1 and ${upload.partCount}.`, {
        partCount: upload.partCount,
      });
    }
    if (contentLength !== range.size) {
      return fail('ERR_PART_SIZE', `Part ${partNumber} must be exactly ${range.size} bytes, not ${contentLength}.`, {
        expectedSize: range.size,
      });
    }
    if (!ACCEPTING_STATES.includes(upload.state)) {
      const part = this.store.part(partNumber);
      if (part) return ok({ kind: 'confirmed', ...this.receipt(part.partNumber, part.size, part.etag) });
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    const now = Date.now();
    const lease = this.store.lease(partNumber);
    if (lease && lease.expiresAt > now) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${partNumber} is being uploaded by another request.`, {
        retryAfterSeconds: Math.ceil((lease.expiresAt - now) / 1000),
      });
    }
    const leaseId = crypto.randomUUID();
    this.store.putLease(partNumber, leaseId, now + PART_LEASE_MS);
    return ok({ kind: 'lease', key: upload.key, r2UploadId: upload.r2UploadId, leaseId });
  }

  /** Records a part R2 accepted, if this PUT still holds the part's lease. */
  async commitPart(commit: PartCommit): Promise<Result<PartReceipt>> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    // An expired lease still counts while nobody else took the part: its bytes are the latest in R2.
    if (this.store.lease(commit.partNumber)?.leaseId !== commit.leaseId) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${commit.partNumber} was claimed by another request; send it again.`);
    }
    return ok(await this.confirm(upload, commit.partNumber, commit.size, commit.etag, commit.digest));
  }

  /** Where a client may PUT part `partNumber` straight to R2 (direct-to-R2 mode). */
  directPartTarget(partNumber: number): Result<{ key: string; r2UploadId: string; size: number }> {
    const upload = this.store.upload();
    if (!upload) return notFound();
    if (GONE_STATES.includes(upload.state)) return gone(upload);
    const range = partRange(upload, partNumber);
    if (!range) return fail('ERR_PART_NUMBER', `Part number must be between 1 and ${upload.partCount}.`, { partCount: upload.partCount });
    if (!ACCEPTING_STATES.includes(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no parts.`, { state: upload.state });
    }
    return ok({ key: upload.key, r2UploadId: upload.r2UploadId, size: range.size });
  }

  /**
   * Records a part the client PUT straight to R2, by the ETag R2 gave it. The ETag is checked by
   * R2 itself at completion: a wrong one fails assembly rather than assembling the wrong bytes.
   */
  async recordDirectPart(partNumber: number, etag: string): Promise<Result<PartReceipt>> {
    const target = this.directPartTarget(partNumber);
    if (!target.ok) return target;
    return ok(await this.confirm(this.store.upload()!, partNumber, target.value.size, etag, null));
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
    if (receipt.confirmedParts === upload.partCount) await this.startAssembly();
    return receipt;
  }

  /** Gives up a lease after a failed PUT, so a retry need not wait for it to expire. */
  releasePart(partNumber: number, leaseId: string): void {
    this.store.releaseLease(partNumber, leaseId);
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
    const info = { key: upload.key, type: upload.type, name: upload.name, size: upload.size };
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
        if (!upload.jobQueued) return this.enqueueProcessing(upload);
        return;
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
      if (!object || object.size !== upload.size) {
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
    this.setState('validating');
    await this.enqueueProcessing(this.store.upload()!);
  }

  private async enqueueProcessing(upload: UploadRow): Promise<void> {
    try {
      await this.env.PROCESS_QUEUE.send(this.processMessage(upload));
      this.store.setJobQueued();
    } catch {
      await this.ctx.storage.setAlarm(Date.now() + ENQUEUE_RETRY_MS);
    }
  }

  /** Idle past its expiry: keep a tombstone, let the cleanup consumer abort the R2 upload. */
  private async expire(upload: UploadRow): Promise<void> {
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
    for (let n = 1; n <= upload.partCount; n++) if (!confirmed.has(n)) missing.push(n);
    return missing;
  }

  private processMessage(upload: UploadRow): ProcessMessage {
    return {
      type: 'upload.assembled',
      v: 1,
      uploadId: upload.id,
      key: upload.key,
      declaredType: upload.type,
      size: upload.size,
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
