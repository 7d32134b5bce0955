/**
 * @module The session's side of the processing pipeline: what the consumer reads, one run at a
 * time, its verdict (through the state machine), derivatives as they appear, and what the media
 * routes may serve. Verdicts on an upload cancelled meanwhile are accepted and cleaned up.
 */
import { fail, ok, type Result } from '../../domain/errors';
import type { DerivativeInfo, Manifest, ProcessMessage, UploadResult, Visibility } from '../../contracts/messages';
import { isGone, isInPipeline, type UploadState } from '../../contracts/upload-states';
import { derivativeKey } from '../../storage/object-keys';
import { processMessage } from './lifecycle';
import { manifestOf } from './manifest-view';
import type { SessionScope } from './scope';
import { uploadGone, uploadNotFound } from './transitions';

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
  /** "private": answered only with a signed URL. */
  visibility: Visibility;
}

export class SessionPipeline {
  constructor(private readonly scope: SessionScope) {}

  private get store() {
    return this.scope.store;
  }

  /** Where the assembled object is, while it is being validated. */
  processingTarget(): Result<ProcessMessage & { state: UploadState; owner: string; createdAt: number; partRetries: number }> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    return ok({ ...processMessage(upload), state: upload.state, owner: upload.owner, createdAt: upload.createdAt, partRetries: upload.partRetries });
  }

  /** One processing run at a time: a second delivery of the same job waits (and retries later). */
  claimProcessing(): Result<{ claimId: string }> {
    const claim = this.scope.claims.processing.acquire('processing');
    if (!claim.ok) return fail('ERR_UPLOAD_LOCKED', 'This upload is being processed already.', { retryAfterSeconds: Math.ceil(claim.retryAfterMs / 1000) });
    return ok({ claimId: claim.id });
  }

  releaseProcessing(claimId: string): void {
    this.scope.claims.processing.release('processing', claimId);
  }

  /** Deduplicated: serve the owner's existing copy of these bytes from now on. */
  useStoredCopy(key: string): Result<{ key: string }> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isInPipeline(upload.state)) this.store.setKey(key);
    return ok({ key: this.store.upload()!.key });
  }

  /** Validation passed; derivatives are being made. */
  async processingStarted(): Promise<Result<{ state: UploadState }>> {
    const applied = await this.scope.apply({ type: 'processingStarted' });
    return applied.ok ? ok({ state: applied.value }) : applied;
  }

  /** The pipeline's verdict. Idempotent: a re-delivered message changes nothing. */
  async finishProcessing(outcome: ProcessingOutcome): Promise<Result<Manifest>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (outcome.ok) {
      const result: UploadResult = {
        url: `/media/${upload.id}`,
        detectedType: outcome.detectedType,
        ...(outcome.sha256 ? { sha256: outcome.sha256 } : {}),
        ...outcome.extra,
      };
      if (outcome.key && isInPipeline(upload.state)) this.store.setKey(outcome.key);
      await this.scope.apply({ type: 'processed' }, isInPipeline(upload.state) ? result : undefined);
    } else {
      await this.scope.apply({ type: 'rejected', reason: `${outcome.code}: ${outcome.message}` });
    }
    return ok(manifestOf(this.store, this.store.upload()!));
  }

  /** The pipeline gave up on this upload (dead-letter queue), or its bytes could not be fetched. */
  async failProcessing(reason: string): Promise<Result<{ state: UploadState }>> {
    const applied = await this.scope.apply({ type: 'failed', reason });
    return applied.ok ? ok({ state: applied.value }) : applied;
  }

  /** A derivative was stored: subscribers see it as it appears. */
  recordDerivative(derivative: DerivativeInfo): void {
    this.scope.hub.broadcast({ type: 'derivative', derivative });
  }

  /** What `GET /media/:id[/:variant]` needs, once the upload is ready. */
  media(variant?: string): Result<MediaInfo> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (upload.state !== 'ready') {
      if (isGone(upload.state)) return uploadGone(upload);
      return fail('ERR_NOT_READY', `The upload is ${upload.state}, not ready.`, { state: upload.state, reason: upload.reason });
    }
    if (upload.partial) return fail('ERR_NOT_FOUND', 'A partial upload is a fragment of another; fetch the final upload.');
    const info = { key: upload.key, type: upload.type, name: upload.name, size: upload.size ?? 0, visibility: upload.visibility };
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
      visibility: upload.visibility,
    });
  }

  /** For concatenation: a complete partial upload's object and owner. */
  partialSource(): Result<{ key: string; size: number; owner: string }> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (!upload.partial) return fail('ERR_VALIDATION', 'Only partial uploads (Upload-Concat: partial) can be concatenated.');
    if (upload.state !== 'ready' || upload.size === null) return fail('ERR_NOT_READY', 'This partial upload is not complete yet.', { state: upload.state });
    return ok({ key: upload.key, size: upload.size, owner: upload.owner });
  }
}
