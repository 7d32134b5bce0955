/**
 * @module The one place an upload's state changes: the machine decides, the move is recorded (with
 * the pipeline's result, if any) in one synchronous step, then the decision's effects run.
 */
import { fail, ok, type Result } from '../../domain/errors';
import { decide, type UploadEvent } from '../../domain/upload-machine';
import type { UploadResult } from '../../contracts/messages';
import type { UploadState } from '../../contracts/upload-states';
import { runEffects } from './effects';
import { recordNotice } from './notify-app';
import type { UploadRow } from './manifest-store';
import type { SessionScope } from './scope';

/** How soon a notice left in the outbox is sent again. */
const NOTICE_RETRY_MS = 30_000;

export const uploadNotFound = () => fail('ERR_UPLOAD_NOT_FOUND', 'No upload with this id.');

/** An aborted or expired upload; the reason only for its owner (`withReason`), never on public reads. */
export const uploadGone = (upload: UploadRow, withReason = false) =>
  fail('ERR_UPLOAD_GONE', `The upload was ${upload.state}.`, { state: upload.state, ...(withReason ? { reason: upload.reason } : {}) });

export async function applyEvent(scope: SessionScope, event: UploadEvent, result?: UploadResult): Promise<Result<UploadState>> {
  const upload = scope.store.upload();
  if (!upload) return uploadNotFound();
  const decision = decide(upload, event);
  if (decision.kind === 'refuse') {
    return fail(decision.code, decision.message, { state: upload.state, ...(upload.reason ? { reason: upload.reason } : {}) });
  }
  if (decision.kind === 'move') {
    scope.ctx.storage.transactionSync(() => {
      if (result) scope.store.setResult(result);
      scope.store.setState(decision.to, decision.reason);
      // The app's notice is written with the change itself, so a crash cannot lose it.
      for (const effect of decision.effects) if (effect.type === 'notify') recordNotice(scope, effect.notice);
    });
    // Should the object stop before the notice is handed over, the alarm sends it (later effects may re-arm it sooner).
    if (decision.effects.some((e) => e.type === 'notify')) void scope.ctx.storage.setAlarm(Date.now() + NOTICE_RETRY_MS);
  }
  await runEffects(scope, decision.effects);
  return ok(scope.store.upload()!.state);
}
