/**
 * @module One queue entry point for every queue this Worker consumes: dispatches each message by
 * its type (and dead letters by queue name), acks on success, retries with exponential backoff.
 * Each message gets one structured log line (with the request id it carries) and its metrics.
 */
import type { ReasonCode } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import { logLine } from '../observability/log-line';
import { metricsFor } from '../observability/metrics';
import { isSaneRequestId } from '../observability/request-id';
import type { PipelineQueueMessage } from '../contracts/messages';
import { cleanupUpload } from './cleanup-consumer';
import { processUpload, type ProcessOutcome } from './process-consumer';

/** Seconds before retry n (1-based): 2, 4, 8 … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number): number => Math.min(300, 2 ** Math.max(1, attempts));

const FAILED_REASON: ReasonCode = 'ERR_PROCESSING_FAILED';

async function handle(queue: string, body: PipelineQueueMessage, env: Env): Promise<ProcessOutcome | undefined> {
  if (queue.endsWith('-dlq')) {
    // Every retry failed: the upload is reported failed rather than left in limbo.
    if (body.type === 'upload.assembled') {
      await sessionStub(env, body.uploadId).failProcessing(`${FAILED_REASON}: processing failed after every retry.`);
      return { outcome: 'failed', code: FAILED_REASON };
    }
    if (body.type === 'upload.expired') logLine('cleanup_gave_up', { uploadId: body.uploadId, requestId: requestIdOf(body) }, 'error');
    return undefined;
  }
  if (body.type === 'upload.assembled') return processUpload(body, env);
  if (body.type === 'upload.expired') await cleanupUpload(body, env);
  return undefined;
}

/** A message's request id, only if it looks like one (messages are ours, but logs must stay clean). */
const requestIdOf = (body: PipelineQueueMessage): string | undefined => (isSaneRequestId(body.requestId) ? body.requestId : undefined);

/** The metric for a processing outcome (continued slices and skipped redeliveries count once, as slices). */
function recordOutcome(env: Env, body: PipelineQueueMessage, result: ProcessOutcome, durationMs: number): void {
  if (body.type !== 'upload.assembled') return;
  const metrics = metricsFor(env);
  const requestId = requestIdOf(body);
  if (result.outcome === 'ready') {
    metrics.record({ event: 'upload_ready', detail: result.detectedType, requestId, bytes: body.size, durationMs, timeToReadyMs: result.timeToReadyMs, partRetries: result.partRetries });
  } else if (result.outcome === 'rejected') {
    metrics.record({ event: 'upload_rejected', detail: result.code, requestId, bytes: body.size, durationMs });
  } else if (result.outcome === 'failed') {
    metrics.record({ event: 'upload_failed', detail: result.code, requestId, bytes: body.size });
  } else if (result.outcome === 'continued') {
    metrics.record({ event: 'processing_slice', requestId, bytes: result.sliceBytes, durationMs });
  }
}

export async function handleQueue(batch: MessageBatch<PipelineQueueMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const started = Date.now();
    const body = message.body;
    const fields = { queue: batch.queue, messageId: message.id, type: body.type, uploadId: body.uploadId, requestId: requestIdOf(body), attempts: message.attempts };
    try {
      const result = await handle(batch.queue, body, env);
      message.ack();
      const durationMs = Date.now() - started;
      if (result) recordOutcome(env, body, result, durationMs);
      logLine('queue_message', { ...fields, result: result?.outcome ?? 'done', code: result?.code, sliceBytes: result?.sliceBytes, scannedBytes: result?.scannedBytes, sliceOffset: result?.sliceOffset, durationMs });
    } catch (error) {
      const delaySeconds = retryDelaySeconds(message.attempts);
      message.retry({ delaySeconds });
      logLine('queue_message', { ...fields, result: 'retry', delaySeconds, durationMs: Date.now() - started, error: String(error).slice(0, 300) }, 'error');
    }
  }
}
