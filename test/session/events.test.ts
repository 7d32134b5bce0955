import { env } from 'cloudflare:workers';
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../../src/contracts/messages';
import { api, createUpload, MiB, partOf, pdfBytes, putPart, type CreatedUpload } from '../helpers';

/** Opens the events WebSocket through the Worker and records every message. */
async function subscribe(upload: CreatedUpload) {
  const res = await api(`/api/uploads/${upload.id}/events?token=${encodeURIComponent(upload.uploadToken)}`, {
    headers: { upgrade: 'websocket' },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: EventMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.accept();
  ws.addEventListener('message', (event) => {
    messages.push(JSON.parse(event.data as string));
    waiters.splice(0).forEach((wake) => wake());
  });
  const until = async (predicate: (m: EventMessage) => boolean, timeoutMs = 20_000): Promise<EventMessage> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { ws, messages, until };
}

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));

describe('events WebSocket', () => {
  it('sends a snapshot, monotone progress and states up to ready, across hibernation', async () => {
    const file = pdfBytes(16 * MiB + 1, 21);
    const upload = await createUpload({ name: 'ws.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    const sub = await subscribe(upload);
    const snapshot = await sub.until((m) => m.type === 'snapshot');
    expect(snapshot).toMatchObject({ type: 'snapshot', manifest: { id: upload.id, state: 'created', confirmedBytes: 0 } });

    await putPart(upload, 2, partOf(file, upload, 2));
    await sub.until((m) => m.type === 'progress' && m.confirmedParts === 1);

    // The object is evicted with its socket hibernated; the socket must keep receiving.
    await evictDurableObject(stubOf(upload.id), { webSockets: 'hibernate' });

    await putPart(upload, 1, partOf(file, upload, 1));
    await putPart(upload, 4, partOf(file, upload, 4));
    await putPart(upload, 3, partOf(file, upload, 3));
    await sub.until((m) => m.type === 'state' && m.state === 'ready');

    const progress = sub.messages.filter((m) => m.type === 'progress').map((m) => (m as { confirmedBytes: number }).confirmedBytes);
    expect(progress.length).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    expect(progress.at(-1)).toBe(file.length);
    const states = sub.messages.filter((m) => m.type === 'state').map((m) => (m as { state: string }).state);
    expect(states).toEqual(['uploading', 'assembling', 'validating', 'processing', 'ready']);
    const ready = sub.messages.find((m) => m.type === 'state' && m.state === 'ready');
    expect(ready).toMatchObject({ result: { url: `/media/${upload.id}` } });
    sub.ws.close();
  });

  it('aggregates progress: many parts landing at once produce few progress messages', async () => {
    const file = pdfBytes(45 * MiB, 22);
    const upload = await createUpload({ name: 'many.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    expect(upload.partCount).toBe(9);
    const sub = await subscribe(upload);
    await sub.until((m) => m.type === 'snapshot');
    const started = Date.now();
    await Promise.all(Array.from({ length: 9 }, (_, i) => putPart(upload, i + 1, partOf(file, upload, i + 1))));
    await sub.until((m) => m.type === 'progress' && m.confirmedBytes === file.length);
    const elapsed = Date.now() - started;
    const count = sub.messages.filter((m) => m.type === 'progress').length;
    // One leading message plus at most one per 250 ms window.
    expect(count).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1);
    expect(count).toBeLessThan(9);
    sub.ws.close();
  });

  it('serves the same stream as SSE with Accept: text/event-stream', async () => {
    const file = pdfBytes(1000, 23);
    const upload = await createUpload({ name: 'sse.pdf', size: file.length, type: 'application/pdf' });
    const res = await api(`/api/uploads/${upload.id}/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${upload.uploadToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    await putPart(upload, 1, file);
    while (!text.includes('"state":"ready"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const messages = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as EventMessage);
    expect(messages[0]!.type).toBe('snapshot');
    expect(messages.some((m) => m.type === 'progress' && m.confirmedBytes === 1000)).toBe(true);
    expect(messages.at(-1)).toMatchObject({ type: 'state', state: 'ready' });
    await reader.cancel();
  });

  it('refuses a plain GET and a missing token', async () => {
    const upload = await createUpload({ name: 'x.pdf', size: 10, type: 'application/pdf' });
    expect((await api(`/api/uploads/${upload.id}/events?token=${upload.uploadToken}`)).status).toBe(400);
    expect((await api(`/api/uploads/${upload.id}/events`, { headers: { upgrade: 'websocket' } })).status).toBe(401);
  });
});
