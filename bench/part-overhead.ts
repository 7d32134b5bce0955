/**
 * @module Per-part cost of our part PUT path over a bare R2 `uploadPart`: workerd CPU (runtime +
 * wrangler's proxy) and wall time per request with 1-byte parts, so the body's cost (the same in
 * both) drops out and what is left is routing, auth, the rate limiter, the session's RPCs and JSON.
 *
 *   npx tsx bench/part-overhead.ts [--requests 1200] [--concurrency 4] [--rounds 2] [--body MiB]
 *                                  [--trees ceiling,ceiling@quiet,ceiling+assets,dirA,dirA@quiet,…]
 *
 * Ours: C uploads of 8 MiB + 1 byte (two planned parts), each re-sending its 1-byte last part in
 * a loop (an idempotent re-send goes through claim → uploadPart → confirm like any part; it also
 * counts a retry, one more SQLite UPDATE). Ceiling: bench/ceiling's `PUT /mpu/part` with 1 byte.
 * `--trees` lists the servers (default: the ceiling and a snapshot of this tree): other copies of the
 * project (e.g. an older commit exported with `git archive`, node_modules linked) compare versions;
 * `@quiet` turns wrangler's local observability collector off; `ceiling+assets` is the ceiling behind
 * the static-assets router, like ours. Servers are measured round by round,
 * interleaved, so drift and other sessions' load spread evenly over them.
 */
import { join } from 'node:path';
import { startDevServer } from '../test/e2e/dev-server';
import { findRootByCmdline, ProcessMeter, workerdGroups } from './lib/procs';
import { ceilingConfig, ceilingWithAssetsConfig, cleanup, installSignalHandlers, snapshot, type BenchServer } from './lib/servers';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const REQUESTS = Number(option('requests', '1200'));
const CONCURRENCY = Number(option('concurrency', '4'));
const ROUNDS = Number(option('rounds', '2'));
/** `--body 8` sends full 8 MiB parts instead (part 1 of 16 MiB uploads), to see per-byte costs too. */
const BODY_MIB = Number(option('body', '0'));
const BODY = BODY_MIB > 0 ? new Uint8Array(BODY_MIB * 1024 * 1024).fill(7) : new Uint8Array(1);

const started: BenchServer[] = [];

async function serverOf(name: string, config: string): Promise<BenchServer> {
  const dev = await startDevServer({ config });
  started.push({ name, url: dev.url, groups: [], log: dev.log, stop: () => dev.stop() });
  let rootPid: number | undefined;
  return {
    name,
    url: dev.url,
    groups: workerdGroups(() => (rootPid ??= findRootByCmdline(dev.persistDir)), dev.port),
    log: dev.log,
    stop: () => dev.stop(),
  };
}

type Sender = () => Promise<void>;

/** C senders of 1-byte parts into our Worker: one upload each, its last part re-sent. */
async function oursSenders(url: string): Promise<Sender[]> {
  const senders: Sender[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const res = await fetch(`${url}/api/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `o${i}.pdf`, size: BODY_MIB > 0 ? 2 * BODY.length : 8 * 1024 * 1024 + 1, type: 'application/pdf', ...(BODY_MIB > 0 ? { partSize: BODY.length } : {}) }),
    });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
    const created = (await res.json()) as { id: string; uploadToken: string; partCount: number };
    const partUrl = `${url}/api/uploads/${created.id}/parts/${BODY_MIB > 0 ? 1 : created.partCount}`;
    senders.push(async () => {
      const r = await fetch(partUrl, { method: 'PUT', headers: { authorization: `Bearer ${created.uploadToken}` }, body: BODY });
      if (r.status !== 200) throw new Error(`part: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    });
  }
  return senders;
}

async function ceilingSenders(url: string): Promise<Sender[]> {
  const senders: Sender[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const key = `overhead-${i}`;
    const { uploadId } = (await (await fetch(`${url}/mpu?key=${key}`, { method: 'POST' })).json()) as { uploadId: string };
    const partUrl = `${url}/mpu/part?key=${key}&uploadId=${encodeURIComponent(uploadId)}&n=${BODY_MIB > 0 ? 1 : 2}`;
    senders.push(async () => {
      const r = await fetch(partUrl, { method: 'PUT', body: BODY });
      if (r.status !== 200) throw new Error(`part: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    });
  }
  return senders;
}

interface Sample {
  cpuMs: number;
  runtimeMs: number;
  proxyMs: number;
  wallMs: number;
  others: number;
}

/** REQUESTS requests through the senders, C at a time; workerd CPU and wall time per request. */
async function measure(server: BenchServer, senders: Sender[]): Promise<Sample> {
  for (const send of senders) await send(); // warm
  const meter = new ProcessMeter(server.groups);
  meter.start();
  const started = performance.now();
  let left = REQUESTS;
  await Promise.all(
    senders.map(async (send) => {
      while (left > 0) {
        left -= 1;
        await send();
      }
    }),
  );
  const wallMs = (performance.now() - started) / REQUESTS;
  const usage = meter.stop();
  const cpu = (name: string) => ((usage.groups.find((g) => g.name === name)?.cpuSeconds ?? 0) * 1000) / REQUESTS;
  return { cpuMs: cpu('workerd'), runtimeMs: cpu('workerd:runtime'), proxyMs: cpu('workerd:proxy'), wallMs, others: usage.backgroundCores };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * A server to measure: "ceiling" (bench/ceiling) or a directory holding a copy of the project (its
 * wrangler.toml); "@quiet" after either turns wrangler's local observability collector off
 * (X_LOCAL_OBSERVABILITY=false), which otherwise stores every invocation's trace and log lines.
 */
async function startSpec(spec: string): Promise<{ name: string; server: BenchServer; senders: Sender[] }> {
  const [what, flag] = spec.split('@') as [string, string | undefined];
  if (flag === 'quiet') process.env.X_LOCAL_OBSERVABILITY = 'false';
  try {
    if (what === 'ceiling' || what === 'ceiling+assets') {
      const server = await serverOf(spec, what === 'ceiling' ? ceilingConfig() : ceilingWithAssetsConfig());
      return { name: `${spec} (bare uploadPart)`, server, senders: await ceilingSenders(server.url) };
    }
    const server = await serverOf(spec, join(what, 'wrangler.toml'));
    return { name: `ours ${spec}`, server, senders: await oursSenders(server.url) };
  } finally {
    delete process.env.X_LOCAL_OBSERVABILITY;
  }
}

async function main(): Promise<void> {
  installSignalHandlers();
  const specs = option('trees', '') ? option('trees', '').split(',') : ['ceiling', snapshot()];
  const servers = [];
  for (const spec of specs) servers.push(await startSpec(spec));
  const samples = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { name, server, senders } of servers) {
      const sample = await measure(server, senders);
      samples.get(name)!.push(sample);
      console.error(`[round ${round}] ${name}: ${sample.cpuMs.toFixed(2)} ms CPU/request (runtime ${sample.runtimeMs.toFixed(2)}, proxy ${sample.proxyMs.toFixed(2)}), ${sample.wallMs.toFixed(2)} ms wall, others ${sample.others.toFixed(2)} cores`);
    }
  }
  console.log(`\n${BODY_MIB > 0 ? `${BODY_MIB} MiB` : '1-byte'} part PUTs: ${REQUESTS} per round, ${CONCURRENCY} at a time, median of ${ROUNDS} round(s)`);
  console.log('server                                          CPU ms/req  runtime  proxy  wall ms/req  others cores');
  for (const [name, list] of samples) {
    const m = (k: keyof Sample) => median(list.map((s) => s[k])).toFixed(2);
    console.log(`${name.slice(0, 46).padEnd(46)}  ${m('cpuMs').padStart(10)}  ${m('runtimeMs').padStart(7)}  ${m('proxyMs').padStart(5)}  ${m('wallMs').padStart(11)}  ${m('others').padStart(12)}`);
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => Promise.allSettled(started.map((s) => s.stop())).then(() => cleanup()));
