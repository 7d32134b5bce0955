import { describe, expect, it } from 'vitest';
import { largestPlannable, MiB, partRange, planParts, type PartLimits } from '../../src/domain/part-plan';

const limits: PartLimits = { min: 5 * MiB, max: 64 * MiB, default: 8 * MiB, maxParts: 10_000 };

describe('planParts', () => {
  it.each([
    ['a 0-byte file is refused', 0, undefined, { ok: false, reason: 'empty' }],
    ['one byte is one part', 1, undefined, { ok: true, plan: { size: 1, partSize: 8 * MiB, partCount: 1 } }],
    ['exactly one part', 8 * MiB, undefined, { ok: true, plan: { size: 8 * MiB, partSize: 8 * MiB, partCount: 1 } }],
    ['a byte over one part', 8 * MiB + 1, undefined, { ok: true, plan: { size: 8 * MiB + 1, partSize: 8 * MiB, partCount: 2 } }],
    ['exactly N parts', 3 * 8 * MiB, undefined, { ok: true, plan: { size: 24 * MiB, partSize: 8 * MiB, partCount: 3 } }],
    ['a requested part size', 11 * MiB, 5 * MiB, { ok: true, plan: { size: 11 * MiB, partSize: 5 * MiB, partCount: 3 } }],
    ['a part size below the minimum', 11 * MiB, 5 * MiB - 1, { ok: false, reason: 'bad-part-size' }],
    ['a part size above the maximum', 11 * MiB, 64 * MiB + 1, { ok: false, reason: 'bad-part-size' }],
    ['negative sizes', -1, undefined, { ok: false, reason: 'too-large' }],
  ])('%s', (_name, size, requested, expected) => {
    expect(planParts(size, limits, requested)).toEqual(expected);
  });

  it('grows the part size so no file needs more than 10,000 parts', () => {
    const exactly = 10_000 * 8 * MiB;
    expect(planParts(exactly, limits)).toEqual({ ok: true, plan: { size: exactly, partSize: 8 * MiB, partCount: 10_000 } });
    const over = planParts(exactly + 1, limits);
    expect(over.ok && over.plan).toEqual({ size: exactly + 1, partSize: 9 * MiB, partCount: Math.ceil((exactly + 1) / (9 * MiB)) });
    expect(over.ok && over.plan.partCount).toBeLessThanOrEqual(10_000);
  });

  it('refuses what even the largest parts cannot hold', () => {
    expect(planParts(largestPlannable(limits), limits).ok).toBe(true);
    expect(planParts(largestPlannable(limits) + 1, limits)).toEqual({ ok: false, reason: 'too-large' });
  });
});

describe('partRange', () => {
  const plan = { size: 20 * MiB + 3, partSize: 8 * MiB, partCount: 3 };
  it('gives equal parts and a smaller last one', () => {
    expect(partRange(plan, 1)).toEqual({ offset: 0, size: 8 * MiB });
    expect(partRange(plan, 2)).toEqual({ offset: 8 * MiB, size: 8 * MiB });
    expect(partRange(plan, 3)).toEqual({ offset: 16 * MiB, size: 4 * MiB + 3 });
  });
  it.each([0, 4, -1, 1.5, Number.NaN])('has no part %s', (n) => {
    expect(partRange(plan, n)).toBeNull();
  });
});
