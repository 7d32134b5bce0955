/**
 * Request logs, request ids, metrics and the health check, read the way an operator would: the
 * JSON lines on the console, the `X-Request-Id` header and `requestId` in error bodies, the data
 * points written to the Analytics Engine binding (a recording binding replaces only the binding).
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { app } from '../src/api/app';
import type { Env } from '../src/env';
import worker from '../src/index';
import { hashOwner } from '../src/observability/log-line';
import type { ProcessMessage, QueueMessage } from '../src/contracts/messages';
import { api, createUpload, MiB, ORIGIN, pdfBytes, putPart, waitForState } from './helpers';

/** Every structured line written to the console while a test runs. */
let lines: Record<string, unknown>[] = [];
let raw: string[] = [];
beforeEach(() => {
  lines = [];
  raw = [];
  for (const method of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const text = args.map(String).join(' ');
      raw.push(text);
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === 'object') lines.push(parsed);
      } catch {
        // not a structured line
      }
    });
  }
});
afterEach(() => vi.restoreAllMocks());

const requestLines = () => lines.filter((line) => line.event === 'request');

/** An Analytics Engine dataset that keeps what is written to it. */
function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (point: AnalyticsEngineDataPoint) => void points.push(point) };
}

/** The Worker's fetch with one binding swapped (everything else is the real app and bindings). */
async function fetchWith(environment: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(new URL(path, ORIGIN), init), environment, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('request log and request id', () => {
  it('writes one JSON line per request with id, method, route pattern, status and duration', async () => {
    const res = await api('/api/config', { headers: { 'x-request-id': 'client-req-0001' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-req-0001');
    const logged = requestLines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ requestId: 'client-req-0001', method: 'GET', route: '/api/config', status: 200 });
    expect(typeof logged[0]!.durationMs).toBe('number');
  });

  it('logs the route pattern, upload id and hashed owner, never the token or the file name', async () => {
    const upload = await createUpload({ name: 'secret-holiday-plans.pdf', size: 6 * MiB, type: 'application/pdf' });
    const part = pdfBytes(6 * MiB).subarray(0, upload.partSize);
    const res = await putPart(upload, 1, part);
    expect(res.status).toBe(200);
    const [create, put] = requestLines();
    expect(create).toMatchObject({ method: 'POST', route: '/api/uploads', status: 201, uploadId: upload.id, owner: await hashOwner('anonymous') });
    expect(put).toMatchObject({ method: 'PUT', route: '/api/uploads/:id/parts/:n', status: 200, uploadId: upload.id, owner: await hashOwner('anonymous') });
    const everything = raw.join('\n');
    expect(everything).not.toContain(upload.uploadToken);
    expect(everything).not.toContain('secret-holiday-plans');
    expect(everything).not.toContain('"anonymous"');
  });

  it('puts the request id in every error body and header; an unusable incoming id is replaced', async () => {
    const notFound = await api('/api/nothing-here', { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    expect(notFound.status).toBe(404);
    const body = (await notFound.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('ERR_NOT_FOUND');
    expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(notFound.headers.get('x-request-id')).toBe(body.error.requestId);

    const badId = await api('/api/uploads/not-an-id', { headers: { 'cf-ray': '8f1e2d3c4b5a6978-AMS' } });
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { requestId: string } }).error.requestId).toBe('8f1e2d3c4b5a6978-AMS');
    expect(requestLines().at(-1)).toMatchObject({ requestId: '8f1e2d3c4b5a6978-AMS', status: 400, route: '/api/uploads/:id' });
  });
});

describe('request id on streamed answers', () => {
  it('an SSE stream passed through from the session still carries X-Request-Id and streams', async () => {
    const upload = await createUpload({ name: 'sse.pdf', size: 1000, type: 'application/pdf' });
    const res = await api(`/api/uploads/${upload.id}/events?token=${upload.uploadToken}`, { headers: { accept: 'text/event-stream', 'x-request-id': 'sse-request-01' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('sse-request-01');
    const reader = res.body!.getReader();
    let text = '';
    for (let i = 0; i < 5 && !text.includes('"type":"snapshot"'); i++) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"type":"snapshot"');
    await reader.cancel();
  });
});

describe('metrics and queue logs', () => {
  it('writes no data point and fails nothing when no dataset is bound', async () => {
    const withoutMetrics = { ...env, METRICS: undefined } as Env;
    const res = await fetchWith(withoutMetrics, '/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a.pdf', size: 1000, type: 'application/pdf' }),
    });
    expect(res.status).toBe(201);
    expect(lines.filter((line) => line.event === 'metrics_write_failed')).toEqual([]);
  });

  it('records created, then ready with bytes, and logs the job with the request id the message carries', async () => {
    const dataset = recordingDataset();
    const metered = { ...env, METRICS: dataset } as Env;
    const bytes = pdfBytes(3000, 77);
    const res = await fetchWith(metered, '/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'm.pdf', size: bytes.length, type: 'application/pdf' }),
    });
    const upload = (await res.json()) as Awaited<ReturnType<typeof createUpload>>;
    expect(dataset.points).toEqual([{ indexes: ['upload_created'], blobs: ['upload_created', 'application/pdf', ''], doubles: [3000, 0, 0, 0] }]);

    // The pipeline runs for real, then the session is put back to "validating" and the job delivered again.
    expect((await putPart(upload, 1, bytes)).status).toBe(200);
    expect((await waitForState(upload, ['ready'])).state).toBe('ready');
    await runInDurableObject(env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(upload.id)), (_i, state) =>
      state.storage.sql.exec("UPDATE upload SET state = 'validating', result = NULL"),
    );
    const message: ProcessMessage = {
      type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: bytes.length, requestId: 'req-from-the-last-part',
    };
    const batch = createMessageBatch<QueueMessage>('upload-process', [{ id: 'msg-obs-1', timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, metered, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['msg-obs-1']);

    const ready = dataset.points.find((point) => point.indexes?.[0] === 'upload_ready');
    expect(ready?.blobs).toEqual(['upload_ready', 'application/pdf', 'req-from-the-last-part']);
    expect(ready?.doubles?.[0]).toBe(3000);
    // Time to ready (double4): from creation to this verdict; no part was sent twice (double3).
    expect(ready?.doubles?.[2]).toBe(0);
    expect(ready?.doubles?.[3]).toBeGreaterThan(0);
    expect(lines.find((line) => line.event === 'queue_message' && line.messageId === 'msg-obs-1')).toMatchObject({
      queue: 'upload-process', uploadId: upload.id, requestId: 'req-from-the-last-part', result: 'ready',
    });
  });

  it("carries the last part's request id into the processing job the session queues", async () => {
    const bytes = pdfBytes(3000, 78);
    const upload = await createUpload({ name: 't.pdf', size: bytes.length, type: 'application/pdf' });
    expect((await putPart(upload, 1, bytes, { 'x-request-id': 'req-trace-the-part' })).status).toBe(200);
    expect((await waitForState(upload, ['ready'])).state).toBe('ready');
    // The job as the session builds it for the processing queue (and for its re-sends).
    const target = await env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(upload.id)).processingTarget();
    expect(target).toMatchObject({ ok: true, value: { uploadId: upload.id, requestId: 'req-trace-the-part' } });
  });

  it('records a failed upload from the dead-letter queue', async () => {
    const dataset = recordingDataset();
    const upload = await createUpload({ name: 'f.pdf', size: 2000, type: 'application/pdf' });
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: 2000 };
    const batch = createMessageBatch<QueueMessage>('upload-process-dlq', [{ id: 'msg-obs-2', timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, METRICS: dataset } as Env, ctx);
    await getQueueResult(batch, ctx);
    expect(dataset.points.map((point) => point.blobs?.slice(0, 2))).toEqual([['upload_failed', 'ERR_PROCESSING_FAILED']]);
  });
});

describe('GET /api/health', () => {
  it('answers 200 with each check when configured and bound', async () => {
    const res = await api('/api/health');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
    expect(body.ok).toBe(true);
    for (const name of ['config', 'bucket', 'session', 'queues']) expect(body.checks[name]?.ok, name).toBe(true);
  });

  it('answers 503 ERR_UNHEALTHY naming what is missing, without showing any secret', async () => {
    const broken = { ...env, UPLOAD_TOKEN_KEYS: undefined, PROCESS_QUEUE: undefined } as unknown as Env;
    const res = await fetchWith(broken, '/api/health');
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { error: { code: string; details: { checks: Record<string, { ok: boolean }> }; requestId: string } };
    expect(body.error.code).toBe('ERR_UNHEALTHY');
    expect(body.error.requestId).toBeTruthy();
    expect(body.error.details.checks.config!.ok).toBe(false);
    expect(body.error.details.checks.queues!.ok).toBe(false);
    expect(body.error.details.checks.bucket!.ok).toBe(true);
    if (env.AUTH_JWT_SECRET) expect(text).not.toContain(env.AUTH_JWT_SECRET);
  });
});
