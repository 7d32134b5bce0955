/**
 * Create latency: `POST /api/uploads` from 1 caller (one after another) and from 32 callers at once
 * (each sending its share one after another). Each create makes a Durable Object, an R2 multipart
 * upload and an alarm. Non-201 answers (429: the per-IP create limit or the owner's quota of
 * active uploads) are counted, not retried. The created uploads are deleted after each batch
 * (untimed), so batches below the active-upload quota (100 by default) never hit it.
 *
 * The floor: the same callers against the ceiling Worker (bench/ceiling), a request that does
 * nothing (`GET /`) and one that only creates an R2 multipart upload (`POST /mpu`). Under
 * `wrangler dev` every request of every Worker runs on one thread, so how far the floor itself
 * falls from 1 to 32 callers is what any create could do on this machine.
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
  /** Answers other than the target's success status (not timed). */
  errors: number;
  usage: Usage;
}

/** What each caller sends: our create, or a floor request on the ceiling Worker. */
export interface CreateTarget {
  label: string;
  method: string;
  path: string;
  body?: string;
  /** The status of a success (only these are timed). */
  okStatus: number;
  /** Our creates are deleted after the batch; the floor leaves nothing to delete worth the time. */
  cleanUp: boolean;
}

export const OUR_CREATE: CreateTarget = {
  label: 'ours: POST /api/uploads',
  method: 'POST',
  path: '/api/uploads',
  body: JSON.stringify({ name: 'bench.pdf', size: 64 * MiB, type: 'application/pdf' }),
  okStatus: 201,
  cleanUp: true,
};

export const FLOOR_TARGETS: CreateTarget[] = [
  { label: 'floor: ceiling Worker, GET / (does nothing)', method: 'GET', path: '/', okStatus: 200, cleanUp: false },
  { label: 'floor: ceiling Worker, POST /mpu (R2 createMultipartUpload only)', method: 'POST', path: '/mpu', okStatus: 200, cleanUp: false },
];

export async function createLatency(server: BenchServer, callers: number, requests: number, target: CreateTarget = OUR_CREATE): Promise<CreateRun> {
  const latencyMs: number[] = [];
  const statuses: Record<string, number> = {};
  const { body } = target;
  const headers = body ? { 'content-type': 'application/json' } : undefined;
  const created: { id: string; uploadToken: string }[] = [];
  let left = requests;
  const caller = async () => {
    while (left > 0) {
      left -= 1;
      const sentAt = performance.now();
      const response = await fetch(`${server.url}${target.path}`, { method: target.method, headers, body });
      const answer = await response.arrayBuffer();
      const at = performance.now();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === target.okStatus) {
        latencyMs.push(at - sentAt);
        if (target.cleanUp) created.push(JSON.parse(new TextDecoder().decode(answer)) as { id: string; uploadToken: string });
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
  return { callers, requests, latencyMs, perSecond: requests / seconds, statuses, errors: requests - latencyMs.length, usage };
}
