/**
 * @module Writes into the upload, for every protocol, in one claim → confirm → release
 * vocabulary: a part PUT (native API, S3-style parts), a part sent straight to R2 (direct mode),
 * a streamed write (tus PATCH, form POST, URL import), and completion (by the plan, or by an
 * S3-style part list). Every path records parts through `confirm()`, and every size that becomes
 * known goes through `reserve()`: so the file-size limit and the storage quota hold on all of them.
 */
import { fail, ok, type Result } from '../../domain/errors';
import { decide } from '../../domain/upload-machine';
import { MAX_PARTS, partRange, type PartPlan } from '../../domain/part-plan';
import { loadConfig } from '../../config';
import type { PartReceipt } from '../../contracts/messages';
import { isAccepting, isGone, type UploadState } from '../../contracts/upload-states';
import { normalizeEtag } from '../../storage/presign';
import { ledgerStub } from '../session-stub';
import type { UploadRow } from './manifest-store';
import { missingParts, receiptOf } from './manifest-view';
import type { SessionScope } from './scope';
import { uploadGone, uploadNotFound } from './transitions';

const gone = (upload: UploadRow) => uploadGone(upload, true);

export interface PartClaim {
  kind: 'claimed';
  key: string;
  r2UploadId: string;
  claimId: string;
}

export interface PartConfirmation {
  partNumber: number;
  size: number;
  etag: string;
  digest: string | null;
  claimId: string;
  /** The PUT's request id, carried into what this part may set off (assembly, processing). */
  requestId?: string;
}

export interface StreamClaim {
  claimId: string;
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
  /** The most the upload may hold while its size is unknown. */
  maxSize: number;
}

export interface StreamStatus {
  state: UploadState;
  offset: number;
  size: number | null;
  expiresAt: string;
  metadata: Record<string, string> | null;
  partial: boolean;
  /** A streamed write is running: the offset may still move. */
  writing: boolean;
}


/** Why a write is refused in this state (the machine's answer to a confirmed part), or null. */
function refusal(upload: UploadRow): Result<never> | null {
  const d = decide(upload, { type: 'partConfirmed' });
  return d.kind === 'refuse' ? fail(d.code, d.message, { state: upload.state }) : null;
}

export class SessionWrites {
  constructor(private readonly scope: SessionScope) {}

  private get store() {
    return this.scope.store;
  }

  // ---- sizes and quota ---------------------------------------------------------------------

  /**
   * The upload will hold `bytes`: refused past its file-size limit, and counted against the
   * owner's storage quota (asked again only when the reservation must grow: for uploads of unknown
   * size, one ledger call per part, reserving exactly what arrived so the owner's quota is never
   * held by bytes that may not come).
   */
  private async reserve(upload: UploadRow, bytes: number): Promise<Result<void>> {
    const limits = this.scope.limitsOf(upload);
    if (bytes > limits.maxFileSize) {
      return fail('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${limits.maxFileSize} bytes.`, { maxFileSize: limits.maxFileSize });
    }
    if (bytes <= upload.reservedBytes) return ok(undefined);
    const reserved: Result<unknown> = await ledgerStub(this.scope.env, upload.owner).resize(upload.id, bytes, limits);
    if (!reserved.ok) return reserved;
    this.store.setReservedBytes(Math.max(this.store.upload()!.reservedBytes, bytes));
    return ok(undefined);
  }

  /** Bytes the upload holds if part `partNumber` (of `size`) is recorded. */
  private totalWith(upload: UploadRow, partNumber: number, size: number): number {
    const replaced = this.store.part(partNumber)?.size ?? 0;
    return this.store.totals().confirmedBytes - replaced + size + upload.stagedBytes;
  }

  /** What part `n` must be: an exact size under a known plan, or up to the maximum while the size is open. */
  private expectedPart(upload: UploadRow, n: number): { exact: number; max?: undefined } | { exact?: undefined; max: number } | null {
    if (upload.size !== null) {
      const range = partRange(upload as PartPlan, n);
      return range ? { exact: range.size } : null;
    }
    if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) return null;
    return { max: loadConfig(this.scope.env).partLimits.max };
  }

  private badPartNumber(upload: UploadRow) {
    return fail('ERR_PART_NUMBER', `Part number must be between 1 and ${upload.partCount ?? MAX_PARTS}.`, { partCount: upload.partCount });
  }

  /** One part recorded, by any path: limits and quota first, then atomically with the new expiry. */
  private async confirm(partNumber: number, size: number, etag: string, digest: string | null): Promise<Result<PartReceipt>> {
    const upload = this.store.upload()!;
    const total = this.totalWith(upload, partNumber, size);
    // Within what is reserved (always, for a planned upload): no ledger call on the part path.
    if (total > upload.reservedBytes) {
      const reserved = await this.reserve(upload, total);
      if (!reserved.ok) return reserved;
      // The reservation awaited the ledger: the upload may have moved on meanwhile.
      const refused = refusal(this.store.upload()!);
      if (refused) return refused;
    }
    this.scope.ctx.storage.transactionSync(() => {
      this.store.confirmPart({ partNumber, size, etag, digest });
      this.store.extendExpiry(Date.now() + loadConfig(this.scope.env).uploadTtlSeconds * 1000);
    });
    await this.scope.apply({ type: 'partConfirmed' });
    this.scope.hub.progressChanged();
    const receipt = receiptOf(this.store, partNumber, size, etag);
    const now = this.store.upload()!;
    if (now.partCount !== null && receipt.confirmedParts === now.partCount && now.stagedBytes === 0) await this.scope.apply({ type: 'completeRequested' });
    return ok(receipt);
  }

  // ---- a part PUT through the Worker ---------------------------------------------------------

  /**
   * Claims part `partNumber` for one PUT of `contentLength` bytes. Refused when the upload is not
   * accepting parts, the number or length is wrong, the bytes would pass a limit or the quota, or
   * another PUT of the part is in flight. A part re-sent after the upload moved on is answered
   * from the manifest (idempotent).
   */
  async claimPart(partNumber: number, contentLength: number): Promise<Result<PartClaim | ({ kind: 'confirmed' } & PartReceipt)>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    const expected = this.expectedPart(upload, partNumber);
    if (!expected) return this.badPartNumber(upload);
    if (expected.exact !== undefined ? contentLength !== expected.exact : contentLength < 1 || contentLength > expected.max) {
      return expected.exact !== undefined
        ? fail('ERR_PART_SIZE', `Part ${partNumber} must be exactly ${expected.exact} bytes, not ${contentLength}.`, { expectedSize: expected.exact })
        : fail('ERR_PART_SIZE', `Part ${partNumber} must be 1 to ${expected.max} bytes, not ${contentLength}.`, { maxSize: expected.max });
    }
    if (!isAccepting(upload.state)) {
      const part = this.store.part(partNumber);
      if (part) return ok({ kind: 'confirmed', ...receiptOf(this.store, part.partNumber, part.size, part.etag) });
      return refusal(upload)!;
    }
    // Unknown size: refuse bytes past the limits before they are sent, not only when recorded.
    if (upload.size === null) {
      const reserved = await this.reserve(upload, this.totalWith(upload, partNumber, contentLength));
      if (!reserved.ok) return reserved;
    }
    const claim = this.scope.claims.parts.acquire(partNumber);
    if (!claim.ok) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${partNumber} is being uploaded by another request.`, {
        retryAfterSeconds: Math.ceil(claim.retryAfterMs / 1000),
      });
    }
    return ok({ kind: 'claimed', key: upload.key, r2UploadId: upload.r2UploadId, claimId: claim.id });
  }

  /** Records a part R2 accepted, if this PUT still holds the part's claim. */
  async confirmPart(part: PartConfirmation): Promise<Result<PartReceipt>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    const refused = refusal(upload);
    if (refused) return refused;
    // A lost or expired claim still counts while nobody else took the part: its bytes are the latest in R2.
    if (!this.scope.claims.parts.valid(part.partNumber, part.claimId)) {
      return fail('ERR_PART_IN_FLIGHT', `Part ${part.partNumber} was claimed by another request; send it again.`);
    }
    this.scope.claims.parts.release(part.partNumber, part.claimId);
    return this.confirm(part.partNumber, part.size, part.etag, part.digest);
  }

  /** Gives up a claim after a failed PUT, so a retry need not wait for it to expire. */
  releasePart(partNumber: number, claimId: string): void {
    this.scope.claims.parts.release(partNumber, claimId);
  }

  // ---- a part sent straight to R2 ------------------------------------------------------------

  /** Where a client may PUT part `partNumber` straight to R2, and its exact size when planned. */
  claimDirectPart(partNumber: number): Result<{ key: string; r2UploadId: string; size: number | null }> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    const expected = this.expectedPart(upload, partNumber);
    if (!expected) return this.badPartNumber(upload);
    const refused = refusal(upload);
    if (refused) return refused;
    return ok({ key: upload.key, r2UploadId: upload.r2UploadId, size: expected.exact ?? null });
  }

  /** `claimDirectPart` for parts `from`…`to` in one call (a batch presign). Parts past the plan are left out. */
  claimDirectParts(from: number, to: number): Result<{ key: string; r2UploadId: string; parts: { partNumber: number; size: number | null }[] }> {
    const first = this.claimDirectPart(from);
    if (!first.ok) return first;
    const parts = [{ partNumber: from, size: first.value.size }];
    for (let n = from + 1; n <= to; n++) {
      const next = this.claimDirectPart(n);
      if (!next.ok) break;
      parts.push({ partNumber: n, size: next.value.size });
    }
    return ok({ key: first.value.key, r2UploadId: first.value.r2UploadId, parts });
  }

  /**
   * Records a part the client PUT straight to R2, by its ETag (R2 checks it at completion) and
   * size (planned, or what R2's ListParts reported). A part that was larger than planned is
   * caught when the assembled object's size is checked.
   */
  async confirmDirectPart(partNumber: number, etag: string, size?: number): Promise<Result<PartReceipt>> {
    const target = this.claimDirectPart(partNumber);
    if (!target.ok) return target;
    const partSize = target.value.size ?? size;
    if (partSize === undefined) return fail('ERR_PART_SIZE', 'The size of the part is needed while the upload size is unknown.');
    return this.confirm(partNumber, partSize, etag, null);
  }

  /**
   * Several direct parts reported at once (one request instead of one per part): each goes through
   * the same `confirm()` in order. Stops at the first refusal and answers it with the receipts of
   * the parts recorded before it, so the client knows which to report again.
   */
  async confirmDirectParts(list: readonly { partNumber: number; etag: string; size?: number }[]): Promise<Result<{ parts: PartReceipt[] }>> {
    const parts: PartReceipt[] = [];
    for (const { partNumber, etag, size } of list) {
      const receipt = await this.confirmDirectPart(partNumber, etag, size);
      if (!receipt.ok) return { ...receipt, error: { ...receipt.error, details: { ...receipt.error.details, partNumber, recorded: parts.map((p) => p.partNumber) } } };
      parts.push(receipt.value);
    }
    return ok({ parts });
  }

  // ---- streamed writes -----------------------------------------------------------------------

  /**
   * Claims the upload for one streamed write starting at `offset`, which must be the server's
   * offset (confirmed bytes plus staged bytes). Refused while another write holds the claim.
   */
  claimStream(offset: number): Result<StreamClaim> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    if (!isAccepting(upload.state)) {
      return fail('ERR_UPLOAD_STATE', `The upload is ${upload.state} and accepts no more bytes.`, { state: upload.state });
    }
    const state = this.streamState(upload);
    if (offset !== state.offset) {
      return fail('ERR_OFFSET_MISMATCH', `The upload is at offset ${state.offset}, not ${offset}.`, { offset: state.offset });
    }
    const claim = this.scope.claims.stream.acquire('stream');
    if (!claim.ok) return fail('ERR_UPLOAD_LOCKED', 'Another write to this upload is in progress.');
    return ok({ ...state, claimId: claim.id });
  }

  /** A full part of a streamed write reached R2: confirmed, the staged bytes it took in consumed. */
  async confirmStreamedPart(claimId: string, partNumber: number, size: number, etag: string): Promise<Result<StreamClaim>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (!this.scope.claims.stream.valid('stream', claimId)) return fail('ERR_UPLOAD_LOCKED', 'This write lost its lock on the upload.');
    const refused = refusal(upload);
    if (refused) return refused;
    this.scope.claims.stream.renew('stream', claimId);
    const staged = upload.stagedBytes;
    this.store.setStagedBytes(0);
    const confirmed = await this.confirm(partNumber, size, etag, null);
    if (!confirmed.ok) {
      this.store.setStagedBytes(staged);
      return confirmed;
    }
    return ok({ ...this.streamState(this.store.upload()!), claimId });
  }

  /** The tail of a streamed write was saved to the staging object. */
  stageStream(claimId: string, stagedBytes: number): Result<StreamClaim> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (!this.scope.claims.stream.valid('stream', claimId)) return fail('ERR_UPLOAD_LOCKED', 'This write lost its lock on the upload.');
    this.store.setStagedBytes(stagedBytes);
    return ok({ ...this.streamState(this.store.upload()!), claimId });
  }

  releaseStream(claimId: string): void {
    this.scope.claims.stream.release('stream', claimId);
  }

  /** Offset and size as streamed protocols report them (tus HEAD). */
  streamStatus(): Result<StreamStatus> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    const offset = isAccepting(upload.state) ? this.streamState(upload).offset : (upload.size ?? 0);
    return ok({
      state: upload.state,
      offset,
      size: upload.size,
      expiresAt: new Date(upload.expiresAt).toISOString(),
      metadata: upload.metadata,
      partial: upload.partial,
      writing: this.scope.claims.stream.isHeld('stream'),
    });
  }

  private streamState(upload: UploadRow): Omit<StreamClaim, 'claimId'> {
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
      maxSize: this.scope.limitsOf(upload).maxFileSize,
    };
  }

  // ---- sizes settled late and completion ----------------------------------------------------

  /** Confirmed parts with their ETags (S3 ListParts). */
  listParts(): Result<{ partNumber: number; size: number; etag: string }[]> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    return ok(this.store.parts().map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag })));
  }

  /** The size became known (tus Upload-Length after Upload-Defer-Length, a form POST's end). */
  async declareSize(size: number): Promise<Result<{ size: number; partCount: number }>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    if (isGone(upload.state)) return gone(upload);
    if (upload.size !== null) {
      return upload.size === size ? ok({ size, partCount: upload.partCount! }) : fail('ERR_VALIDATION', `The size is already ${upload.size}.`);
    }
    if (size < this.store.totals().confirmedBytes + upload.stagedBytes || size === 0) return fail('ERR_VALIDATION', 'The size is smaller than what was already received.');
    const partCount = Math.ceil(size / upload.partSize);
    if (partCount > MAX_PARTS) return fail('ERR_FILE_TOO_LARGE', 'The file needs more parts than R2 allows at this part size.');
    const reserved = await this.reserve(upload, size);
    if (!reserved.ok) return reserved;
    // Every part may be in already (a length that is a multiple of the part size, declared last):
    // the write that declared it asks for completion when it ends (the stream writer does).
    this.store.setSize(size, upload.partSize, partCount);
    return ok({ size, partCount });
  }

  /** Completion by the plan: idempotent; assembles when every part is confirmed. */
  async complete(): Promise<Result<{ state: UploadState }>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    const early = this.settledCompletion(upload);
    if (early) return early;
    if (upload.size === null) {
      return fail('ERR_SIZE_UNKNOWN', 'The size of this upload is not known yet: declare it, or complete with the list of parts.');
    }
    const missing = missingParts(upload, this.store.parts());
    if (missing.length > 0) {
      return fail('ERR_PARTS_MISSING', `${missing.length} part(s) are not confirmed yet.`, { missingParts: missing.slice(0, 1000), missingCount: missing.length });
    }
    const applied = await this.scope.apply({ type: 'completeRequested' });
    return applied.ok ? ok({ state: applied.value }) : applied;
  }

  /**
   * S3-style completion: the client names the parts (1..n, in order) that make the file. They must
   * be confirmed (with the ETags given), all but the last of one size, the last no larger. The size
   * follows, is checked against the limits and the quota, and assembly starts. Idempotent.
   */
  async completeWithParts(parts: { partNumber: number; etag?: string }[]): Promise<Result<{ state: UploadState; size: number }>> {
    const upload = this.store.upload();
    if (!upload) return uploadNotFound();
    const early = this.settledCompletion(upload);
    if (early) return early.ok ? ok({ ...early.value, size: upload.size ?? 0 }) : early;
    const stored = new Map(this.store.parts().map((p) => [p.partNumber, p]));
    const listed = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (listed.length === 0) return fail('ERR_PART_LIST', 'Name at least one part.');
    const sizes: number[] = [];
    for (const [i, part] of listed.entries()) {
      const have = stored.get(part.partNumber);
      if (part.partNumber !== i + 1) return fail('ERR_PART_LIST', `Parts must be numbered 1 to ${listed.length} without gaps.`);
      if (!have) return fail('ERR_PARTS_MISSING', `Part ${part.partNumber} was never received.`, { missingParts: [part.partNumber] });
      if (part.etag !== undefined && normalizeEtag(part.etag) !== have.etag) {
        return fail('ERR_PART_LIST', `Part ${part.partNumber} has another ETag than the one named.`);
      }
      sizes.push(have.size);
    }
    const partSize = sizes[0]!;
    if (sizes.some((size, i) => (i < sizes.length - 1 ? size !== partSize : size > partSize))) {
      return fail('ERR_PART_LIST', 'All parts but the last must be the same size, and the last no larger (R2 requires it).');
    }
    const size = sizes.reduce((a, b) => a + b, 0);
    const reserved = await this.reserve(upload, size);
    if (!reserved.ok) return reserved;
    this.scope.ctx.storage.transactionSync(() => {
      this.store.keepOnlyParts(listed.map((p) => p.partNumber));
      this.store.setSize(size, partSize, listed.length);
    });
    const applied = await this.scope.apply({ type: 'completeRequested' });
    return applied.ok ? ok({ state: applied.value, size }) : applied;
  }

  /** The answer to a completion once parts are no longer accepted (the machine's), or null while they are. */
  private settledCompletion(upload: UploadRow): Result<{ state: UploadState }> | null {
    const d = decide(upload, { type: 'completeRequested' });
    if (d.kind === 'refuse') return fail(d.code, d.message, { state: upload.state, ...(upload.reason ? { reason: upload.reason } : {}) });
    return d.kind === 'stay' ? ok({ state: upload.state }) : null;
  }
}
