/**
 * @module Part planning: how a file of a given size is cut into R2 multipart parts.
 * R2 wants every part but the last the same size (5 MiB .. 5 GiB) and at most 10,000 parts;
 * Workers cap request bodies, so parts stay well below that cap.
 */

export const MiB = 1024 * 1024;

/** R2 allows at most 10,000 parts per multipart upload: the one place this number is written. */
export const MAX_PARTS = 10_000;

export interface PartLimits {
  /** Smallest part size a client may ask for (R2: 5 MiB). */
  min: number;
  /** Largest part size (kept below the Workers request-body cap). */
  max: number;
  /** Used when the client does not ask for one. */
  default: number;
  /** R2 allows 10,000 parts. */
  maxParts: number;
}

export interface PartPlan {
  size: number;
  partSize: number;
  partCount: number;
}

export type PlanResult = { ok: true; plan: PartPlan } | { ok: false; reason: 'empty' | 'too-large' | 'bad-part-size' };

/**
 * Plans the parts of a file. The part size is the requested one (or the default), grown in whole
 * MiB when the file would otherwise need more than `maxParts` parts.
 */
export function planParts(size: number, limits: PartLimits, requestedPartSize?: number): PlanResult {
  if (!Number.isSafeInteger(size) || size < 0) return { ok: false, reason: 'too-large' };
  if (size === 0) return { ok: false, reason: 'empty' };
  if (requestedPartSize !== undefined && (requestedPartSize < limits.min || requestedPartSize > limits.max)) {
    return { ok: false, reason: 'bad-part-size' };
  }
  let partSize = requestedPartSize ?? limits.default;
  if (Math.ceil(size / partSize) > limits.maxParts) {
    partSize = Math.ceil(size / limits.maxParts / MiB) * MiB;
  }
  if (partSize > limits.max) return { ok: false, reason: 'too-large' };
  return { ok: true, plan: { size, partSize, partCount: Math.ceil(size / partSize) } };
}

/** Byte range of part `n` (1-based), or null when `n` is outside the plan. */
export function partRange(plan: PartPlan, n: number): { offset: number; size: number } | null {
  if (!Number.isInteger(n) || n < 1 || n > plan.partCount) return null;
  const offset = (n - 1) * plan.partSize;
  return { offset, size: Math.min(plan.partSize, plan.size - offset) };
}

/** The largest file these limits can plan at all. */
export function largestPlannable(limits: PartLimits): number {
  return limits.max * limits.maxParts;
}
