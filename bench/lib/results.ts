/** The shape of a benchmark run's results (bench/results/latest.json) and how runs become rows. */
import type { CeilingRun } from '../cases/ceiling';
import type { CreateRun } from '../cases/create';
import type { IdleProgressRun } from '../cases/progress-idle';
import type { RoundTripRun } from '../cases/round-trips';
import type { OursRun } from '../cases/ours';
import type { Usage } from '../cases/usage';
import { MiB, percentile, summarize, type Summary } from './stats';

export type CaseKind = 'ceiling' | 'ceiling-mpu' | 'ours' | 'tus' | 'memory' | 'flat' | 'create' | 'idle' | 'rtt' | 'profile';

/** One row of a table: a case at one setting, with its runs' metrics and their median/min/max. */
export interface CaseResult {
  id: string;
  kind: CaseKind;
  label: string;
  size?: number;
  params: Record<string, number | string>;
  /** Flat numeric metrics per run (names in METRICS). */
  runs: Record<string, number>[];
  summary: Record<string, Summary>;
  /** Anything not numeric per run, e.g. HTTP statuses seen. */
  notes?: Record<string, unknown>;
}

export const METRICS: Record<string, string> = {
  rssBeforeMiB: 'flat case: runtime workerd RSS before this upload (settled), MiB',
  peakMiB: 'flat case: runtime workerd peak RSS during this upload, MiB',
  rssAfterMiB: 'flat case: runtime workerd RSS after this upload (settled), MiB',
  mbps: 'throughput, MB/s (10^6 bytes/s), to the last byte stored',
  seconds: 'seconds to the last part/put answered',
  readySeconds: 'seconds to ready (ours: assembly + validation included)',
  partP50: 'part (or chunk) latency p50, ms',
  partP95: 'part latency p95, ms',
  partP99: 'part latency p99, ms',
  serverPeakMiB: 'peak RSS of the server processes (workerd: proxy + runtime; tus: its Node process), MiB',
  runtimePeakMiB: 'peak RSS of the workerd that runs the Worker, MiB',
  runtimeGrowthMiB: 'runtime workerd peak RSS minus its RSS before the upload, MiB',
  runtimeTransferPeakMiB: 'runtime workerd peak RSS until the last part’s 200 (before assembly and processing), MiB',
  runtimeBaselineMiB: 'runtime workerd RSS just before this upload (what earlier uploads left behind), MiB',
  serverCpuPerGiB: 'CPU seconds of the server processes per GiB uploaded, until the bytes were stored (ours: the last part’s 200)',
  serverTotalCpuPerGiB: 'same until ready (ours: assembly, validation, malware scan, SHA-256 included)',
  runtimeCpuPerGiB: 'CPU seconds of the Worker’s workerd per GiB',
  proxyCpuPerGiB: 'CPU seconds of wrangler’s proxy workerd per GiB',
  clientCpuPerGiB: 'CPU seconds of the benchmark (client) process per GiB',
  progressP50: 'ms from a part’s 200 at the client to the progress event at a second subscriber, p50',
  progressP99: 'same, p99',
  progressMessages: 'progress messages the second subscriber received',
  partErrors: 'non-200 part answers (409/429/5xx)',
  progressParts: 'idle case: parts measured (each after ≥ 1.2 s of silence)',
  rttToReady: 'round trips case: seconds from add() to the last ready, 150 ms added per request',
  rttRequests: 'round trips case: requests the client made',
  rttPerFile: 'round trips case: requests per file',
  createP50: 'POST /api/uploads latency p50, ms',
  createP99: 'POST /api/uploads latency p99, ms',
  createPerSecond: 'creates per second',
  createErrors: 'answers other than success (201 for ours)',
  serverCpuSeconds: 'CPU seconds of the server processes for the batch',
  'profile.*': 'profile case: mean ms per part — client (send to 200), worker (inside the Worker), rl (rate limiter), begin/commit (session RPCs), do (other DO RPCs), r2 (uploadPart: receiving + storing the body), rest (worker minus the named steps: routing, auth, JSON), outside (client minus worker: proxy, loopback, client)',
  'processing.*': 'profile case: ms per upload in the processing consumer (queue = whole batch; r2.*, ledger, do = calls; rest = body reads and JS)',
  backgroundCores: 'CPU (in cores) that other processes on the machine used during the measurement: noise',
};

const mib = (bytes: number) => bytes / MiB;

function usageMetrics(usage: Usage): Record<string, number> {
  const server = usage.groups.workerd ?? usage.groups.tus;
  const runtime = usage.groups['workerd:runtime'];
  const proxy = usage.groups['workerd:proxy'];
  return {
    serverPeakMiB: mib(server?.peakRss ?? Number.NaN),
    serverCpuPerGiB: server?.cpuSecondsPerGiB ?? Number.NaN,
    serverTotalCpuPerGiB: server?.totalCpuSecondsPerGiB ?? Number.NaN,
    clientCpuPerGiB: usage.clientCpuSecondsPerGiB,
    backgroundCores: usage.backgroundCores,
    ...(runtime
      ? {
          runtimePeakMiB: mib(runtime.peakRss),
          runtimeGrowthMiB: mib(runtime.peakRss - runtime.baselineRss),
          runtimeTransferPeakMiB: mib(runtime.transferPeakRss),
          runtimeBaselineMiB: mib(runtime.baselineRss),
          runtimeCpuPerGiB: runtime.cpuSecondsPerGiB,
        }
      : {}),
    ...(proxy ? { proxyCpuPerGiB: proxy.cpuSecondsPerGiB } : {}),
  };
}

export function uploadMetrics(run: OursRun | CeilingRun): Record<string, number> {
  const base = {
    mbps: run.mbps,
    seconds: run.seconds,
    readySeconds: 'readySeconds' in run ? run.readySeconds : run.totalSeconds,
    partP50: percentile(run.partMs, 50),
    partP95: percentile(run.partMs, 95),
    partP99: percentile(run.partMs, 99),
    ...usageMetrics(run.usage),
  };
  if (!('progress' in run)) return base;
  return {
    ...base,
    progressP50: percentile(run.progress.latencyMs, 50),
    progressP99: percentile(run.progress.latencyMs, 99),
    progressMessages: run.progress.messages,
    partErrors: Object.values(run.partErrors).reduce((a, b) => a + b, 0),
  };
}

/** Mean per part of each Server-Timing entry, plus the derived `rest` and `outside`. */
export function profileMetrics(run: OursRun): Record<string, number> {
  const parts = run.partServerTiming;
  const keys = new Set(parts.flatMap((p) => Object.keys(p)));
  const mean = (k: string) => parts.reduce((sum, p) => sum + (p[k] ?? 0), 0) / Math.max(1, parts.length);
  const out: Record<string, number> = { mbps: run.mbps, parts: parts.length };
  for (const k of keys) out[`profile.${k}`] = mean(k);
  const named = [...keys].filter((k) => !['worker', 'client'].includes(k)).reduce((sum, k) => sum + mean(k), 0);
  out['profile.rest'] = mean('worker') - named;
  out['profile.outside'] = mean('client') - mean('worker');
  return out;
}

export function idleMetrics(run: IdleProgressRun): Record<string, number> {
  return { progressP50: percentile(run.latencyMs, 50), progressP99: percentile(run.latencyMs, 99), progressParts: run.latencyMs.length };
}

export function roundTripMetrics(run: RoundTripRun): Record<string, number> {
  return { rttToReady: run.toReadySeconds, rttRequests: run.requests, rttPerFile: run.perFile };
}

export function createMetrics(run: CreateRun): Record<string, number> {
  return {
    createP50: percentile(run.latencyMs, 50),
    createP99: percentile(run.latencyMs, 99),
    createPerSecond: run.perSecond,
    createErrors: run.errors,
    serverCpuSeconds: run.usage.groups.workerd?.totalCpuSeconds ?? Number.NaN,
    backgroundCores: run.usage.backgroundCores,
  };
}

export function summarizeRuns(runs: Record<string, number>[]): Record<string, Summary> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...keys].map((k) => [k, summarize(runs.map((r) => r[k] ?? Number.NaN))]));
}

export interface BenchResults {
  meta: {
    date: string;
    machine: { cpu: string; cores: number; memoryGiB: number; kernel: string };
    node: string;
    wrangler: string;
    tusServer: string;
    /** The code measured: HEAD and the files that differed from it (served from a snapshot taken at the start). */
    git: { commit: string; changedFiles: number };
    options: Record<string, unknown>;
    durationSeconds: number;
    metrics: Record<string, string>;
  };
  cases: CaseResult[];
  ratios: { name: string; value: number; note: string }[];
  warnings: string[];
}
