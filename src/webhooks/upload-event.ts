/**
 * @module Upload lifecycle events: the message the session emits onto the events queue (one
 * function, `emitUploadEvent`), how it is built from a manifest, and the Standard Webhooks body
 * and ids derived from it. The queue's consumer fans it out (src/queues/events-consumer.ts).
 */
import { loadConfig } from '../config';
import type { Env } from '../env';
import type { Manifest, UploadEventMessage, UploadEventName, UploadEventSubject, Visibility } from '../contracts/messages';

export interface UploadEventInput {
  manifest: Manifest;
  owner: string;
  visibility?: Visibility;
  occurredAt?: number;
}

/** The upload as events and the files API describe it; media URLs absolute when PUBLIC_BASE_URL is set. */
export function eventSubject(env: Env, input: UploadEventInput): UploadEventSubject {
  const { parts: _parts, missingParts: _missing, ...manifest } = input.manifest;
  const base = loadConfig(env).publicBaseUrl ?? '';
  const upload: UploadEventSubject = {
    ...manifest,
    owner: input.owner,
    visibility: input.visibility ?? 'public',
    metadata: manifest.metadata ?? {},
  };
  if (manifest.state === 'ready' && manifest.result?.url) {
    const derivatives = manifest.result.derivatives ?? [];
    upload.urls = {
      original: base + manifest.result.url,
      ...(derivatives.length > 0 ? { derivatives: Object.fromEntries(derivatives.map((d) => [d.variant, base + d.url])) } : {}),
    };
  }
  return upload;
}

/** The event for `manifest`. */
export function uploadEvent(env: Env, event: UploadEventName, input: UploadEventInput): UploadEventMessage {
  const upload = eventSubject(env, input);
  const manifest = input.manifest;
  return {
    type: 'upload.event',
    v: 1,
    // Every other event happens once per upload; updates can happen many times.
    eventId: event === 'upload.updated' ? `${manifest.id}:${event}:${manifest.updatedAt}` : `${manifest.id}:${event}`,
    event,
    uploadId: manifest.id,
    occurredAt: input.occurredAt ?? Date.now(),
    upload,
  };
}

/** Puts one event on the events queue. Throws when the queue refuses it (the caller retries). */
export async function emitUploadEvent(env: Env, message: UploadEventMessage): Promise<void> {
  await env.EVENTS_QUEUE.send(message, { contentType: 'json' });
}

/** The webhook body: `{ type, timestamp, data: { upload } }` (Standard Webhooks' recommended shape). */
export function webhookBody(message: UploadEventMessage): string {
  return JSON.stringify({ type: message.event, timestamp: new Date(message.occurredAt).toISOString(), data: { upload: message.upload } });
}

/** The `webhook-id`: derived from the event id, so it is the same on every attempt and every endpoint. */
export function webhookId(eventId: string): string {
  return `msg_${eventId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
