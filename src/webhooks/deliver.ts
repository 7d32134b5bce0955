/**
 * @module Webhook fan-out and delivery. An upload event becomes one delivery per configured
 * endpoint, each its own queue message, so one endpoint's failures never redeliver to the others.
 * A delivery is attempted once per message: delivered, 410 Gone (stop), or retried later with
 * backoff until WEBHOOK_MAX_ATTEMPTS, then recorded as failed (dead-lettered) for a redelivery.
 */
import { loadConfig } from '../config';
import type { Env } from '../env';
import type { UploadEventMessage } from '../contracts/messages';
import { attemptDelivery } from './attempt';
import { webhookRetryDelay } from './backoff';
import { DeliveryLog, deliveryIdFor } from './delivery-log';
import { signWebhook } from './signature';
import { webhookBody, webhookId } from './upload-event';

/** Records one delivery per endpoint for this event and queues those not attempted yet. Idempotent. */
export async function fanOut(message: UploadEventMessage, env: Env): Promise<void> {
  const { urls } = loadConfig(env).webhooks;
  if (urls.length === 0) return;
  const body = webhookBody(message);
  const deliveries = await Promise.all(
    urls.map(async (endpoint) => ({
      id: await deliveryIdFor(message.eventId, endpoint),
      webhookId: webhookId(message.eventId),
      eventId: message.eventId,
      event: message.event,
      uploadId: message.uploadId,
      endpoint,
      body,
    })),
  );
  const waiting = await new DeliveryLog(env.DB).open(deliveries);
  await queueDeliveries(env, waiting, message.requestId);
}

export async function queueDeliveries(env: Env, deliveryIds: string[], requestId?: string): Promise<void> {
  if (deliveryIds.length === 0) return;
  await env.EVENTS_QUEUE.sendBatch(
    deliveryIds.map((deliveryId) => ({ body: { type: 'webhook.delivery', v: 1, deliveryId, ...(requestId ? { requestId } : {}) }, contentType: 'json' })),
  );
}

/**
 * One attempt of one delivery. Returns the seconds to wait before the next attempt, or null when
 * the delivery is settled (delivered, gone, failed for good, or nothing to do).
 */
export async function deliverOnce(deliveryId: string, env: Env, now = Date.now()): Promise<number | null> {
  const log = new DeliveryLog(env.DB);
  const row = await log.get(deliveryId);
  // Already settled (a duplicate message, or a redelivery that was already sent): nothing to do.
  if (!row || row.status !== 'pending') return null;
  const settings = loadConfig(env).webhooks;
  if (!settings.urls.includes(row.endpoint)) {
    await log.close(row.id, 'failed', 'the endpoint is no longer in WEBHOOK_URLS');
    return null;
  }
  const headers = signWebhook(settings.secrets, row.webhook_id, Math.floor(now / 1000), row.body);
  const result = await attemptDelivery(row.endpoint, { ...headers }, row.body, settings.timeoutSeconds * 1000);
  const attempt = row.attempts + 1;
  const giveUp = result.outcome === 'retry' && attempt >= settings.maxAttempts;
  const delay = result.outcome === 'retry' && !giveUp ? webhookRetryDelay(attempt, settings.retryBaseSeconds) : null;
  await log.recordAttempt(row, {
    status: result.outcome === 'delivered' ? 'delivered' : result.outcome === 'gone' ? 'gone' : giveUp ? 'failed' : 'pending',
    outcome: giveUp ? 'failed' : result.outcome,
    httpStatus: result.status,
    error: result.error,
    durationMs: result.durationMs,
    nextAttemptAt: delay === null ? null : Date.now() + delay * 1000,
  });
  if (giveUp) console.error('webhook delivery dead-lettered after every attempt', row.id, row.endpoint, result.error);
  return delay;
}
