/**
 * @module One queue entry point for every queue this Worker consumes: dispatches each message by
 * its type (and dead letters by queue name), acks on success, retries with exponential backoff.
 */
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import type { QueueMessage } from '../protocol/messages';
import { cleanupUpload } from './cleanup-consumer';
import { processUpload } from './process-consumer';

/** Seconds before retry n (1-based): 2, 4, 8 … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number): number => Math.min(300, 2 ** Math.max(1, attempts));

async function handle(queue: string, body: QueueMessage, env: Env): Promise<void> {
  if (queue.endsWith('-dlq')) {
    // Every retry failed: the upload is reported failed rather than left in limbo.
    if (body.type === 'upload.assembled') {
      await sessionStub(env, body.uploadId).failProcessing('ERR_PROCESSING_FAILED: processing failed after every retry.');
    }
    if (body.type === 'upload.expired') console.error('cleanup gave up; the cron sweep and R2 lifecycle rules remain', body.uploadId);
    return;
  }
  if (body.type === 'upload.assembled') return processUpload(body, env);
  if (body.type === 'upload.expired') return cleanupUpload(body, env);
}

export async function handleQueue(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    try {
      await handle(batch.queue, message.body, env);
      message.ack();
    } catch (error) {
      console.error('queue message failed', batch.queue, message.id, message.attempts, error);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
