/**
 * The cost benchmark's operation counts (bench/cost/operations.ts) against what the Worker really
 * calls: a real upload and its processing, with the R2 and Durable Object bindings wrapped in
 * counters (only the bindings; every line of our code runs as deployed).
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { WORKER_CALLS } from '../bench/cost/operations';
import { app } from '../src/api/app';
import type { Env } from '../src/env';
import worker from '../src/index';
import type { ProcessMessage, QueueMessage } from '../src/contracts/messages';
import { createUpload, MiB, ORIGIN, pdfBytes } from './helpers';

type Counts = { r2ClassA: number; r2ClassB: number; doRequests: number };

/** R2 calls by class (https://developers.cloudflare.com/r2/pricing/); delete is free. */
const R2_CLASS: Record<string, 'r2ClassA' | 'r2ClassB' | undefined> = {
  put: 'r2ClassA', createMultipartUpload: 'r2ClassA', uploadPart: 'r2ClassA', complete: 'r2ClassA', list: 'r2ClassA',
  get: 'r2ClassB', head: 'r2ClassB',
};

function counting(base: Env): { env: Env; counts: Counts } {
  const counts: Counts = { r2ClassA: 0, r2ClassB: 0, doRequests: 0 };
  const countR2 = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          const kind = R2_CLASS[prop];
          if (kind) counts[kind]++;
          const result = Reflect.apply(value, obj, args);
          return prop === 'resumeMultipartUpload' ? countR2(result as object) : result;
        };
      },
    });
  // Every call on a Durable Object stub is one billed request.
  const countStub = (stub: object) =>
    new Proxy(stub, {
      get(obj, prop) {
        if (prop === 'then') return undefined;
        const value = Reflect.get(obj, prop);
        if (typeof prop !== 'string' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          counts.doRequests++;
          return Reflect.apply(value, obj, args);
        };
      },
    });
  const countNamespace = <T extends object>(namespace: T): T =>
    new Proxy(namespace, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = Reflect.apply(value, obj, args);
          return prop === 'get' || prop === 'getByName' ? countStub(result as object) : result;
        };
      },
    });
  const queue = { send: async () => {}, sendBatch: async () => {} };
  return {
    counts,
    env: { ...base, BUCKET: countR2(base.BUCKET), UPLOAD_SESSION: countNamespace(base.UPLOAD_SESSION), OWNER_LEDGER: countNamespace(base.OWNER_LEDGER), PROCESS_QUEUE: queue } as unknown as Env,
  };
}

async function call(environment: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(new URL(path, ORIGIN), init), environment, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const delta = (after: Counts, before: Counts): Counts => ({
  r2ClassA: after.r2ClassA - before.r2ClassA,
  r2ClassB: after.r2ClassB - before.r2ClassB,
  doRequests: after.doRequests - before.doRequests,
});

describe('the cost model counts what the Worker calls', () => {
  it('create and each part', async () => {
    const { env: counted, counts } = counting(env);
    const bytes = pdfBytes(12 * MiB, 51);
    const res = await call(counted, '/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'c.pdf', size: bytes.length, type: 'application/pdf', partSize: 5 * MiB }),
    });
    expect(res.status).toBe(201);
    expect({ ...counts }).toEqual(WORKER_CALLS.create);
    const upload = (await res.json()) as { id: string; uploadToken: string };
    // The first two parts (the last one would start assembly inside the session, which is not the part path).
    for (const n of [1, 2]) {
      const before = { ...counts };
      const body = bytes.subarray((n - 1) * 5 * MiB, n * 5 * MiB);
      const put = await call(counted, `/api/uploads/${upload.id}/parts/${n}`, { method: 'PUT', headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-length': String(body.length) }, body });
      expect(put.status).toBe(200);
      expect(delta(counts, before)).toEqual(WORKER_CALLS.part);
    }
  });

  it('processing: the first checks, each slice, and the finish', async () => {
    const bytes = pdfBytes(12 * MiB, 52);
    const upload = await createUpload({ name: 'p.pdf', size: bytes.length, type: 'application/pdf', partSize: 6 * MiB });
    await env.BUCKET.put(upload.key, bytes);
    await runInDurableObject(env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(upload.id)), (_i, state) =>
      state.storage.sql.exec("UPDATE upload SET state = 'validating', result = NULL"),
    );
    const { env: counted, counts } = counting({ ...env, PROCESSING_SLICE_BYTES: String(5 * MiB) } as Env);
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: bytes.length };
    const slices = 3;
    for (let i = 0; i < slices; i++) {
      const batch = createMessageBatch<QueueMessage>('upload-process', [{ id: `cost-${i}`, timestamp: new Date(), attempts: 1, body: message }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, counted, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`cost-${i}`]);
    }
    const w = WORKER_CALLS;
    const expected = (field: keyof Counts) => w.firstChecks[field] + slices * w.slice[field] + w.finish[field];
    expect({ ...counts }).toEqual({ r2ClassA: expected('r2ClassA'), r2ClassB: expected('r2ClassB'), doRequests: expected('doRequests') });
  });
});
