/**
 * Create latency: `POST /api/uploads` from 1 caller (one after another) and from 32 callers at once
 * (each sending its share one after another). Each create makes a Durable Object, an R2 multipart
 * upload and an alarm. Non-201 answers (429: the per-IP create limit or the owner's quota of
 * active uploads) are counted, not retried. The created uploads are deleted after each batch
 * (untimed), so batches below the active-upload quota (100 by default) never hit it.
 */
import { ProcessMeter } from '../lib/procs';
import type { BenchServer } from '../lib/servers';
import { MiB } from '../lib/stats';
import { usageOf, type Usage } from './usage';

export interface CreateRun {
  callers: number;
  requests: number;
  latencyMs: number[];
  /** Requests per second over the whole batch. */
  perSecond: number;
  statuses: Record<string, number>;
  usage: Usage;
}

export async function createLatency(server: BenchServer, callers: number, requests: number): Promise<CreateRun> {
  const latencyMs: number[] = [];
  const statuses: Record<string, number> = {};
  const body = JSON.stringify({ name: 'bench.pdf', size: 64 * MiB, type: 'application/pdf' });
  const created: { id: string; uploadToken: string }[] = [];
  let left = requests;
  const caller = async () => {
    while (left > 0) {
      left -= 1;
      const sentAt = performance.now();
      const response = await fetch(`${server.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = await response.arrayBuffer();
      const at = performance.now();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 201) {
        latencyMs.push(at - sentAt);
        created.push(JSON.parse(new TextDecoder().decode(answer)) as { id: string; uploadToken: string });
      }
    }
  };
  const meter = new ProcessMeter(server.groups);
  meter.start();
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  const seconds = (performance.now() - startedAt) / 1000;
  // Per GiB makes no sense here: usageOf(…, 1 GiB) leaves cpuSecondsPerGiB = CPU seconds of the batch.
  const measured = meter.stop();
  const remove = async () => {
    for (let next = created.pop(); next; next = created.pop()) {
      await fetch(`${server.url}/api/uploads/${next.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${next.uploadToken}` } }).then((r) => r.arrayBuffer());
    }
  };
  await Promise.all(Array.from({ length: 8 }, remove));
  const usage = usageOf(measured, 1024 * MiB, 'create batch');
  return { callers, requests, latencyMs, perSecond: requests / seconds, statuses, usage };
}
