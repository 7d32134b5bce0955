/**
 * `npm run bench`: throughput, memory, CPU and latency of our upload pipeline, against the
 * runtime's own ceiling (a bench-only Worker doing one streaming R2 put()) and against
 * @tus/server, all in one run on this machine. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { rawMultipart, singlePut } from './cases/ceiling';
import { createLatency, FLOOR_TARGETS, OUR_CREATE, type CreateTarget } from './cases/create';
import { ceilingSameWork, flatRun, oursDefault } from './cases/memory-flat';
import { idleProgress } from './cases/progress-idle';
import { roundTrips } from './cases/round-trips';
import { uploadOurs } from './cases/ours';
import { uploadTus } from './cases/tus';
import { VoidRun } from './cases/usage';
import { Inputs } from './lib/input';
import { parseOptions, type BenchOptions } from './lib/options';
import { ProcessMeter } from './lib/procs';
import { printReport, ratiosOf, writeChart, writeJson } from './lib/report';
import { createMetrics, idleMetrics, METRICS, roundTripMetrics, profileMetrics, summarizeRuns, uploadMetrics, type BenchResults, type CaseKind, type CaseResult } from './lib/results';
import { cleanup, installSignalHandlers, root, scratchDir, startCeiling, startCeilingWithAssets, snapshot, startPipeline, startProfiled, startTus, type BenchServer } from './lib/servers';
import { GiB, MiB } from './lib/stats';

const WARM_UP = 32 * MiB;
/** Parts of the idle-progress upload, each sent after ≥ 1.2 s of silence. */
const IDLE_PARTS = 8;

const sizeLabel = (bytes: number) => (bytes >= GiB && bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`);

class Collector {
  readonly cases = new Map<string, CaseResult>();
  add(id: string, kind: CaseKind, label: string, params: CaseResult['params'], metrics: Record<string, number>, size?: number): void {
    let row = this.cases.get(id);
    if (!row) {
      row = { id, kind, label, params, runs: [], summary: {}, ...(size ? { size } : {}) };
      this.cases.set(id, row);
    }
    row.runs.push(metrics);
    row.summary = summarizeRuns(row.runs);
  }
  note(id: string, key: string, value: unknown): void {
    const row = this.cases.get(id);
    if (row) row.notes = { ...row.notes, [key]: value };
  }
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const MAX_TRIES = 3;

/**
 * Runs one measurement; a void run (wrangler dev reloaded the Worker because a source file changed,
 * or the upload stalled) is retried on the server once it answers again, after a warm-up.
 */
async function measure<T>(server: BenchServer, label: string, warnings: string[], work: () => Promise<T>, warmUp?: () => Promise<unknown>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      await settle(server);
      return await work();
    } catch (error) {
      if (!(error instanceof VoidRun) || attempt >= MAX_TRIES) throw error;
      warnings.push(`${label}: retried: ${error.message}`);
      log(`${label}: ${error.message}; retrying`);
      await waitForServer(server);
      await warmUp?.().catch(() => undefined);
    }
  }
}

/**
 * Waits (at most 15 s) until the server's processes are idle, so that work left over from the
 * previous run is not counted in the next one: after ours is deleted, the cleanup and events queues
 * remove its object and record the notices about 1 s later (max_batch_timeout), in the background.
 */
async function settle(server: BenchServer): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const meter = new ProcessMeter(server.groups.slice(0, 1));
    meter.start();
    await new Promise((r) => setTimeout(r, 500));
    if (meter.stop().groups[0]!.cpuSeconds / 0.5 < 0.05) return;
  }
}

async function waitForServer(server: BenchServer): Promise<void> {
  const deadline = Date.now() + 90_000;
  await new Promise((r) => setTimeout(r, 2000));
  while (Date.now() < deadline) {
    const ok = await fetch(`${server.url}/api/config`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${server.name} did not come back`);
}

async function withServer<T>(start: () => Promise<BenchServer>, work: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await start();
  try {
    return await work(server);
  } catch (error) {
    const tail = server.log().split('\n').slice(-30).join('\n');
    throw new Error(`${server.name}: ${(error as Error).message}\n--- last server output ---\n${tail}`, { cause: error });
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2), join(root, 'bench/results/latest.json'));
  const inputs = new Inputs(scratchDir('upload-bench-input-'), options.seed);
  const results = new Collector();
  const warnings: string[] = [];
  const git = gitState();
  // Ctrl-C: report what was measured so far (marked interrupted), then stop every server.
  installSignalHandlers(() => finish(results, warnings, options, started, git, true));
  const has = (name: BenchOptions['cases'][number]) => options.cases.includes(name);
  // A case that fails is reported (and the exit code says so); the other cases still run.
  const guard = async (name: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      process.exitCode = 1;
      const message = error instanceof Error ? error.message : String(error);
      warnings.push(`case ${name} FAILED: ${message.split('\n')[0]}`);
      log(`case ${name} FAILED:\n${error instanceof Error ? (error.stack ?? message) : message}`);
    }
  };
  snapshot(); // the Worker's sources as of now: edits during the run do not reach the servers
  const size = options.size;
  log(`file ${sizeLabel(size)}, ${options.runs} run(s), cases: ${options.cases.join(', ')}`);
  const path = await inputs.path(size);
  const warmPath = await inputs.path(WARM_UP);

  /** Issue 17 item 1: creates (or a floor request) from 1 and from 32 callers, runs interleaved. */
  const createBatches = async (server: BenchServer, targets: CreateTarget[]) => {
    for (let run = 1; run <= options.runs; run++) {
      for (const target of targets) {
        for (const [callers, requests] of [
          [1, options.createRequests.single],
          [32, options.createRequests.concurrent],
        ] as const) {
          log(`${target.label}, ${callers} caller(s), run ${run}/${options.runs}`);
          const id = `create-${target.method}${target.path.replaceAll('/', '-')}-c${callers}`;
          const r = await measure(server, `${id} run ${run}`, warnings, () => createLatency(server, callers, requests, target));
          results.add(id, 'create', `${target.label}, ${callers} caller${callers > 1 ? 's' : ''}`, { callers, requests, target: target.label }, createMetrics(r));
          results.note(id, `statuses run ${run}`, r.statuses);
          if (r.errors) warnings.push(`${id} run ${run}: statuses ${JSON.stringify(r.statuses)}`);
        }
      }
    }
  };

  if (has('create')) {
    // The floor first, on its own server: what any Worker's request costs here at 1 and 32 callers.
    await guard('create floor', () => withServer(startCeiling, (server) => createBatches(server, FLOOR_TARGETS)));
  }

  if (has('ceiling')) {
    // Two ceilings, runs interleaved: the bare Worker, and the same Worker behind the static-assets
    // router that stands in front of ours (local-only CPU: in production the router is not the Worker's).
    await guard('ceiling', () => withServer(startCeiling, (server) => withServer(startCeilingWithAssets, async (routed) => {
      await singlePut(server, warmPath, 0);
      await singlePut(routed, warmPath, 0);
      for (let run = 1; run <= options.runs; run++) {
        log(`ceiling run ${run}/${options.runs}`);
        const put = await measure(server, `ceiling put run ${run}`, warnings, () => singlePut(server, path, run));
        results.add('ceiling-put', 'ceiling', 'ceiling: one streaming put()', {}, uploadMetrics(put), size);
        const routedPut = await measure(routed, `ceiling+assets put run ${run}`, warnings, () => singlePut(routed, path, run));
        results.add('ceiling-put-assets', 'ceiling', 'ceiling: one streaming put(), behind the assets router', {}, uploadMetrics(routedPut), size);
        for (const concurrency of [1, 4]) {
          const mpu = await measure(server, `ceiling multipart × ${concurrency} run ${run}`, warnings, () => rawMultipart(server, path, run, 8 * MiB, concurrency));
          results.add(`ceiling-mpu-8-c${concurrency}`, 'ceiling-mpu', `ceiling: raw multipart 8 MiB × ${concurrency}`, { partSize: 8 * MiB, concurrency }, uploadMetrics(mpu), size);
        }
      }
    })));
  }

  if (has('ours') || has('create') || has('idle') || has('rtt')) {
    await guard('ours/create', () => withServer(startPipeline, async (server) => {
      const warm = () => uploadOurs(server, warmPath, { partSize: 8 * MiB, concurrency: 4 });
      await measure(server, 'warm-up', warnings, warm);
      if (has('ours')) {
        // Runs interleave the settings, so drift (page cache, a busy neighbour) spreads evenly.
        for (let run = 1; run <= options.runs; run++) {
          for (const [partSize, concurrency] of options.matrix) {
            log(`ours ${sizeLabel(partSize)} × ${concurrency}, run ${run}/${options.runs}`);
            const id = `ours-${partSize / MiB}-c${concurrency}`;
            const r = await measure(server, `${id} run ${run}`, warnings, () => uploadOurs(server, path, { partSize, concurrency }), warm);
            results.add(id, 'ours', `ours: ${sizeLabel(partSize)} × ${concurrency}`, { partSize, concurrency }, uploadMetrics(r), size);
            if (Object.keys(r.partErrors).length) {
              warnings.push(`${id} run ${run}: part errors ${JSON.stringify(r.partErrors)}`);
              results.note(id, `partErrors run ${run}`, r.partErrors);
            }
          }
        }
      }
      if (has('create')) await createBatches(server, [OUR_CREATE]);
      if (has('idle')) {
        for (let run = 1; run <= options.runs; run++) {
          log(`progress when quiet, run ${run}/${options.runs}`);
          const r = await measure(server, `idle run ${run}`, warnings, () => idleProgress(server, IDLE_PARTS));
          results.add('idle-progress', 'idle', 'progress after ≥ 1.2 s of silence', { parts: IDLE_PARTS }, idleMetrics(r));
        }
      }
      if (has('rtt')) {
        const large = await inputs.path(100 * MiB);
        const small = new Uint8Array(200_000);
        small.set(new TextEncoder().encode('%PDF-1.7\n'));
        for (let run = 1; run <= options.runs; run++) {
          for (const mode of ['native', 'direct'] as const) {
            for (const [label, source] of [
              ['1 × 100 MiB', { path: large }],
              ['50 × 200 KB', { count: 50, bytes: small }],
            ] as const) {
              log(`round trips ${label}, ${mode}, run ${run}/${options.runs}`);
              const r = await measure(server, `rtt ${label} ${mode} run ${run}`, warnings, () => roundTrips(server, mode, source));
              results.add(`rtt-${mode}-${r.files}`, 'rtt', `${label}, ${mode}`, { files: label, mode }, roundTripMetrics(r));
            }
          }
        }
      }
    }));
  }

  if (has('memory')) {
    // A fresh server, so earlier cases do not set the baseline; sizes ascending.
    await guard('memory', () => withServer(startPipeline, async (server) => {
      const warm = () => uploadOurs(server, warmPath);
      await measure(server, 'warm-up', warnings, warm);
      for (const memSize of options.memorySizes) {
        const memPath = await inputs.file(memSize);
        for (let run = 1; run <= options.runs; run++) {
          log(`memory scaling ${sizeLabel(memSize)} (default settings), run ${run}/${options.runs}`);
          const id = `memory-${memSize}`;
          const r = await measure(server, `${id} run ${run}`, warnings, () => uploadOurs(server, memPath), warm);
          results.add(id, 'memory', `ours, defaults: ${sizeLabel(memSize)}`, { partSize: r.partSize, concurrency: 'adaptive' }, uploadMetrics(r), memSize);
          if (Object.keys(r.partErrors).length) warnings.push(`${id} run ${run}: part errors ${JSON.stringify(r.partErrors)}`);
        }
      }
    }));
  }

  if (has('flat')) {
    // Issue 17 item 2: the same uploads one after another on a fresh ceiling and a fresh pipeline;
    // the runtime's RSS before and after each (settled) and its peak; then one upload of 1 GiB each.
    const big = await inputs.path(GiB);
    for (const [name, start, work] of [
      ['ceiling', startCeiling, (server: BenchServer, file: string, run: number) => ceilingSameWork(server, file, run)],
      ['ours', startPipeline, (server: BenchServer, file: string) => oursDefault(server, file)],
    ] as const) {
      await guard(`flat ${name}`, () => withServer(start, async (server) => {
        await work(server, warmPath, 0);
        for (let run = 1; run <= options.flatUploads; run++) {
          log(`flat memory, ${name}, upload ${run}/${options.flatUploads} of ${sizeLabel(size)}`);
          const r = await measure(server, `flat ${name} run ${run}`, warnings, () => flatRun(server, () => work(server, path, run)));
          results.add(`flat-${name}`, 'flat', `${name}: ${options.flatUploads} × ${sizeLabel(size)}`, { server: name }, { ...r }, size);
        }
        log(`flat memory, ${name}, one upload of 1 GiB`);
        const r = await measure(server, `flat ${name} 1 GiB`, warnings, () => flatRun(server, () => work(server, big, 1000)));
        results.add(`flat-${name}-1GiB`, 'flat', `${name}: 1 GiB`, { server: name }, { ...r }, GiB);
      }));
    }
  }

  if (has('profile')) {
    // Where a part's time goes: the same Worker with timed bindings (bench/profile/worker.js).
    await guard('profile', () => withServer(startProfiled, async (server) => {
      const warm = () => uploadOurs(server, warmPath, { partSize: 8 * MiB, concurrency: 1 });
      await measure(server, 'warm-up', warnings, warm);
      // A diagnostic, not one of the cases: once, unless --full.
      const runs = options.full ? options.runs : 1;
      for (let run = 1; run <= runs; run++) {
        for (const concurrency of [1, 4]) {
          log(`profile 8 MiB × ${concurrency}, run ${run}/${runs}`);
          const logFrom = server.log().length;
          const r = await measure(server, `profile × ${concurrency} run ${run}`, warnings, () => uploadOurs(server, path, { partSize: 8 * MiB, concurrency }), warm);
          if (r.partServerTiming.length === 0) throw new Error('the profiling Worker sent no Server-Timing header');
          await new Promise((done) => setTimeout(done, 300)); // the queue's log line follows `ready`
          const processing = queueTimings(server.log().slice(logFrom));
          results.add(`profile-8-c${concurrency}`, 'profile', `ours, timed bindings: 8 MiB × ${concurrency}`, { partSize: 8 * MiB, concurrency }, { ...profileMetrics(r), ...processing }, size);
        }
      }
    }));
  }

  if (has('tus')) {
    await guard('tus', () => withServer(startTus, async (server) => {
      const tus = server as BenchServer & { dir: string };
      await uploadTus(tus, warmPath, 8 * MiB);
      for (let run = 1; run <= options.runs; run++) {
        log(`@tus/server run ${run}/${options.runs}`);
        const r = await measure(server, `tus run ${run}`, warnings, () => uploadTus(tus, path, 8 * MiB));
        results.add('tus', 'tus', '@tus/server + file-store, 8 MiB chunks', { chunkSize: 8 * MiB }, uploadMetrics(r), size);
      }
    }));
  }

  finish(results, warnings, options, started, git, false);
}

function finish(results: Collector, warnings: string[], options: BenchOptions, started: number, git: BenchResults['meta']['git'], interrupted: boolean): void {
  const cases = [...results.cases.values()];
  for (const row of cases) {
    const worst = Math.max(...row.runs.map((r) => r.backgroundCores ?? 0));
    if (worst > 0.25) warnings.push(`${row.id}: other processes used up to ${worst.toFixed(2)} cores meanwhile (of ${cpus().length}); figures are noisy`);
  }
  const output: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: Math.round(totalmem() / GiB),
        kernel: release(),
      },
      node: process.version,
      wrangler: versionOf('wrangler'),
      tusServer: versionOf('@tus/server'),
      git,
      options: { ...options, matrix: options.matrix.map(([p, c]) => `${p / MiB} MiB × ${c}`) },
      durationSeconds: Math.round((Date.now() - started) / 1000),
      metrics: METRICS,
    },
    cases,
    ratios: ratiosOf(cases),
    warnings: interrupted ? [...warnings, 'INTERRUPTED: partial results'] : warnings,
  };
  printReport(output);
  const json = writeJson(output, options.out);
  const svg = writeChart(output, options.out.replace(/\.json$/, '') + '.svg');
  console.log(`\nwrote ${json}\nwrote ${svg}`);
}

/** The processing consumer's timings from the profiling Worker's `BENCH-PROFILE queue {…}` lines. */
function queueTimings(output: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of output.matchAll(/BENCH-PROFILE queue (\{.*\})/g)) {
    const t = JSON.parse(match[1]!) as Record<string, number | string>;
    if (t.name !== 'upload-process') continue;
    let named = 0;
    for (const [k, v] of Object.entries(t)) {
      if (typeof v !== 'number' || k === 'messages') continue;
      out[`processing.${k}`] = (out[`processing.${k}`] ?? 0) + v;
      if (k !== 'queue') named += v;
    }
    out['processing.rest'] = (out['processing.rest'] ?? 0) + ((t.queue as number) - named);
  }
  return out;
}

function gitState(): BenchResults['meta']['git'] {
  const run = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: run('rev-parse', '--short', 'HEAD'), changedFiles: run('status', '--porcelain').split('\n').filter(Boolean).length };
  } catch {
    return { commit: 'unknown', changedFiles: 0 };
  }
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** `--report <json>`: print the tables and redraw the chart of an earlier run, measuring nothing. */
function reprint(path: string): void {
  const results = JSON.parse(readFileSync(path, 'utf8'), (_k, v) => (v === null ? Number.NaN : v)) as BenchResults;
  printReport(results);
  console.log(`\nwrote ${writeChart(results, path.replace(/\.json$/, '') + '.svg')}`);
}

try {
  const report = process.argv.indexOf('--report');
  if (report >= 0) reprint(process.argv[report + 1] ?? join(root, 'bench/results/latest.json'));
  else await main();
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
