/**
 * @module Tells the embedding app about an upload's lifecycle (the machine's `notify` effect, plus
 * `upload.created` and `upload.updated`) through the events queue, whose consumer updates the
 * files index and delivers webhooks. Durable: the notice is written to the session's outbox in the
 * same synchronous step as the change it describes, then handed to the queue and removed; if the
 * object stops in between, the alarm (or the cron sweep) sends what is left. The event id is
 * stable, so a notice sent twice is delivered once.
 */
import type { LifecycleNotice } from '../../domain/upload-machine';
import type { UploadEventMessage, UploadEventName } from '../../contracts/messages';
import { emitUploadEvent, uploadEvent } from '../../webhooks/upload-event';
import { RETRY_SOON_MS } from './lifecycle';
import { manifestOf } from './manifest-view';
import type { SessionScope } from './scope';

/** Writes the notice for the upload as it is now; call inside the step that changed it. */
export function recordNotice(scope: SessionScope, notice: LifecycleNotice | UploadEventName): void {
  const upload = scope.store.upload();
  // A tus partial upload is a fragment of another upload: the app hears of the final one only.
  if (!upload || upload.partial || !scope.env.EVENTS_QUEUE) return;
  const message: UploadEventMessage = {
    ...uploadEvent(scope.env, notice, { manifest: manifestOf(scope.store, upload), owner: upload.owner, visibility: upload.visibility }),
    ...(upload.requestId ? { requestId: upload.requestId } : {}),
  };
  scope.store.addToOutbox(JSON.stringify(message));
}

/** Hands every recorded notice to the events queue, oldest first; on failure the alarm tries again. */
export async function flushNotices(scope: SessionScope): Promise<void> {
  for (const { id, message } of scope.store.outbox()) {
    try {
      await emitUploadEvent(scope.env, JSON.parse(message) as UploadEventMessage);
    } catch (error) {
      console.error('upload event not queued; the alarm retries', id, error);
      await scope.ctx.storage.setAlarm(Date.now() + RETRY_SOON_MS);
      return;
    }
    scope.store.removeFromOutbox(id);
  }
}
