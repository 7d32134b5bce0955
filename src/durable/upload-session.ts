/**
 * @module UploadSession: one Durable Object per upload, the authoritative manifest. A thin RPC
 * surface: each method delegates to one concern — writes (claims and confirmations for every
 * protocol), lifecycle (create, cancel, the alarm), pipeline (processing and media), events (the
 * hub) — and every state change goes through the pure state machine (`apply`). Part bytes never
 * pass through here. Methods return plain `Result` values; the adapters turn them into responses.
 */
import { DurableObject } from 'cloudflare:workers';
import { loadConfig } from '../config';
import type { Result } from '../domain/errors';
import type { Env } from '../env';
import type { DerivativeInfo, EventMessage, Manifest } from '../contracts/messages';
import { isSaneRequestId } from '../observability/request-id';
import { R2Store } from '../storage/r2-store';
import { SessionClaims } from './session/claims';
import { fileView, updateFile, type FileChanges } from './session/files';
import { EventHub } from './session/event-hub';
import { alarm, cancel, cleanUp, createSession, sweepOnce, type CreateSessionInput } from './session/lifecycle';
import { ManifestStore, type UploadLimits } from './session/manifest-store';
import { manifestOf, progressOf } from './session/manifest-view';
import { SessionPipeline, type ProcessingOutcome } from './session/pipeline';
import type { SessionScope } from './session/scope';
import { applyEvent, uploadNotFound } from './session/transitions';
import { SessionWrites, type PartConfirmation } from './session/writes';

export type { FileChanges, FileView } from './session/files';
export type { CreateSessionInput } from './session/lifecycle';
export type { UploadLimits } from './session/manifest-store';
export type { MediaInfo, ProcessingOutcome } from './session/pipeline';
export type { PartClaim, PartConfirmation, StreamClaim } from './session/writes';

/** Uploads opened before their limits were recorded follow the deployment's settings. */
function deploymentLimits(env: Env): UploadLimits {
  const config = loadConfig(env);
  return { maxFileSize: config.maxFileSize, ...config.quotas };
}

export class UploadSession extends DurableObject<Env> {
  private readonly scope: SessionScope;
  private readonly writes: SessionWrites;
  private readonly pipeline: SessionPipeline;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const store = new ManifestStore(ctx.storage.sql);
    const scope: SessionScope = {
      ctx,
      env,
      store,
      r2: new R2Store(env.BUCKET),
      hub: new EventHub(ctx, () => progressOf(store)),
      claims: new SessionClaims(),
      apply: (event, result) => applyEvent(scope, event, result),
      limitsOf: (upload) => upload.limits ?? deploymentLimits(env),
      trace: (requestId) => {
        if (requestId && isSaneRequestId(requestId)) store.setRequestId(requestId);
      },
    };
    this.scope = scope;
    this.writes = new SessionWrites(scope);
    this.pipeline = new SessionPipeline(scope);
    // Keep-alive pings are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  // ---- lifecycle -----------------------------------------------------------------------------
  create(input: CreateSessionInput) {
    return createSession(this.scope, input);
  }
  manifest(): Result<Manifest> {
    const upload = this.scope.store.upload();
    return upload ? { ok: true, value: manifestOf(this.scope.store, upload) } : uploadNotFound();
  }
  abort(requestId?: string) {
    this.scope.trace(requestId);
    return cancel(this.scope);
  }
  override async alarm(): Promise<void> {
    await alarm(this.scope);
  }
  /** For the cron sweep: does whatever the alarm should have done by now. */
  sweep() {
    return sweepOnce(this.scope);
  }
  /** For the cleanup consumer: removes what an upload that ended without a file stored. */
  cleanUp() {
    return cleanUp(this.scope);
  }

  // ---- the files API -------------------------------------------------------------------------
  fileView() {
    return fileView(this.scope);
  }
  /** Renames, replaces the metadata or changes the visibility; the app hears of it as `upload.updated`. */
  updateFile(changes: FileChanges) {
    return updateFile(this.scope, changes);
  }

  // ---- writes (claim → confirm → release, for every protocol) --------------------------------
  claimPart(partNumber: number, contentLength: number) {
    return this.writes.claimPart(partNumber, contentLength);
  }
  confirmPart(part: PartConfirmation) {
    this.scope.trace(part.requestId);
    return this.writes.confirmPart(part);
  }
  releasePart(partNumber: number, claimId: string): void {
    this.writes.releasePart(partNumber, claimId);
  }
  claimDirectPart(partNumber: number) {
    return this.writes.claimDirectPart(partNumber);
  }
  confirmDirectPart(partNumber: number, etag: string, size?: number, requestId?: string) {
    this.scope.trace(requestId);
    return this.writes.confirmDirectPart(partNumber, etag, size);
  }
  claimDirectParts(from: number, to: number) {
    return this.writes.claimDirectParts(from, to);
  }
  confirmDirectParts(list: { partNumber: number; etag: string; size?: number }[]) {
    return this.writes.confirmDirectParts(list);
  }
  claimStream(offset: number) {
    return this.writes.claimStream(offset);
  }
  confirmStreamedPart(claimId: string, partNumber: number, size: number, etag: string, requestId?: string) {
    this.scope.trace(requestId);
    return this.writes.confirmStreamedPart(claimId, partNumber, size, etag);
  }
  stageStream(claimId: string, stagedBytes: number) {
    return this.writes.stageStream(claimId, stagedBytes);
  }
  releaseStream(claimId: string): void {
    this.writes.releaseStream(claimId);
  }
  streamStatus() {
    return this.writes.streamStatus();
  }
  listParts() {
    return this.writes.listParts();
  }
  declareSize(size: number, requestId?: string) {
    this.scope.trace(requestId);
    return this.writes.declareSize(size);
  }
  complete(requestId?: string) {
    this.scope.trace(requestId);
    return this.writes.complete();
  }
  completeWithParts(parts: { partNumber: number; etag?: string }[], requestId?: string) {
    this.scope.trace(requestId);
    return this.writes.completeWithParts(parts);
  }

  // ---- pipeline ------------------------------------------------------------------------------
  processingTarget() {
    return this.pipeline.processingTarget();
  }
  claimProcessing() {
    return this.pipeline.claimProcessing();
  }
  releaseProcessing(claimId: string): void {
    this.pipeline.releaseProcessing(claimId);
  }
  useStoredCopy(key: string) {
    return this.pipeline.useStoredCopy(key);
  }
  processingStarted() {
    return this.pipeline.processingStarted();
  }
  finishProcessing(outcome: ProcessingOutcome) {
    return this.pipeline.finishProcessing(outcome);
  }
  failProcessing(reason: string) {
    return this.pipeline.failProcessing(reason);
  }
  /** The upload cannot succeed (e.g. its URL import failed for good): failed, with the reason, and cleaned up. */
  failUpload(reason: string) {
    return this.pipeline.failProcessing(reason);
  }
  recordDerivative(derivative: DerivativeInfo): void {
    this.pipeline.recordDerivative(derivative);
  }
  media(variant?: string) {
    return this.pipeline.media(variant);
  }
  partialSource() {
    return this.pipeline.partialSource();
  }

  // ---- events: only the events stream comes through fetch() ---------------------------------
  override async fetch(request: Request): Promise<Response> {
    const upload = this.scope.store.upload();
    if (!upload) return Response.json({ error: uploadNotFound().error }, { status: 404 });
    const subscribed = this.scope.hub.subscribe(request, { type: 'snapshot', manifest: manifestOf(this.scope.store, upload) });
    return subscribed.ok ? subscribed.value : Response.json({ error: subscribed.error }, { status: 429 });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== 'string') return;
    this.scope.hub.snapshotRequested(ws, (): EventMessage | null => {
      const upload = this.scope.store.upload();
      return upload ? { type: 'snapshot', manifest: manifestOf(this.scope.store, upload) } : null;
    });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'closing');
    } catch {
      // Already closed.
    }
  }
}
