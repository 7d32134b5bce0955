/**
 * @module The events queue consumer: upload lifecycle events update the files index and are
 * fanned out into webhook deliveries; deliveries are attempted, each message once, retried with the webhook backoff.
 * Messages run concurrently: one slow endpoint (up to its timeout) does not hold up the batch.
 */
import type { Env } from '../env';
import type { EventsQueueMessage } from '../contracts/messages';
import { fileEntry } from '../files/file-entry';
import { FilesIndex } from '../files/files-index';
import { deliverOnce, fanOut } from '../webhooks/deliver';
import { logLine } from '../observability/log-line';
import { retryDelaySeconds } from './queue-handler';

export const EVENTS_QUEUES = ['upload-events', 'upload-events-dlq'];

async function handle(queue: string, body: EventsQueueMessage, env: Env): Promise<number | null> {
  if (queue.endsWith('-dlq')) {
    // Our own code failed on it every time (D1 or the queue unavailable for hours): keep a trace.
    console.error('events message dead-lettered', JSON.stringify(body).slice(0, 500));
    return null;
  }
  if (body.type === 'upload.event') {
    await new FilesIndex(env.DB).upsert(fileEntry(body.upload));
    await fanOut(body, env);
    logLine('upload_event', { eventId: body.eventId, event: body.event, uploadId: body.uploadId, requestId: body.requestId });
    return null;
  }
  if (body.type === 'webhook.delivery') {
    const retryIn = await deliverOnce(body.deliveryId, env);
    logLine('webhook_delivery', { deliveryId: body.deliveryId, requestId: body.requestId, retryInSeconds: retryIn });
    return retryIn;
  }
  return null;
}

export async function handleEventsQueue(batch: MessageBatch<EventsQueueMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const retryIn = await handle(batch.queue, message.body, env);
        if (retryIn === null) message.ack();
        else message.retry({ delaySeconds: retryIn });
      } catch (error) {
        console.error('events message failed', batch.queue, message.id, message.attempts, error);
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}
