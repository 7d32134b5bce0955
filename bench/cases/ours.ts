/**
 * One upload through our pipeline with the project's own client library (in Node), timed from
 * the outside: a fetch wrapper times every part PUT, a second WebSocket subscriber on the events
 * URL times when each confirmed part shows up as `progress`, and a ProcessMeter reads workerd's
 * CPU and memory from /proc while the upload runs.
 */
import { openAsBlob } from 'node:fs';
import { segmentedFile } from '../lib/input';
import { MemoryUploadStore, Uploader } from '../../src/client/index';
import { ProcessMeter } from '../lib/procs';
import type { BenchServer } from '../lib/servers';
import { mbps } from '../lib/stats';
import { usageOf, VoidRun, type Usage } from './usage';

export interface OursOptions {
  /** Bytes per part; the server's default when unset. */
  partSize?: number;
  /** Fixed concurrency; the client's adaptive default when unset. */
  concurrency?: number;
}

export interface OursRun {
  size: number;
  partSize: number;
  partCount: number;
  concurrency: number | 'adaptive';
  /** Seconds from `uploader.add()` to the last part's 200: the transfer. */
  seconds: number;
  mbps: number;
  /** Seconds from `uploader.add()` to `ready` (assembly and validation included). */
  readySeconds: number;
  /** Milliseconds from sending each part to its 200's headers. */
  partMs: number[];
  /** Per part (200s only), where the time went inside the Worker, when the server is the profiling Worker. */
  partServerTiming: Record<string, number>[];
  /** Non-200 answers to part PUTs (e.g. 409 in flight, 429 rate limited), by status. */
  partErrors: Record<string, number>;
  progress: {
    /** ms from a part's 200 at the client to the first `progress` event at the second subscriber covering it. */
    latencyMs: number[];
    /** `progress` messages the second subscriber received. */
    messages: number;
    /** All messages (snapshot, progress, state). */
    allMessages: number;
  };
  usage: Usage;
}

interface PartTiming {
  partNumber: number;
  sentAt: number;
  answeredAt: number;
  status: number;
  confirmedBytes?: number;
  /** From the profiling Worker's Server-Timing header (bench/profile/worker.js), ms by name. */
  serverTiming?: Record<string, number>;
}

interface Heard {
  at: number;
  type: string;
  confirmedBytes?: number;
}

/** No answer and no state change for this long: the upload is stuck (the run is retried). */
const STALL_MS = 45_000;

const PART_URL = /\/api\/uploads\/[0-9a-f]+\/parts\/(\d+)$/;

/** `source`: a file's path, or the segments of a file of 4 GiB or more (see lib/input.ts). */
export async function uploadOurs(server: BenchServer, source: string | string[], options: OursOptions = {}): Promise<OursRun> {
  const blob = typeof source === 'string' ? await openAsBlob(source, { type: 'application/pdf' }) : await segmentedFile(source, 'application/pdf');
  const parts: PartTiming[] = [];
  const heard: Heard[] = [];
  const pending: Promise<unknown>[] = [];
  let created: { id: string; uploadToken: string; partSize: number; partCount: number } | undefined;
  let subscriber: WebSocket | undefined;
  let subscribed: Promise<void> = Promise.resolve();

  const meter = new ProcessMeter(server.groups);
  let lastActivity = performance.now();
  const timedFetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    const part = method === 'PUT' ? PART_URL.exec(url) : null;
    const sentAt = performance.now();
    const response = await fetch(input, init);
    lastActivity = performance.now();
    if (part) {
      const timing: PartTiming = { partNumber: Number(part[1]), sentAt, answeredAt: performance.now(), status: response.status };
      const serverTiming = response.headers.get('server-timing');
      if (serverTiming) timing.serverTiming = parseServerTiming(serverTiming);
      parts.push(timing);
      if (response.ok) {
        meter.mark(); // CPU until the last part's answer = the transfer's

        pending.push(
          response
            .clone()
            .json()
            .then((receipt: { confirmedBytes: number }) => (timing.confirmedBytes = receipt.confirmedBytes)),
        );
      }
    } else if (method === 'POST' && url.endsWith('/api/uploads') && response.status === 201) {
      created = (await response.clone().json()) as typeof created;
      subscribed = subscribe(server.url, created!.id, created!.uploadToken, heard).then((ws) => void (subscriber = ws));
    }
    return response;
  };

  const uploader = new Uploader({ endpoint: server.url, fetch: timedFetch, store: new MemoryUploadStore() });
  meter.start();
  const startedAt = performance.now();
  const upload = uploader.add(blob, {
    name: 'bench.pdf',
    type: 'application/pdf',
    ...(options.partSize ? { partSize: options.partSize } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  const errors: string[] = [];
  upload.on('error', ({ code, message }) => errors.push(`${code}: ${message}`));
  upload.on('state', () => (lastActivity = performance.now()));
  // A stalled upload (e.g. wrangler dev restarting the Worker after a source change) must not hang the run.
  let stalled = false;
  let ticks = 0;
  const watchdog = setInterval(() => {
    // Every 2 s also look for a restarted workerd (one /proc scan), so a void run ends early.
    const restarted = ++ticks % 2 === 0 && meter.changed();
    // After the last part the server assembles, validates and hashes the whole file without a word
    // to the client: allow that 10 MB/s at least.
    const limit = upload.state === 'processing' ? Math.max(STALL_MS, blob.size / 10_000) : STALL_MS;
    if (!restarted && performance.now() - lastActivity < limit) return;
    stalled = !restarted;
    void upload.cancel();
  }, 1000);
  const state = await upload.done.finally(() => clearInterval(watchdog));
  const readyAt = performance.now();
  const measured = meter.stop();
  await Promise.allSettled(pending);
  await subscribed.catch(() => undefined);
  subscriber?.close(1000, 'done');
  if (created) {
    // Free the local R2 storage: DELETE removes a finished upload's object.
    await fetch(`${server.url}/api/uploads/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${created.uploadToken}` },
    }).catch(() => undefined);
  }
  const usage = usageOf(measured, blob.size, 'upload');
  if (stalled) throw new VoidRun(`upload stalled: no answer and no state change for too long (${errors.join('; ') || 'no errors'})`);
  if (state !== 'ready') throw new Error(`upload ended ${state}: ${upload.reason ?? ''} ${errors.join('; ')}`);

  const ok = parts.filter((p) => p.status === 200);
  const lastPartAt = Math.max(...ok.map((p) => p.answeredAt));
  const seconds = (lastPartAt - startedAt) / 1000;
  const partErrors: Record<string, number> = {};
  for (const p of parts) if (p.status !== 200) partErrors[p.status] = (partErrors[p.status] ?? 0) + 1;
  return {
    size: blob.size,
    partSize: created?.partSize ?? 0,
    partCount: created?.partCount ?? 0,
    concurrency: options.concurrency ?? 'adaptive',
    seconds,
    mbps: mbps(blob.size, seconds),
    readySeconds: (readyAt - startedAt) / 1000,
    partMs: ok.map((p) => p.answeredAt - p.sentAt),
    partServerTiming: ok.filter((p) => p.serverTiming).map((p) => ({ ...p.serverTiming, client: p.answeredAt - p.sentAt })),
    partErrors,
    progress: {
      latencyMs: progressLatencies(ok, heard),
      messages: heard.filter((h) => h.type === 'progress').length,
      allMessages: heard.length,
    },
    usage,
  };
}

function parseServerTiming(header: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const dur = params.find((p) => p.trim().startsWith('dur='));
    if (name && dur) out[name.trim()] = Number(dur.trim().slice(4));
  }
  return out;
}

/** A second subscriber on the events WebSocket, recording when each message arrives. */
function subscribe(base: string, id: string, token: string, heard: Heard[]): Promise<WebSocket> {
  const url = new URL(`/api/uploads/${id}/events`, base);
  url.protocol = 'ws:';
  url.searchParams.set('token', token);
  const ws = new WebSocket(url);
  ws.addEventListener('message', (event) => {
    const at = performance.now();
    try {
      const message = JSON.parse(String(event.data)) as { type: string; confirmedBytes?: number; manifest?: { confirmedBytes: number } };
      heard.push({ at, type: message.type, confirmedBytes: message.confirmedBytes ?? message.manifest?.confirmedBytes });
    } catch {
      // "pong"
    }
  });
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error('events WebSocket failed')), { once: true });
  });
}

/**
 * For every part whose 200 carried `confirmedBytes = B`: the time until the first `progress`
 * message with confirmedBytes ≥ B reached the subscriber (negative when the broadcast overtook the
 * HTTP answer). Parts already covered by the subscriber's first snapshot are left out.
 */
function progressLatencies(parts: PartTiming[], heard: Heard[]): number[] {
  const snapshot = heard.find((h) => h.type === 'snapshot');
  const progress = heard.filter((h) => h.type === 'progress' && h.confirmedBytes !== undefined);
  const out: number[] = [];
  for (const part of parts) {
    if (part.confirmedBytes === undefined) continue;
    if (!snapshot || (snapshot.confirmedBytes ?? 0) >= part.confirmedBytes) continue;
    const match = progress.find((h) => h.confirmedBytes! >= part.confirmedBytes!);
    if (match) out.push(match.at - part.answeredAt);
  }
  return out;
}
