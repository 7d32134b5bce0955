/**
 * @module Runs the state machine's effects: the only code that turns a decision into broadcasts,
 * alarms, queue messages, cleanup and notices to the app.
 */
import type { Effect } from '../../domain/upload-machine';
import { sweeperFor } from '../session-stub';
import { cleanUp, dropAlarmIfDone, enqueueCleanup, enqueueProcessing, RETRY_SOON_MS } from './lifecycle';
import { flushNotices } from './notify-app';
import type { SessionScope } from './scope';

export async function runEffects(scope: SessionScope, effects: Effect[]): Promise<void> {
  for (const effect of effects) {
    const upload = scope.store.upload()!;
    switch (effect.type) {
      case 'broadcastState':
        scope.hub.broadcast({
          type: 'state',
          state: upload.state,
          ...(upload.reason ? { reason: upload.reason } : {}),
          ...(upload.state === 'ready' && upload.result ? { result: upload.result } : {}),
        });
        break;
      case 'scheduleAssembly':
        await scope.ctx.storage.setAlarm(Date.now());
        break;
      case 'enqueueProcessing':
        await enqueueProcessing(scope, upload);
        break;
      case 'scheduleExpiry':
        await scope.ctx.storage.setAlarm(upload.expiresAt);
        break;
      case 'dropClaims':
        scope.claims.dropWrites();
        break;
      case 'forgetParts':
        scope.store.clearParts();
        break;
      case 'cleanUp':
        if (effect.later) {
          await enqueueCleanup(scope, upload);
          break;
        }
        // Inline, so a deleted upload's bytes are gone when DELETE answers; the alarm retries a failure.
        await cleanUp(scope).catch(async (error: unknown) => {
          console.error('cleanup failed; retrying from the alarm', upload.id, error);
          await scope.ctx.storage.setAlarm(Date.now() + RETRY_SOON_MS);
        });
        break;
      case 'unwatch':
        await sweeperFor(scope.env, upload.id).unwatch(upload.id);
        break;
      case 'notify':
        // Recorded in the outbox with the state change (transitions.ts); handed over now.
        await flushNotices(scope);
        await dropAlarmIfDone(scope);
        break;
    }
  }
}
