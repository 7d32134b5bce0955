/**
 * @module One file's upload: validation before the network, resumable parallel part transfer with
 * adaptive concurrency and retries, pause/resume/cancel, and server-acknowledged progress.
 * State machine: idle → validating → uploading ⇄ paused → processing → ready, or failed /
 * rejected / cancelled; a valid file waits as `idle` while the Uploader's slots are taken. The
 * progress it reports comes from the server only, and never goes back.
 */
import { matchesDeclaredType, SNIFF_BYTES, sniffType } from '../domain/sniff';
import type { DerivativeInfo, EventMessage, Manifest, PartReceipt, UploadResult, UploadState } from '../contracts/messages';
import { isAccepting, isBusy } from '../contracts/upload-states';
import { ApiError, type ApiClient, type CreateBody, type CreatedUpload, type PresignedPart, type ServerConfig } from './api-client';
import { ConcurrencyController, concurrencyBounds, type NetworkHints } from './concurrency';
import { DirectParts, ETAG_BATCH } from './direct-parts';
import { Emitter } from './emitter';
import { fingerprint } from './fingerprint';
import { accepts, narrowTypes } from './accept';
import type { Localizer } from './i18n/localizer';
import { Reasons, type Reason } from './reasons';
import { ProgressFeed } from './progress-feed';
import { backoffDelay, CircuitBreaker, classify } from './retry-policy';
import type { Release, UploadSlots } from './upload-slots';

export type { Reason } from './reasons';
import type { StoredUpload, UploadStore } from './upload-store';

export type ClientState =
  | 'idle'
  | 'validating'
  | 'uploading'
  | 'paused'
  | 'processing'
  | 'ready'
  | 'failed'
  | 'rejected'
  | 'cancelled';

export const FINAL_CLIENT_STATES: readonly ClientState[] = ['ready', 'failed', 'rejected', 'cancelled'];

export interface UploadProgress {
  /** Bytes the server has confirmed: the bar. */
  confirmedBytes: number;
  /** Bytes being sent right now and not yet confirmed (may be shown lighter). */
  inFlightBytes: number;
  totalBytes: number;
  confirmedParts: number;
  partCount: number;
  /** Confirmed bytes per second over the last few seconds. */
  bytesPerSecond: number;
  /** Estimated seconds left, or null while unknown. */
  secondsLeft: number | null;
}

export interface UploadEvents extends Record<string, unknown> {
  state: { state: ClientState; reason?: string; reasonCode?: string; serverState?: UploadState };
  progress: UploadProgress;
  error: { code: string; message: string };
  /** The server made an image derivative (thumbnail, display size). */
  derivative: DerivativeInfo;
  /** A part request finished (for diagnostics and tests). */
  part: { partNumber: number; ok: boolean; status?: number };
}

export interface UploadOptions {
  /** Part size to ask the server for (bytes); the server's default otherwise. */
  partSize?: number;
  /** Fixed concurrency; adaptive (starting at 4) when unset. */
  concurrency?: number;
  metadata?: Record<string, string>;
  /** Overrides for the file's name and type (a Blob in Node has neither). */
  name?: string;
  type?: string;
  /** A FileSystemFileHandle to remember, so a later page can resume without re-selection. */
  handle?: unknown;
  /** Narrows the server's allowlist (MIME types, `image/*`, `.pdf`); it can never widen it. */
  accept?: string[];
  /** Narrows the server's size limit (bytes). */
  maxFileSize?: number;
  /**
   * Send parts straight to R2 through presigned URLs when the server offers it (`directUploads`
   * in /api/config): URLs and ETags travel in batches, about N + 3 requests for N parts.
   */
  direct?: boolean;
}

export interface UploadContext {
  api: ApiClient;
  store: UploadStore;
  config: () => Promise<ServerConfig>;
  hints: NetworkHints;
  l10n: Localizer;
  /** The Uploader's uploads open on the server at once (see upload-slots.ts). */
  slots: UploadSlots;
  /** Fingerprints of the Uploader's unfinished uploads that own a resume record. */
  openFingerprints: Set<string>;
}

/** Files from this size up are sent in 16 MiB parts unless a part size is given. */
const LARGE_FILE_BYTES = 256 * 1024 * 1024;
const LARGE_FILE_PART_BYTES = 16 * 1024 * 1024;

/** Why in-flight requests were aborted: a pause is not an error. */
const PAUSED = Symbol('paused');

type FileLike = Blob & { name?: string; lastModified?: number };

/**
 * A create refused with 429 (the owner's quota of unfinished uploads is full, e.g. in other tabs,
 * or a rate limit) made nothing, so it is asked again, this many times with backoff (~1–2 min).
 * Other failures are not: a create whose answer was lost may have made an upload.
 */
const CREATE_ATTEMPTS = 10;

/** Reasons that clear by themselves: the upload resumes when the network is back. */
const NETWORK_REASONS = new Set(['reason.offline', 'reason.connection']);

let localIds = 0;

export class Upload extends Emitter<UploadEvents> {
  /** Unique in this page from the start (the server's `id` comes later): a list key. */
  readonly localId = `upload-${++localIds}`;
  state: ClientState = 'idle';
  /** Why it is paused, rejected or failed, in the uploader's language. */
  reason: string | undefined;
  /** The same reason as a stable code (see `Reason`). */
  reasonCode: string | undefined;
  id: string | undefined;
  /** The final manifest (with `result`) once the server is done. */
  manifest: Manifest | undefined;
  readonly name: string;
  readonly type: string;
  /** Resolves with the final state (ready, failed, rejected or cancelled). */
  readonly done: Promise<ClientState>;

  private token = '';
  private partSize = 0;
  private partCount = 0;
  private fp = '';
  private confirmedBytes = 0;
  private confirmedParts = 0;
  private queue: number[] = [];
  private readonly inflight = new Map<number, { controller: AbortController; size: number }>();
  private readonly attempts = new Map<number, number>();
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly breaker = new CircuitBreaker();
  private concurrency!: ConcurrencyController;
  private feed: ProgressFeed | undefined;
  private samples: { at: number; bytes: number }[] = [];
  private resolveDone!: (state: ClientState) => void;
  private completing = false;
  /** The resume-or-create step while it runs: a cancel waits for it, so an upload it made is deleted. */
  private opening: Promise<boolean> | undefined;
  /** Direct-to-R2 mode, when asked for and offered. */
  private direct: DirectParts | undefined;
  private started = false;
  /**
   * Whether this upload owns the resume record of its fingerprint. The same file added again while
   * its first upload is still open gets an upload of its own, and leaves the record to the first.
   */
  private ownsRecord = false;
  /** This upload's slot among the Uploader's open uploads, held until a final state. */
  private releaseSlot: Release | undefined;
  /** Waits that end early when the upload does (see sleep()). */
  private readonly sleepers = new Set<() => void>();
  /** Why it is paused, rejected or failed, in the uploader's language. */
  private readonly reasons: Reasons;
  private readonly onOnline = () => {
    if (this.state === 'paused' && NETWORK_REASONS.has(this.reasonCode ?? '')) this.resume();
  };
  private readonly onOffline = () => {
    if (this.state === 'uploading') this.suspend(this.reasons.of('reason.offline'));
  };

  constructor(
    readonly file: FileLike,
    private readonly ctx: UploadContext,
    private readonly options: UploadOptions = {},
  ) {
    super();
    this.name = options.name ?? file.name ?? 'file';
    this.type = (options.type ?? file.type ?? '').toLowerCase();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.reasons = new Reasons(ctx.l10n);
  }

  get progress(): UploadProgress {
    // Parts sent to R2 whose ETags are not reported yet are still "in flight" for the bar.
    const inFlightBytes = [...this.inflight.values()].reduce((sum, p) => sum + p.size, 0) + (this.direct?.pendingBytes ?? 0);
    const now = Date.now();
    const recent = this.samples.filter((s) => now - s.at <= 5000);
    const first = recent[0];
    const last = recent.at(-1);
    const span = first && last ? (last.at - first.at) / 1000 : 0;
    const bytesPerSecond = first && last && span > 0.2 ? (last.bytes - first.bytes) / span : 0;
    const left = this.file.size - this.confirmedBytes;
    return {
      confirmedBytes: this.confirmedBytes,
      inFlightBytes: Math.min(inFlightBytes, left),
      totalBytes: this.file.size,
      confirmedParts: this.confirmedParts,
      partCount: this.partCount,
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 ? left / bytesPerSecond : null,
    };
  }

  /** Ready, failed, rejected or cancelled: nothing more happens. */
  get isFinal(): boolean {
    return FINAL_CLIENT_STATES.includes(this.state);
  }

  /**
   * Validates, creates or resumes the upload, and sends the parts. Called by the Uploader; a
   * second call, or one after cancel(), does nothing. Every await is followed by a check, because
   * cancel() may have run meanwhile.
   */
  async start(): Promise<void> {
    if (this.started || this.state !== 'idle') return;
    this.started = true;
    try {
      this.setState('validating');
      const problem = await this.validate();
      if (this.isFinal) return;
      if (problem) return this.finish('rejected', problem);
      if (!(await this.takeSlot())) return;
      this.opening = this.resumeOrCreate();
      const resumed = await this.opening;
      if (!resumed || this.isFinal) return;
      this.watchNetwork(true);
      this.feed = new ProgressFeed(this.ctx.api, this.id!, this.token, (m) => this.onServerMessage(m));
      this.feed.start();
      if (this.queue.length === 0) return this.partsDone();
      this.setState('uploading');
      this.fill();
    } catch (error) {
      this.fail(error);
    }
  }

  pause(): void {
    if (this.state === 'uploading') this.suspend(this.reasons.of('reason.paused'));
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.breaker.reset();
    this.setState('uploading');
    this.resync().then(() => this.fill(), (error) => this.onPartError(0, error));
  }

  /**
   * Wins in every state, also before the first request (add() starts on a microtask, and React's
   * StrictMode unmounts right after mounting): the state turns `cancelled` at once so nothing new
   * is sent, then the server upload, if one was or is being made, is deleted. `done` resolves after.
   */
  async cancel(): Promise<void> {
    if (this.isFinal) return void (await this.done);
    this.finish('cancelled', this.reasons.of('reason.cancelled'), undefined, false);
    await this.opening?.catch(() => undefined);
    if (this.id) await this.ctx.api.abort(this.id, this.token).catch(() => undefined);
    await this.forget();
    this.resolveDone('cancelled');
  }

  // ---- validation and set-up -----------------------------------------------------------------

  /** Waits as `idle` for one of the Uploader's slots; false when the upload ended meanwhile. */
  private async takeSlot(): Promise<boolean> {
    let release = this.ctx.slots.tryAcquire();
    if (!release) {
      this.setState('idle', this.reasons.of('reason.queued'));
      release = await this.ctx.slots.acquire();
      if (this.isFinal) {
        release();
        return false;
      }
      this.setState('validating');
    }
    this.releaseSlot = release;
    return true;
  }

  /** Resolves after `ms`, or at once when the upload reaches a final state. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** POST /api/uploads, asked again after a 429 (nothing was made): waits as `idle` meanwhile. */
  private async create(body: CreateBody): Promise<CreatedUpload | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await this.ctx.api.create(body);
        if (this.state === 'idle') this.setState('validating');
        return created;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 429 || attempt >= CREATE_ATTEMPTS) throw error;
        this.setState('idle', this.reasons.of('reason.queued'));
        await this.sleep(backoffDelay(attempt, undefined, error.retryAfterSeconds));
        if (this.isFinal) return undefined;
      }
    }
  }

  /** A reason a person can act on, or undefined when the file may be sent. */
  private async validate(): Promise<Reason | undefined> {
    const config = await this.ctx.config();
    const head = new Uint8Array(await this.file.slice(0, SNIFF_BYTES).arrayBuffer());
    const sniffed = sniffType(head);
    const type = this.type || sniffed || '';
    (this as { type: string }).type = type;
    const accept = this.options.accept;
    const allowed = narrowTypes(config.allowedTypes, accept);
    const kinds = this.ctx.l10n.list(allowed.map((t) => t.split('/')[1]?.toUpperCase() ?? t));
    const name = this.name;
    if (!type || !allowed.includes(type) || (accept && !accepts(accept, type, name))) {
      return type ? this.reasons.of('reason.typeNotAllowed', { name, type, kinds }) : this.reasons.of('reason.typeUnknown', { name, kinds });
    }
    if (this.file.size === 0) return this.reasons.of('reason.empty', { name });
    const limit = Math.min(config.maxFileSize, this.options.maxFileSize ?? Infinity);
    if (this.file.size > limit) {
      return this.reasons.of('reason.tooLarge', { name, size: this.ctx.l10n.bytes(this.file.size), limit: this.ctx.l10n.bytes(limit) });
    }
    if (!matchesDeclaredType(type, sniffed)) {
      return sniffed ? this.reasons.of('reason.mismatch', { name, type, sniffed }) : this.reasons.of('reason.mismatchUnknown', { name, type });
    }
    return undefined;
  }

  /** Picks up the server's manifest for a known file, or creates a new upload. */
  private async resumeOrCreate(): Promise<boolean> {
    this.fp = await fingerprint(this.file, this.name);
    if (this.isFinal) return false;
    // Two uploads of one file in this page must not share one server upload (both would send its
    // parts, and direct mode's URLs die when the other completes it).
    this.ownsRecord = !this.ctx.openFingerprints.has(this.fp);
    if (this.ownsRecord) this.ctx.openFingerprints.add(this.fp);
    const known = this.ownsRecord ? await this.ctx.store.get(this.fp) : undefined;
    if (known) {
      try {
        const manifest = await this.ctx.api.manifest(known.uploadId, known.uploadToken);
        this.id = known.uploadId;
        this.token = known.uploadToken;
        if (this.isFinal) return false;
        this.adopt(manifest);
        if (isAccepting(manifest.state) && (await this.wantsDirect())) this.direct ??= this.directParts();
        if (isAccepting(manifest.state) || isBusy(manifest.state)) return true;
        if (manifest.state === 'ready') {
          await this.forget();
          this.manifest = manifest;
          this.finish('ready');
          return false;
        }
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) throw error;
      }
      // Gone, expired, rejected or unknown to the server: start over.
      await this.forget();
    }
    if (this.isFinal) return false;
    const direct = await this.wantsDirect();
    const created = await this.create({
      name: this.name,
      size: this.file.size,
      type: this.type,
      // Larger parts for large files: fewer per-part round trips and less CPU per GiB (bench/).
      ...(this.options.partSize || this.file.size >= LARGE_FILE_BYTES
        ? { partSize: this.options.partSize ?? LARGE_FILE_PART_BYTES }
        : {}),
      ...(this.options.metadata ? { metadata: this.options.metadata } : {}),
      ...(direct ? { direct: true } : {}),
    });
    if (!created) return false;
    this.id = created.id;
    this.token = created.uploadToken;
    if (direct) this.direct = this.directParts(created.direct?.parts);
    // Cancelled while the create was under way: cancel() deletes it; nothing is kept for resuming.
    if (this.isFinal) return false;
    this.partSize = created.partSize;
    this.partCount = created.partCount;
    this.queue = Array.from({ length: created.partCount }, (_, i) => i + 1);
    await this.remember({
      fingerprint: this.fp,
      uploadId: created.id,
      uploadToken: created.uploadToken,
      name: this.name,
      size: this.file.size,
      type: this.type,
      partSize: created.partSize,
      partCount: created.partCount,
      expiresAt: Date.parse(created.expiresAt),
      createdAt: Date.now(),
      ...(this.options.handle ? { handle: this.options.handle } : {}),
    });
    this.concurrency = this.makeConcurrency();
    return true;
  }

  /** Resume records are kept by the upload that owns its fingerprint's record only. */
  private async remember(record: StoredUpload): Promise<void> {
    if (this.ownsRecord) await this.ctx.store.put(record);
  }

  private async forget(): Promise<void> {
    if (this.ownsRecord) await this.ctx.store.delete(this.fp);
  }

  private async wantsDirect(): Promise<boolean> {
    return this.options.direct === true && (await this.ctx.config()).directUploads === true;
  }

  private directParts(first?: PresignedPart[]): DirectParts {
    return new DirectParts(this.ctx.api, () => ({ id: this.id!, token: this.token, partCount: this.partCount }), first);
  }

  private makeConcurrency(): ConcurrencyController {
    if (this.options.concurrency) {
      const n = this.options.concurrency;
      return new ConcurrencyController({ initial: n, min: n, max: n });
    }
    return new ConcurrencyController(concurrencyBounds(this.ctx.hints));
  }

  /** Takes the server's word on which parts exist. */
  private adopt(manifest: Manifest): void {
    this.partSize = manifest.partSize;
    this.partCount = manifest.partCount ?? Math.ceil(this.file.size / manifest.partSize);
    this.acknowledge(manifest.confirmedBytes, manifest.confirmedParts);
    this.queue = manifest.missingParts.filter((n) => !this.inflight.has(n));
    this.concurrency ??= this.makeConcurrency();
  }

  // ---- the part pump -------------------------------------------------------------------------

  private fill(): void {
    if (this.state !== 'uploading') return;
    while (this.inflight.size < this.concurrency.limit && this.queue.length > 0) {
      this.sendPart(this.queue.shift()!);
    }
    if (this.inflight.size === 0 && this.queue.length === 0 && this.retryTimers.size === 0) void this.partsDone();
  }

  private async sendPart(partNumber: number): Promise<void> {
    const start = (partNumber - 1) * this.partSize;
    const end = Math.min(start + this.partSize, this.file.size);
    const controller = new AbortController();
    this.inflight.set(partNumber, { controller, size: end - start });
    this.emit('progress', this.progress);
    const began = Date.now();
    try {
      const body = this.file.slice(start, end);
      const receipt = this.direct ? await this.sendDirect(partNumber, body, controller.signal) : await this.ctx.api.putPart(this.id!, this.token, partNumber, body, controller.signal);
      this.inflight.delete(partNumber);
      this.attempts.delete(partNumber);
      this.breaker.success();
      this.concurrency.success(end - start, Date.now() - began);
      this.emit('part', { partNumber, ok: true, status: 200 });
      if (receipt) this.acknowledge(receipt.confirmedBytes, receipt.confirmedParts);
      this.fill();
    } catch (error) {
      this.inflight.delete(partNumber);
      if (controller.signal.aborted) {
        // Paused or cancelled: the part goes back to the queue, no error.
        if (this.state === 'paused' && !this.queue.includes(partNumber)) this.queue.unshift(partNumber);
        return;
      }
      // A network-level failure may really be the file: changed or deleted on disk since it was
      // chosen (Chromium fails the request; reading the slice says NotReadableError). Resending
      // would send other bytes or fail forever, so pause and say so.
      if (error instanceof ApiError && error.status === 0 && !(await readable(this.file.slice(start, end)))) {
        if (!this.queue.includes(partNumber)) this.queue.unshift(partNumber);
        if (this.state === 'uploading') this.suspend(this.reasons.of('reason.fileChanged', { name: this.name }));
        return;
      }
      if (this.isFinal) return; // cancelled while the file was checked
      this.emit('part', { partNumber, ok: false, status: error instanceof ApiError ? error.status : undefined });
      this.onPartError(partNumber, error);
    }
  }

  /** Direct mode: the part goes to R2; ETags are reported every ETAG_BATCH parts (and at the end). */
  private async sendDirect(partNumber: number, body: Blob, signal: AbortSignal): Promise<PartReceipt | undefined> {
    await this.direct!.send(partNumber, body, signal);
    return this.direct!.pendingCount >= ETAG_BATCH ? this.direct!.flush() : undefined;
  }

  private onPartError(partNumber: number, error: unknown): void {
    if (!(error instanceof ApiError)) return this.fail(error);
    const action = classify(error);
    if (action === 'fail' || action === 'refresh-token') {
      // Tokens live as long as the upload itself, so an expired one means the upload is over.
      return this.fail(error);
    }
    this.concurrency.failure();
    const attempt = (this.attempts.get(partNumber) ?? 0) + 1;
    this.attempts.set(partNumber, attempt);
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    if (this.breaker.failure() || offline) {
      if (partNumber > 0) this.queue.unshift(partNumber);
      this.suspend(this.reasons.of(offline ? 'reason.offline' : 'reason.connection'));
      // Half-open: try again after a cool-down even if no `online` event comes.
      this.later(() => this.state === 'paused' && this.reasonCode === 'reason.connection' && this.resume(), 15_000);
      return;
    }
    const delay = backoffDelay(attempt, undefined, error.retryAfterSeconds);
    this.later(async () => {
      if (action === 'resync') await this.resync().catch(() => undefined);
      else if (partNumber > 0 && !this.queue.includes(partNumber)) this.queue.unshift(partNumber);
      this.fill();
    }, delay);
  }

  private later(work: () => unknown, ms: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void work();
    }, ms);
    this.retryTimers.add(timer);
  }

  private async resync(): Promise<void> {
    const manifest = await this.ctx.api.manifest(this.id!, this.token);
    if (isAccepting(manifest.state)) this.adopt(manifest);
    else this.onServerMessage({ type: 'snapshot', manifest });
  }

  /** Every part was sent: make sure the server assembles (idempotent), then follow its states. */
  private async partsDone(): Promise<void> {
    if (this.completing || this.isFinal) return;
    this.completing = true;
    this.setState('processing');
    try {
      // Direct mode: the last ETags; once every part is recorded the server assembles by itself.
      const last = await this.direct?.flush();
      if (last) this.acknowledge(last.confirmedBytes, last.confirmedParts);
      if (last && last.confirmedParts === this.partCount) return this.onServerState('assembling');
      const { state } = await this.ctx.api.complete(this.id!, this.token);
      this.onServerState(state);
    } catch (error) {
      this.completing = false;
      if (error instanceof ApiError && error.code === 'ERR_PARTS_MISSING') {
        this.setState('uploading');
        await this.resync();
        return this.fill();
      }
      if (error instanceof ApiError && classify(error) === 'backoff') {
        this.later(() => this.partsDone(), backoffDelay(2));
        return;
      }
      this.fail(error);
    }
  }

  // ---- server events -------------------------------------------------------------------------

  private onServerMessage(message: EventMessage): void {
    if (this.isFinal) return;
    if (message.type === 'progress') return this.acknowledge(message.confirmedBytes, message.confirmedParts);
    const api = this.ctx.api;
    if (message.type === 'derivative') return this.emit('derivative', api.resolveDerivative(message.derivative));
    if (message.type === 'snapshot') {
      this.acknowledge(message.manifest.confirmedBytes, message.manifest.confirmedParts);
      if (message.manifest.state === 'ready') this.manifest = api.resolveManifest(message.manifest);
      return this.onServerState(message.manifest.state, message.manifest.reason);
    }
    this.onServerState(message.state, message.reason, message.result && api.resolveResult(message.result));
  }

  private onServerState(state: UploadState, reason?: string, result?: UploadResult): void {
    if (this.isFinal) return;
    switch (state) {
      case 'ready':
        if (result && this.manifest === undefined) this.manifest = { result } as Manifest;
        void this.finishReady();
        return;
      case 'rejected':
        return this.finish('rejected', this.reasons.fromServer(reason, this.reasons.of('reason.serverRejected')), state);
      case 'failed':
      case 'expired':
      case 'aborted':
        return this.finish('failed', this.reasons.fromServer(reason, this.reasons.of('reason.serverEnded', { state })), state);
      case 'assembling':
      case 'validating':
      case 'processing':
        if (this.state === 'uploading' || this.state === 'processing') this.setState('processing', undefined, state);
        return;
      default:
        return;
    }
  }

  private async finishReady(): Promise<void> {
    try {
      this.manifest = await this.ctx.api.manifest(this.id!, this.token);
    } catch {
      // The state said ready; the manifest is a nicety.
    }
    this.acknowledge(this.file.size, this.partCount);
    await this.forget();
    this.finish('ready', undefined, 'ready');
  }

  /** Server-confirmed totals: the bar only ever moves forward. */
  private acknowledge(confirmedBytes: number, confirmedParts: number): void {
    if (confirmedBytes < this.confirmedBytes) return;
    const moved = confirmedBytes > this.confirmedBytes;
    this.confirmedBytes = confirmedBytes;
    this.confirmedParts = Math.max(this.confirmedParts, confirmedParts);
    if (moved) {
      this.samples.push({ at: Date.now(), bytes: confirmedBytes });
      if (this.samples.length > 50) this.samples.shift();
    }
    this.emit('progress', this.progress);
  }

  // ---- state ---------------------------------------------------------------------------------

  private lastServerState: UploadState | undefined;

  private setState(state: ClientState, reason?: Reason, serverState?: UploadState): void {
    if (this.isFinal) return; // a final state is final, whatever an earlier await comes back with
    // The same client state may cover several server states (processing: assembling → validating → processing).
    if (this.state === state && this.reasonCode === reason?.code && (serverState === undefined || serverState === this.lastServerState)) return;
    if (serverState !== undefined) this.lastServerState = serverState;
    this.state = state;
    this.reason = reason?.text;
    this.reasonCode = reason?.code;
    this.emit('state', { state, ...(reason ? { reason: reason.text, reasonCode: reason.code } : {}), ...(serverState ? { serverState } : {}) });
  }

  private suspend(reason: Reason): void {
    this.setState('paused', reason);
    this.stopTransfers(false);
  }

  private stopTransfers(stopFeed = true): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const [partNumber, { controller }] of this.inflight) {
      if (!this.queue.includes(partNumber)) this.queue.unshift(partNumber);
      controller.abort(PAUSED);
    }
    this.queue.sort((a, b) => a - b);
    if (stopFeed) this.feed?.stop();
  }

  private fail(error: unknown): void {
    if (this.isFinal) return;
    const reason = this.reasons.fromError(error);
    // Programs get the raw message; people get the reason in their language.
    this.emit('error', { code: reason.code, message: error instanceof Error ? error.message : String(error) });
    this.finish('failed', reason);
  }

  private finish(state: ClientState, reason?: Reason, serverState?: UploadState, settle = true): void {
    if (this.isFinal) return;
    this.stopTransfers();
    this.watchNetwork(false);
    this.setState(state, reason, serverState);
    for (const wake of [...this.sleepers]) wake();
    this.releaseSlot?.();
    if (this.ownsRecord) this.ctx.openFingerprints.delete(this.fp);
    if (settle) this.resolveDone(state);
  }

  private watchNetwork(on: boolean): void {
    if (typeof addEventListener !== 'function' || typeof window === 'undefined') return;
    if (on) {
      addEventListener('online', this.onOnline);
      addEventListener('offline', this.onOffline);
    } else {
      removeEventListener('online', this.onOnline);
      removeEventListener('offline', this.onOffline);
    }
  }
}

/** False when the browser can no longer read the bytes (the file changed or went away). */
async function readable(slice: Blob): Promise<boolean> {
  try {
    await slice.slice(0, 1).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
