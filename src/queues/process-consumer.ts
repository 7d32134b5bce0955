/**
 * @module The processing consumer for `upload.assembled`: validate and scan (nothing is servable
 * before this passes), deduplicate by content, make image derivatives, then report to the session.
 * Idempotent: the session ignores work on an upload it no longer processes, derivative keys are
 * deterministic, and the ledger counts an upload's content once. Large files are validated in
 * slices, one per delivery: each saves its progress in R2 and queues the same message again.
 */
import { loadConfig } from '../config';
import { unwrap } from '../domain/errors';
import { ledgerStub, sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import type { ProcessMessage } from '../contracts/messages';
import { isInPipeline, type UploadState } from '../contracts/upload-states';
import { srcsetOf } from '../media/variants';
import { R2Store } from '../storage/r2-store';
import { makeDerivatives } from '../pipeline/make-derivatives';
import { deleteSliceState } from '../pipeline/slice-state';
import { validateUpload } from '../pipeline/validate-upload';

/** What one delivery did, for the queue handler's log line and metrics. */
export interface ProcessOutcome {
  outcome: 'ready' | 'rejected' | 'failed' | 'continued' | 'skipped';
  /** The reason code of a rejection or failure. */
  code?: string;
  detectedType?: string;
  /** Bytes hashed and scanned by this delivery, when it processed one slice of a larger file. */
  sliceBytes?: number;
  /**
   * Bytes this delivery read and relayed to every scanner (its slice and the overlap before it):
   * what bounds its work, whatever the file's size.
   */
  scannedBytes?: number;
  /** Where the next slice starts. */
  sliceOffset?: number;
  /** At ready: from the upload's creation to now, and how many parts were sent again. */
  timeToReadyMs?: number;
  partRetries?: number;
}

export async function processUpload(message: ProcessMessage, env: Env): Promise<ProcessOutcome> {
  const outcome = await claimAndRun(message, env);
  if (outcome.outcome === 'continued') {
    // Sent only after the claim is released, so the next slice is not refused by our own claim.
    await env.PROCESS_QUEUE.send(message);
  } else {
    // Processing ended (or had ended): the slice progress is no longer needed.
    await deleteSliceState(new R2Store(env.BUCKET), message.uploadId);
  }
  return outcome;
}

async function claimAndRun(message: ProcessMessage, env: Env): Promise<ProcessOutcome> {
  const session = sessionStub(env, message.uploadId);
  const decided = (state: UploadState) => !isInPipeline(state);
  if (decided(unwrap(await session.processingTarget()).state)) return { outcome: 'skipped' }; // a redelivery: nothing to do
  // A concurrent delivery of the same job holds the claim: this one fails and retries later.
  const { claimId } = unwrap(await session.claimProcessing());
  try {
    const target = unwrap(await session.processingTarget());
    if (decided(target.state)) return { outcome: 'skipped' }; // decided while we waited for the claim
    return await runPipeline(message, env, session, target);
  } finally {
    await session.releaseProcessing(claimId);
  }
}

async function runPipeline(
  message: ProcessMessage,
  env: Env,
  session: ReturnType<typeof sessionStub>,
  target: ProcessMessage & { owner: string; createdAt: number; partRetries: number },
): Promise<ProcessOutcome> {
  const store = new R2Store(env.BUCKET);
  // Read what the session serves: after a deduplication that is the shared object, not our copy.
  const source: ProcessMessage = { ...message, key: target.key };

  const validation = await validateUpload(source, store, env);
  // A large file: one slice done and saved; the next invocation continues from there.
  if (validation.ok === 'continue') {
    return { outcome: 'continued', sliceBytes: validation.bytes, scannedBytes: validation.scannedBytes, sliceOffset: validation.offset };
  }
  if (!validation.ok) {
    // Nothing rejected stays stored: delete before the verdict, so a retry finds the same end state.
    if (target.key === message.key) await store.delete(message.key);
    unwrap(await session.finishProcessing(validation));
    return { outcome: 'rejected', code: validation.code };
  }

  // Identical bytes already stored for this owner: point the session at them first, then drop
  // our copy, so a redelivery after a crash here still finds bytes to read.
  const claim = await ledgerStub(env, target.owner).claimContent(message.uploadId, validation.sha256, message.key, message.size);
  if (claim.duplicate) {
    unwrap(await session.useStoredCopy(claim.key));
    if (claim.key !== message.key) await store.delete(message.key);
  }

  unwrap(await session.processingStarted());
  const { variants } = loadConfig(env);
  const { derivatives, skipped, corrupt, placeholder } = await makeDerivatives(
    {
      uploadId: message.uploadId,
      originalKey: claim.key,
      sha256: validation.sha256,
      detectedType: validation.detectedType,
      size: message.size,
      store,
      variants,
      images: env.IMAGES,
    },
    async (derivative) => session.recordDerivative(derivative),
  );
  const srcset = srcsetOf(derivatives, variants);
  if (corrupt) {
    // The session releases the content (and deletes what nothing else references).
    if (claim.key === message.key) await store.delete(message.key);
    unwrap(await session.finishProcessing({ ok: false, code: 'ERR_IMAGE_CORRUPT', message: `The image cannot be decoded: ${corrupt}` }));
    return { outcome: 'rejected', code: 'ERR_IMAGE_CORRUPT' };
  }
  unwrap(
    await session.finishProcessing({
      ok: true,
      detectedType: validation.detectedType,
      sha256: validation.sha256,
      key: claim.key,
      extra: {
        scannedBy: validation.scannedBy,
        ...(claim.duplicate ? { deduplicated: true } : {}),
        ...(derivatives.length > 0 ? { derivatives } : {}),
        ...(srcset ?? {}),
        ...(placeholder ? { placeholder } : {}),
        ...(skipped ? { derivativesSkipped: skipped } : {}),
        ...(validation.media ? { media: validation.media } : {}),
        ...(validation.mediaSkipped ? { mediaSkipped: validation.mediaSkipped } : {}),
      },
    }),
  );
  return {
    outcome: 'ready',
    detectedType: validation.detectedType,
    scannedBytes: validation.scannedBytes,
    timeToReadyMs: Date.now() - target.createdAt,
    partRetries: target.partRetries,
  };
}
