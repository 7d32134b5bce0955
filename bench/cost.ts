/**
 * Cost benchmark (issue 14): what one upload costs, by part size. For a file of `--size` (1 GiB by
 * default) it counts the billable operations our code path causes, at each part size, and prices
 * them with the one price table (bench/cost/prices.ts), printing $ per 1,000 uploads and $ per TiB.
 *
 *   npm run bench:cost -- [--size 1GiB] [--part-sizes 5,8,16,32,64] [--bandwidth-mbps 100]
 *
 * The counts are derived from the code path, call by call (bench/cost/operations.ts, with file
 * references); test/cost-model.test.ts checks the Worker's own R2 and Durable Object calls against
 * a real upload and its processing, with the bindings wrapped in counters. Calls made inside the
 * session (opening and completing the R2 upload, alarms) are not observable from outside it and
 * are counted from its code. Two inputs are not operation counts but
 * a measurement and an assumption, stated in the output: processing CPU (~29 s/GiB, from
 * `npm run bench:processing`; production R2 reads cost the isolate less than the local emulator)
 * and how long the session object is active (the transfer time at `--bandwidth-mbps`).
 */
import { parseArgs } from 'node:util';
import { countOperations, CPU_MS_PER_REQUEST, PROCESSING_CPU_SECONDS_PER_GIB, type Operations } from './cost/operations';
import { PRICES } from './cost/prices';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

export interface Priced {
  partSizeMiB: number;
  operations: Operations;
  /** Dollars per upload by service (storage excluded). */
  dollars: Record<'r2' | 'workers' | 'durableObjects' | 'queues' | 'images', number>;
  perThousandUploads: number;
  perTiB: number;
  /** One month of Standard storage for the file (not in the totals above). */
  storagePerMonth: number;
}

export function price(size: number, partSize: number, ops: Operations): Priced {
  const m = 1e6;
  const dollars = {
    r2: (ops.r2ClassA * PRICES.r2.classAPerMillion + ops.r2ClassB * PRICES.r2.classBPerMillion) / m,
    workers: (ops.workerRequests * PRICES.workers.requestsPerMillion + ops.workerCpuMs * PRICES.workers.cpuMsPerMillion) / m,
    durableObjects:
      (ops.doRequests * PRICES.durableObjects.requestsPerMillion +
        ops.doGbSeconds * PRICES.durableObjects.durationPerMillionGbSeconds +
        ops.doRowsWritten * PRICES.durableObjects.rowsWrittenPerMillion) /
      m,
    queues: (ops.queueOperations * PRICES.queues.operationsPerMillion) / m,
    images: (ops.imagesTransformations * PRICES.images.transformationsPerThousand) / 1000,
  };
  const perUpload = Object.values(dollars).reduce((a, b) => a + b, 0);
  return {
    partSizeMiB: partSize / MiB,
    operations: ops,
    dollars,
    perThousandUploads: perUpload * 1000,
    perTiB: perUpload * (TiB / size),
    storagePerMonth: (size / 1e9) * PRICES.r2.storagePerGbMonth,
  };
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(MiB|GiB)$/.exec(text);
  if (!match) throw new Error(`--size like 1GiB or 512MiB, not ${text}`);
  return Math.round(Number(match[1]) * (match[2] === 'GiB' ? GiB : MiB));
}

export function costTable(size: number, partSizesMiB: number[], bandwidthMbps: number): Priced[] {
  return partSizesMiB.map((p) => price(size, p * MiB, countOperations(size, p * MiB, bandwidthMbps)));
}

function main(): void {
  const { values } = parseArgs({
    options: { size: { type: 'string', default: '1GiB' }, 'part-sizes': { type: 'string', default: '5,8,16,32,64' }, 'bandwidth-mbps': { type: 'string', default: '100' } },
  });
  const size = parseSize(values.size);
  const partSizes = values['part-sizes'].split(',').map(Number);
  const bandwidth = Number(values['bandwidth-mbps']);
  if (partSizes.some((p) => !Number.isInteger(p) || p < 5 || p > 64) || !(bandwidth > 0)) throw new Error('part sizes are whole MiB in 5…64; bandwidth > 0');
  const rows = costTable(size, partSizes, bandwidth);
  const usd = (n: number) => `$${n < 0.1 ? n.toFixed(4) : n.toFixed(2)}`;
  console.log(`One ${values.size} upload, sent at ${bandwidth} Mbit/s and processed to ready; prices as of ${PRICES.asOf} (bench/cost/prices.ts)\n`);
  console.log('| Part size | Parts | R2 Class A / B | DO requests | Worker requests | $ / 1,000 uploads | $ / TiB uploaded | of which R2 ops | DO | Workers | Queues |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const o = r.operations;
    const share = (x: number) => `${Math.round((x / (r.perThousandUploads / 1000)) * 100)}%`;
    console.log(
      `| ${r.partSizeMiB} MiB | ${o.parts} | ${o.r2ClassA} / ${o.r2ClassB} | ${o.doRequests} | ${o.workerRequests} | ${usd(r.perThousandUploads)} | ${usd(r.perTiB)} | ${share(r.dollars.r2)} | ${share(r.dollars.durableObjects)} | ${share(r.dollars.workers)} | ${share(r.dollars.queues)} |`,
    );
  }
  console.log(`\nStorage is extra: ${usd(rows[0]!.storagePerMonth)} per upload-month in R2 Standard (${usd(PRICES.r2.storagePerGbMonth * (TiB / 1e9))} per TiB-month).`);
  console.log(`Assumed: processing CPU ${PROCESSING_CPU_SECONDS_PER_GIB.sliced} s/GiB in slices, ${PROCESSING_CPU_SECONDS_PER_GIB.oneSlice} in one (bench:processing), ${CPU_MS_PER_REQUEST} ms CPU per other request, the session active for the whole transfer. Images transformations: 0 (not an image).`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
