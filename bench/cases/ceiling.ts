/**
 * The runtime's ceiling, through the bench-only Worker of bench/ceiling/: the same file in one
 * streaming PUT → R2 put(), and (for reference) raw R2 multipart through the binding with no
 * Durable Object, auth or validation — what our pipeline would cost if it did nothing else.
 */
import { openAsBlob } from 'node:fs';
import { ProcessMeter } from '../lib/procs';
import type { BenchServer } from '../lib/servers';
import { mbps } from '../lib/stats';
import { usageOf, type Usage } from './usage';

export interface CeilingRun {
  size: number;
  /** Until the bytes are stored: the put()'s answer, or (multipart) the last part's, like our pipeline's figure. */
  seconds: number;
  /** Including complete() for multipart. */
  totalSeconds: number;
  mbps: number;
  partMs: number[];
  usage: Usage;
}

export async function expectOk(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

export async function singlePut(server: BenchServer, path: string, run: number): Promise<CeilingRun> {
  const blob = await openAsBlob(path);
  const key = `put-${run}`;
  const meter = new ProcessMeter(server.groups);
  meter.start();
  const startedAt = performance.now();
  const response = await expectOk(await fetch(`${server.url}/put?key=${key}`, { method: 'PUT', body: blob }), 'put');
  const { size } = (await response.json()) as { size: number };
  const seconds = (performance.now() - startedAt) / 1000;
  const measured = meter.stop();
  await fetch(`${server.url}/obj?key=${key}`, { method: 'DELETE' });
  const usage = usageOf(measured, blob.size, 'put');
  if (size !== blob.size) throw new Error(`put stored ${size} bytes, not ${blob.size}`);
  return { size: blob.size, seconds, totalSeconds: seconds, mbps: mbps(blob.size, seconds), partMs: [seconds * 1000], usage };
}

export async function rawMultipart(server: BenchServer, path: string, run: number, partSize: number, concurrency: number): Promise<CeilingRun> {
  const blob = await openAsBlob(path);
  const key = `mpu-${run}`;
  const meter = new ProcessMeter(server.groups);
  meter.start();
  const startedAt = performance.now();
  const created = await expectOk(await fetch(`${server.url}/mpu?key=${key}`, { method: 'POST' }), 'create');
  const { uploadId } = (await created.json()) as { uploadId: string };
  const partCount = Math.ceil(blob.size / partSize);
  const parts: { partNumber: number; etag: string }[] = [];
  const partMs: number[] = [];
  let next = 1;
  let lastPartAt = 0;
  const worker = async () => {
    while (next <= partCount) {
      const n = next++;
      const sentAt = performance.now();
      const body = blob.slice((n - 1) * partSize, Math.min(n * partSize, blob.size));
      const q = new URLSearchParams({ key, uploadId, n: String(n) });
      const response = await expectOk(await fetch(`${server.url}/mpu/part?${q}`, { method: 'PUT', body }), `part ${n}`);
      parts.push((await response.json()) as { partNumber: number; etag: string });
      lastPartAt = performance.now();
      partMs.push(lastPartAt - sentAt);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  parts.sort((a, b) => a.partNumber - b.partNumber);
  const q = new URLSearchParams({ key, uploadId });
  const done = await expectOk(
    await fetch(`${server.url}/mpu/complete?${q}`, { method: 'POST', body: JSON.stringify(parts), headers: { 'content-type': 'application/json' } }),
    'complete',
  );
  const { size } = (await done.json()) as { size: number };
  const totalSeconds = (performance.now() - startedAt) / 1000;
  const seconds = (lastPartAt - startedAt) / 1000;
  const measured = meter.stop();
  await fetch(`${server.url}/obj?key=${key}`, { method: 'DELETE' });
  const usage = usageOf(measured, blob.size, 'multipart');
  if (size !== blob.size) throw new Error(`multipart stored ${size} bytes, not ${blob.size}`);
  return { size: blob.size, seconds, totalSeconds, mbps: mbps(blob.size, seconds), partMs, usage };
}
