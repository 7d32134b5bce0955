/**
 * @module The session's lifecycle: opening, cancelling, and everything the alarm drives —
 * assembly (with retries and a size check), the hand-off to the processing queue and its
 * watchdog, expiry, and cleanup, which removes everything an upload stored once it ends without a
 * servable file. One alarm per object: `alarm()` dispatches on the state.
 */
import { loadConfig } from '../../config';
import { fail, ok, type Result } from '../../domain/errors';
import type { Manifest, ProcessMessage } from '../../contracts/messages';
import { isAccepting, isFinal, isInPipeline, UNSTORED_STATES, type UploadState } from '../../contracts/upload-states';
import { derivedPrefix, stagingKey } from '../../storage/object-keys';
import { ledgerStub, sweeperFor } from '../session-stub';
import type { NewUpload, UploadRow } from './manifest-store';
import { manifestOf } from './manifest-view';
import type { SessionScope } from './scope';
import { flushNotices, recordNotice } from './notify-app';
import { uploadNotFound } from './transitions';

/** Assembly: 3 attempts, delays 1 s then 2 s (factor 2). */
const ASSEMBLY_ATTEMPTS = 3;
const ASSEMBLY_BASE_DELAY_MS = 1_000;
/** A queue send or a cleanup that failed is tried again this soon. */
export const RETRY_SOON_MS = 2_000;
/** A job that has not reported back is queued again (queues can lose work locally), at most 3 times. */
const PROCESSING_ATTEMPTS = 3;

/** What an adapter knows when it opens an upload (the session adds the R2 upload and the times). */
export type CreateSessionInput = Omit<NewUpload, 'r2UploadId' | 'createdAt' | 'sha256' | 'metadata'> & {
  sha256?: string;
  metadata?: Record<string, string>;
};

export async function createSession(scope: SessionScope, input: CreateSessionInput): Promise<Result<Manifest>> {
  if (scope.store.upload()) return fail('ERR_UPLOAD_STATE', 'An upload with this id already exists.');
  // Independent round trips, at once: the sweeper's backstop row needs only the id and deadline
  // (a row for an upload that then fails to open is dropped by the sweep: the session says null).
  const [r2UploadId] = await Promise.all([
    scope.r2.createMultipart(input.key, input.type, { uploadId: input.id }),
    sweeperFor(scope.env, input.id).watch(input.id, input.expiresAt),
  ]);
  scope.ctx.storage.transactionSync(() => {
    scope.store.insert({ ...input, sha256: input.sha256 ?? null, metadata: input.metadata ?? null, createdAt: Date.now(), r2UploadId, partial: input.partial ?? false });
    recordNotice(scope, 'upload.created');
  });
  await scope.ctx.storage.setAlarm(input.expiresAt);
  // The notice is in the outbox (durable): the creator need not wait for the queue. A failed send
  // sets a retry alarm (flushNotices), and the alarm resends whatever is left.
  scope.ctx.waitUntil(flushNotices(scope));
  return ok(manifestOf(scope.store, scope.store.upload()!));
}

/** DELETE, in every state: stops the upload and removes what it stored. Idempotent. */
export async function cancel(scope: SessionScope): Promise<Result<{ state: UploadState }>> {
  const applied = await scope.apply({ type: 'cancelled' });
  return applied.ok ? ok({ state: applied.value }) : applied;
}

export async function alarm(scope: SessionScope): Promise<void> {
  const upload = scope.store.upload();
  if (!upload) return;
  // Notices a stopped object could not hand over go first.
  await flushNotices(scope);
  if (upload.state === 'assembling') return assemble(scope, upload);
  if (isInPipeline(upload.state)) return watchProcessing(scope, upload);
  if (isAccepting(upload.state) || (upload.state === 'ready' && upload.partial)) {
    if (Date.now() >= upload.expiresAt) {
      await scope.apply({ type: 'deadlinePassed' });
      return;
    }
    await scope.ctx.storage.setAlarm(upload.expiresAt);
    return;
  }
  // Ended without a file and not yet clean (a cleanup failed, or its queue message was lost).
  if (UNSTORED_STATES.includes(upload.state) && !upload.cleaned) {
    if (upload.cleanupQueued) await cleanUp(scope);
    else await enqueueCleanup(scope, upload);
  }
}

/**
 * Completes the R2 multipart upload, then checks that the object has exactly the declared size:
 * R2 cannot tell a part that was larger than planned (a presigned PUT, a lying client) from a
 * right one, so this is where "bytes accepted ≤ bytes declared" holds for every write path.
 */
async function assemble(scope: SessionScope, upload: UploadRow): Promise<void> {
  const expected = upload.size ?? scope.store.totals().confirmedBytes;
  let size: number;
  try {
    size = (await scope.r2.completeMultipart(upload.key, upload.r2UploadId, scope.store.parts())).size;
  } catch (error) {
    // complete() is not idempotent: if an earlier attempt succeeded before we could record it,
    // the object is there and this attempt fails with NoSuchUpload.
    const object = await scope.r2.head(upload.key).catch(() => null);
    if (!object) {
      const attempts = scope.store.bumpAssemblyAttempts();
      if (attempts < ASSEMBLY_ATTEMPTS) await scope.ctx.storage.setAlarm(Date.now() + ASSEMBLY_BASE_DELAY_MS * 2 ** (attempts - 1));
      else await scope.apply({ type: 'assemblyFailed', reason: `ERR_ASSEMBLY_FAILED: ${String(error).slice(0, 300)}` });
      return;
    }
    size = object.size;
  }
  // The upload may have been cancelled while R2 worked: the machine then cleans up what appeared.
  if (size !== expected) {
    await scope.apply({ type: 'rejected', reason: `ERR_SIZE_MISMATCH: the parts add up to ${size} bytes, not the ${expected} declared.` });
    return;
  }
  await scope.apply({ type: 'assembled' });
}

export function processMessage(upload: UploadRow): ProcessMessage {
  return {
    type: 'upload.assembled',
    v: 1,
    uploadId: upload.id,
    key: upload.key,
    declaredType: upload.type,
    // Assembled uploads always know their size; before assembly this message is not sent.
    size: upload.size ?? 0,
    ...(upload.sha256 ? { sha256: upload.sha256 } : {}),
    ...(upload.requestId ? { requestId: upload.requestId } : {}),
  };
}

const watchdogMs = (scope: SessionScope) => loadConfig(scope.env).processingWatchdogSeconds * 1000;

export async function enqueueProcessing(scope: SessionScope, upload: UploadRow): Promise<void> {
  try {
    await scope.env.PROCESS_QUEUE.send(processMessage(upload));
    scope.store.setJobQueued();
    await scope.ctx.storage.setAlarm(Date.now() + watchdogMs(scope));
  } catch {
    await scope.ctx.storage.setAlarm(Date.now() + RETRY_SOON_MS);
  }
}

/**
 * The job was queued but has not reported back: queue it again (a local queue loses messages
 * on a crash; consumers are idempotent), and after the last try report the upload failed.
 */
async function watchProcessing(scope: SessionScope, upload: UploadRow): Promise<void> {
  if (upload.jobQueuedAt === null) return enqueueProcessing(scope, upload);
  const due = upload.jobQueuedAt + watchdogMs(scope);
  if (Date.now() < due) {
    await scope.ctx.storage.setAlarm(due);
    return;
  }
  if (upload.jobAttempts < PROCESSING_ATTEMPTS) return enqueueProcessing(scope, upload);
  await scope.apply({ type: 'failed', reason: 'ERR_PROCESSING_TIMEOUT: processing did not finish after every retry.' });
}

export async function enqueueCleanup(scope: SessionScope, upload: UploadRow): Promise<void> {
  try {
    await scope.env.CLEANUP_QUEUE.send({
      type: 'upload.expired',
      v: 1,
      uploadId: upload.id,
      key: upload.key,
      r2UploadId: upload.r2UploadId,
      ...(upload.requestId ? { requestId: upload.requestId } : {}),
    });
    scope.store.setCleanupQueued();
  } catch {
    await scope.ctx.storage.setAlarm(Date.now() + RETRY_SOON_MS);
  }
}

/**
 * Removes everything an upload that ended without a file stored, and gives its quota back:
 * the multipart upload, the staging tail, its own original (unless validated content that other
 * uploads share), and derivatives of content nobody holds any more. Idempotent and safe to repeat
 * at any time: a pipeline run that finishes after a cancellation calls it again for what it wrote.
 */
export async function cleanUp(scope: SessionScope): Promise<void> {
  const upload = scope.store.upload();
  if (!upload) return;
  // An assembled upload has no multipart upload left to abort (R2 answers an error, not NoSuchUpload).
  const assembled = upload.jobQueuedAt !== null || upload.result !== null || (await scope.r2.head(upload.key)) !== null;
  if (!assembled) await scope.r2.abortMultipart(upload.key, upload.r2UploadId);
  await scope.r2.delete(stagingKey(upload.key));
  const ledger = ledgerStub(scope.env, upload.owner);
  const release = await ledger.release(upload.id);
  for (const key of release.deleteKeys) await scope.r2.delete(key);
  // Never validated: the bytes under the upload's key are its own and nobody else's.
  if (!release.claimed) await scope.r2.delete(upload.key);
  if (release.sha256 && !(await ledger.holdsContent(release.sha256))) await scope.r2.deletePrefix(derivedPrefix(upload.key, release.sha256));
  scope.store.setCleaned();
  await sweeperFor(scope.env, upload.id).unwatch(upload.id);
  await dropAlarmIfDone(scope);
}

/**
 * An upload with nothing left to do needs no alarm: a finished upload (not a partial one waiting to
 * be concatenated), clean if it ended without a file, with every notice handed over. Drops the
 * alarm that guarded those steps, so nothing wakes the object again.
 */
export async function dropAlarmIfDone(scope: SessionScope): Promise<void> {
  const upload = scope.store.upload();
  if (!upload || !isFinal(upload.state) || (upload.state === 'ready' && upload.partial)) return;
  if (upload.state !== 'ready' && !upload.cleaned) return;
  if (scope.store.outbox().length > 0) return;
  await scope.ctx.storage.deleteAlarm();
}

/** For the cron sweep: does whatever the alarm should have done by now. */
export async function sweepOnce(scope: SessionScope): Promise<{ state: UploadState | null }> {
  await alarm(scope);
  const upload = scope.store.upload();
  if (!upload) return { state: null };
  const settled = upload.state === 'ready' ? !upload.partial : UNSTORED_STATES.includes(upload.state) && upload.cleaned;
  if (settled) await sweeperFor(scope.env, upload.id).unwatch(upload.id);
  else if (isAccepting(upload.state) || upload.partial) await sweeperFor(scope.env, upload.id).watch(upload.id, upload.expiresAt);
  return { state: upload.state };
}

export { uploadNotFound };
