/**
 * @module The billable operations of one upload, by part size, derived from the code path call by
 * call (the cost benchmark, bench/cost.ts, prices them; test/cost-model.test.ts checks the
 * per-part and per-upload counts of the Worker's own calls against a real upload). No imports
 * with runtime effects, so both the Node benchmark and the workerd test can use it.
 */
import { DEFAULT_PROCESSING_SLICE_BYTES } from '../../src/domain/processing-slice';

const GiB = 1024 ** 3;

/**
 * CPU per GiB of the processing pass, from `npm run bench:processing` (docs/processing-limits.md):
 * a file larger than one slice (saveable SHA-256), or one that fits in a slice (native SHA-256).
 * Both include the local R2 emulator's share (~10 s/GiB), so they are upper bounds.
 */
export const PROCESSING_CPU_SECONDS_PER_GIB = { sliced: 28.6, oneSlice: 16.9 };
/** CPU per request outside processing (routing, auth, RPCs; the body streams to R2 natively): an assumption. */
export const CPU_MS_PER_REQUEST = 2;

export interface Operations {
  parts: number;
  slices: number;
  workerRequests: number;
  workerCpuMs: number;
  r2ClassA: number;
  r2ClassB: number;
  doRequests: number;
  doGbSeconds: number;
  doRowsWritten: number;
  queueOperations: number;
  imagesTransformations: number;
}

/**
 * Calls the Worker itself makes (observable at its bindings; test/cost-model.test.ts counts them on
 * a real upload): R2 Class A / B, Durable Object requests (session and ledger RPCs).
 */
export const WORKER_CALLS = {
  /** POST /api/uploads (src/api/open-upload.ts): ledger.reserve, session.create (which opens the R2 upload, below). */
  create: { r2ClassA: 0, r2ClassB: 0, doRequests: 2 },
  /** PUT a part (src/api/uploads-routes.ts): uploadPart; session.beginPart, session.commitPart. */
  part: { r2ClassA: 1, r2ClassB: 0, doRequests: 2 },
  /**
   * One processing delivery (src/queues/process-consumer.ts, validate-upload.ts, hash-scan-slice.ts):
   * the slice's ranged get and the state read (B), the state put (A); session processingTarget ×2,
   * beginProcessing, endProcessing. (Deleting the state at the end is free.)
   */
  slice: { r2ClassA: 1, r2ClassB: 2, doRequests: 4 },
  /** Once, before the first slice: head, first bytes, last bytes. */
  firstChecks: { r2ClassA: 0, r2ClassB: 3, doRequests: 0 },
  /** Once, after the last slice: ledger.claimContent, session.markProcessing, session.finishProcessing. */
  finish: { r2ClassA: 0, r2ClassB: 0, doRequests: 3 },
} as const;

/**
 * Calls made inside the session (not observable from the Worker), from src/durable/upload-session.ts:
 * R2 createMultipartUpload (A) when it is created and complete (A) in the assembly alarm;
 * requests: the events WebSocket connect, complete, two manifest reads by the client, the
 * assembly alarm and the watchdog alarm.
 */
export const SESSION_CALLS = { r2ClassA: 2, doRequests: 6 } as const;

/** The operations one upload of `size` bytes in `partSize` parts causes, sent by our client and processed to `ready`. */
export function countOperations(size: number, partSize: number, bandwidthMbps: number): Operations {
  const parts = Math.ceil(size / partSize);
  const slices = Math.max(1, Math.ceil(size / DEFAULT_PROCESSING_SLICE_BYTES));
  const w = WORKER_CALLS;
  const sum = (field: 'r2ClassA' | 'r2ClassB' | 'doRequests') =>
    w.create[field] + parts * w.part[field] + slices * w.slice[field] + w.firstChecks[field] + w.finish[field];
  // Worker requests: create, one PUT per part, the events WebSocket, complete, the final manifest
  // read (src/client/upload.ts), and one queue invocation per slice.
  const workerRequests = 1 + parts + 1 + 1 + 1 + slices;
  // Active while parts arrive (the object cannot hibernate between requests), billed at 128 MB.
  const transferSeconds = (size * 8) / (bandwidthMbps * 1e6);
  return {
    parts,
    slices,
    workerRequests,
    workerCpuMs: (size / GiB) * PROCESSING_CPU_SECONDS_PER_GIB[slices > 1 ? 'sliced' : 'oneSlice'] * 1000 + workerRequests * CPU_MS_PER_REQUEST,
    r2ClassA: sum('r2ClassA') + SESSION_CALLS.r2ClassA,
    r2ClassB: sum('r2ClassB'),
    doRequests: sum('doRequests') + SESSION_CALLS.doRequests,
    doGbSeconds: 0.128 * transferSeconds,
    // SQLite rows: one per confirmed part plus the upload row's updates (~10 state changes).
    doRowsWritten: parts + 10,
    // Queue: the first message and one continuation per further slice; write + read + delete each.
    queueOperations: 3 * slices,
    imagesTransformations: 0,
  };
}
