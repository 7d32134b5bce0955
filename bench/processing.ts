/**
 * Processing benchmark (issue 14): CPU per GiB of each step of the processing consumer inside
 * workerd, to size the slices and `[limits] cpu_ms`. Each step runs over the same seeded bytes in
 * a bench-only Worker (bench/processing-worker/) under `wrangler dev`; CPU is read twice: the
 * step's own `performance.now()` (workerd's clock advances during CPU work locally) and the workerd
 * processes' CPU time from /proc around the request (which also counts the local R2 emulator).
 *
 *   npm run bench:processing -- [--mib 256] [--runs 3]
 *
 * clamd: a private clamd (test/node/clamd-server.ts) is started for the clamd steps; the Worker's
 * share is relaying the bytes (clamd-relay, and slice-clamd: a slice as the consumer runs it with
 * clamd configured); the daemon's own CPU is reported beside it, not counted in the Worker's.
 * Not measured here: derivatives (per image, not per GiB: `npm run bench:derivatives`).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevServer } from '../test/e2e/dev-server';
import { startClamd } from '../test/node/clamd-server';
import { CLK_TCK, findRootByCmdline, processTree } from './lib/procs';
import { root } from './lib/servers';

const STEPS = (process.env.BENCH_STEPS?.split(',') ?? ['sniff', 'sha256-webcrypto', 'sha256-saveable', 'scan-builtin', 'r2-read', 'slice', 'slice-whole', 'clamd-relay', 'slice-clamd']) as readonly string[];
const GiB = 1024 ** 3;

export interface StepResult {
  step: string;
  mib: number;
  /** Median of the runs, CPU seconds per GiB by the in-Worker clock. */
  workerSecondsPerGiB: number;
  /** Median of the runs, CPU seconds per GiB of all workerd processes (includes the R2 emulator). */
  processSecondsPerGiB: number;
  /** For per-file steps (sniff): milliseconds per file. */
  msPerFile?: number;
  /** For the clamd steps: the daemon's own CPU per GiB (not the Worker's). */
  clamdSecondsPerGiB?: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchProcessing(mib: number, runs: number): Promise<StepResult[]> {
  const server = await startDevServer({ config: join(root, 'bench/processing-worker/wrangler.toml') });
  const clamd = STEPS.some((step) => step.includes('clamd')) ? await startClamd({ streamMaxLength: (mib + 2) * 1024 * 1024 }).catch(async (error) => {
    await server.stop();
    throw error;
  }) : undefined;
  const clamdTicks = () => (clamd ? processTree(clamd.pid).reduce((sum, s) => sum + s.ticks, 0) : 0);
  try {
    const treeRoot = findRootByCmdline(server.persistDir);
    const workerdTicks = () => processTree(treeRoot!).filter((s) => s.comm.startsWith('workerd')).reduce((sum, s) => sum + s.ticks, 0);
    const call = async (path: string) => {
      const res = await fetch(`${server.url}${path}&clamdPort=${clamd?.port ?? 0}`, { method: 'POST' });
      const body = (await res.json()) as { ms: number; bytes: number; error?: string };
      if (!res.ok) throw new Error(body.error);
      return body;
    };
    await call(`/object?mib=${mib}`);
    const results: StepResult[] = [];
    for (const step of STEPS) {
      await call(`/step?name=${step}&mib=16`); // warm-up (JIT)
      const worker: number[] = [];
      const proc: number[] = [];
      const daemon: number[] = [];
      let processed = mib * 1024 * 1024;
      for (let run = 0; run < runs; run++) {
        const before = workerdTicks();
        const daemonBefore = clamdTicks();
        const { ms, bytes } = await call(`/step?name=${step}&mib=${mib}`);
        proc.push((workerdTicks() - before) / CLK_TCK);
        daemon.push((clamdTicks() - daemonBefore) / CLK_TCK);
        worker.push(ms / 1000);
        processed = bytes;
      }
      const gib = processed / GiB;
      results.push({
        step,
        mib,
        workerSecondsPerGiB: median(worker) / gib,
        processSecondsPerGiB: median(proc) / gib,
        ...(step === 'sniff' ? { msPerFile: median(worker) * 1000 } : {}),
        ...(step.includes('clamd') ? { clamdSecondsPerGiB: median(daemon) / gib } : {}),
      });
      console.error(`  ${step}: ${(median(worker) / gib).toFixed(2)} s/GiB (worker clock), ${(median(proc) / gib).toFixed(2)} s/GiB (workerd CPU)`);
    }
    return results;
  } finally {
    await server.stop();
    await clamd?.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } });
  const mib = Number(values.mib);
  const runs = Number(values.runs);
  if (!Number.isInteger(mib) || mib < 16 || !Number.isInteger(runs) || runs < 1) throw new Error('--mib ≥ 16 and --runs ≥ 1, integers');
  console.error(`processing steps over ${mib} MiB, ${runs} runs each`);
  const results = await benchProcessing(mib, runs);
  console.log('| step | CPU s/GiB (in-Worker clock) | CPU s/GiB (workerd processes) | clamd daemon CPU s/GiB |');
  console.log('|---|---|---|---|');
  for (const r of results) {
    const perFile = r.msPerFile !== undefined ? ` (${r.msPerFile.toFixed(2)} ms per file)` : '';
    const daemon = r.clamdSecondsPerGiB !== undefined ? r.clamdSecondsPerGiB.toFixed(2) : '–';
    console.log(`| ${r.step}${perFile} | ${r.workerSecondsPerGiB.toFixed(2)} | ${r.processSecondsPerGiB.toFixed(2)} | ${daemon} |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
