/** Command-line options of `npm run bench` (see bench/README.md). */
import { parseArgs } from 'node:util';
import { GiB, MiB } from './stats';

export const CASES = ['ceiling', 'ours', 'tus', 'memory', 'flat', 'create', 'idle', 'rtt', 'profile'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchOptions {
  /** File size for the ceiling, ours (throughput matrix) and tus cases. */
  size: number;
  runs: number;
  /** [partSize, concurrency] points of the throughput matrix. */
  matrix: [number, number][];
  /** File sizes of the memory-scaling case. */
  memorySizes: number[];
  cases: CaseName[];
  /** Uploads of `size` one after another in the flat-memory case (each server). */
  flatUploads: number;
  /** Create-latency requests per run: one caller, and 32 callers. */
  createRequests: { single: number; concurrent: number };
  seed: number;
  out: string;
  full: boolean;
}

const USAGE = `npm run bench -- [options]
  --size <n>             file size for throughput cases, e.g. 256MiB, 512MiB, 1GiB (default 256MiB; --full 512MiB)
  --runs <n>             runs per case (default 3)
  --full                 everything the issue asks: 512 MiB, part sizes 5/8/16 MiB × concurrency 1/2/4/8,
                         memory scaling at 128 MiB, 1 GiB and 4 GiB (~30 min on 2 cores)
  --part-sizes <list>    part sizes in MiB for the matrix, e.g. 5,8,16 (crossed with --concurrency)
  --concurrency <list>   concurrencies for the matrix, e.g. 1,2,4,8
  --memory-sizes <list>  memory-scaling sizes, e.g. 128MiB,1GiB,4GiB (default 128MiB,1GiB)
  --cases <list>         a subset of ${CASES.join(',')} (default all)
  --flat-uploads <n>     uploads of --size one after another in the flat case, on ours and on the ceiling (default 10)
  --create-requests <a,b> create requests per run with 1 and with 32 callers (default 40,96; keep each under the owner's
                         quota of 100 active uploads)
  --seed <n>             input seed (default 1)
  --out <path>           JSON results (default bench/results/latest.json; the chart goes beside it as .svg)
  --report [json]        measure nothing: print the tables and redraw the chart of an earlier run`;

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib|k|m|g)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text} (try 512MiB or 1GiB)`);
  const unit = (m[2] ?? 'mib').toLowerCase();
  const factor = unit.startsWith('g') ? GiB : unit.startsWith('m') ? MiB : unit.startsWith('k') ? 1024 : 1;
  return Math.round(Number(m[1]) * factor);
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

export function parseOptions(argv: string[], defaultOut: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      runs: { type: 'string' },
      full: { type: 'boolean', default: false },
      'part-sizes': { type: 'string' },
      concurrency: { type: 'string' },
      'memory-sizes': { type: 'string' },
      cases: { type: 'string' },
      'create-requests': { type: 'string' },
      'flat-uploads': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const full = values.full ?? false;
  const size = values.size ? parseSize(values.size) : full ? 512 * MiB : 256 * MiB;
  if (size >= 4 * GiB) throw new Error('--size must be below 4 GiB (Node 22 Blobs cannot describe larger files; --memory-sizes may be larger)');
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

  let matrix: [number, number][];
  if (values['part-sizes'] || values.concurrency || full) {
    const partSizes = list(values['part-sizes'] ?? '5,8,16').map((s) => parseSize(s));
    const concurrencies = list(values.concurrency ?? '1,2,4,8').map(Number);
    matrix = partSizes.flatMap((p) => concurrencies.map((c): [number, number] => [p, c]));
  } else {
    // Defaults that finish in a few minutes: part size at concurrency 4, concurrency at 8 MiB.
    matrix = [
      [5 * MiB, 4],
      [8 * MiB, 4],
      [16 * MiB, 4],
      [8 * MiB, 1],
      [8 * MiB, 8],
    ];
  }
  const memorySizes = values['memory-sizes']
    ? list(values['memory-sizes']).map(parseSize)
    : full
      ? [128 * MiB, GiB, 4 * GiB]
      : [128 * MiB, GiB];
  const cases = values.cases ? (list(values.cases) as CaseName[]) : [...CASES];
  for (const c of cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}; cases are ${CASES.join(', ')}`);
  const [single, concurrent] = list(values['create-requests'] ?? '40,96').map(Number);
  const flatUploads = Number(values['flat-uploads'] ?? 10);
  if (!Number.isInteger(flatUploads) || flatUploads < 1 || flatUploads > 100) throw new Error('--flat-uploads must be an integer from 1 to 100');
  return {
    size,
    runs,
    matrix,
    memorySizes: [...memorySizes].sort((a, b) => a - b),
    cases,
    flatUploads,
    createRequests: { single: single ?? 40, concurrent: concurrent ?? 96 },
    seed: Number(values.seed ?? 1),
    out: values.out ?? defaultOut,
    full,
  };
}
