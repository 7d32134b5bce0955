import { describe, expect, it } from 'vitest';
import { ConcurrencyController, concurrencyBounds } from '../../src/client/concurrency';
import { backoffDelay, CircuitBreaker, classify } from '../../src/client/retry-policy';

describe('retry classifier', () => {
  it.each([
    [{ status: 0, message: 'network' }, 'backoff'],
    [{ status: 401, code: 'ERR_TOKEN_EXPIRED', message: '' }, 'refresh-token'],
    [{ status: 401, code: 'ERR_TOKEN_INVALID', message: '' }, 'fail'],
    [{ status: 409, code: 'ERR_PART_IN_FLIGHT', message: '' }, 'backoff'],
    [{ status: 409, code: 'ERR_UPLOAD_STATE', message: '' }, 'resync'],
    [{ status: 416, message: '' }, 'resync'],
    [{ status: 429, message: '' }, 'backoff'],
    [{ status: 500, message: '' }, 'backoff'],
    [{ status: 503, message: '' }, 'backoff'],
    [{ status: 400, code: 'ERR_PART_SIZE', message: '' }, 'fail'],
    [{ status: 410, code: 'ERR_UPLOAD_GONE', message: '' }, 'fail'],
    [{ status: 413, message: '' }, 'fail'],
  ] as const)('%j → %s', (failure, action) => {
    expect(classify(failure)).toBe(action);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter inside [ceiling/2, ceiling], capped', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, opts, undefined, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, undefined, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, undefined, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, undefined, () => 0)).toBe(500);
  });
  it('waits at least what Retry-After asks', () => {
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, 5, () => 0)).toBe(5000);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures and closes on a success', () => {
    const breaker = new CircuitBreaker(3);
    expect([breaker.failure(), breaker.failure()]).toEqual([false, false]);
    breaker.success();
    expect([breaker.failure(), breaker.failure(), breaker.failure()]).toEqual([false, false, true]);
    expect(breaker.open).toBe(true);
    breaker.reset();
    expect(breaker.open).toBe(false);
  });
});

describe('adaptive concurrency', () => {
  const MB = 1_000_000;
  it('rises while throughput rises, up to the maximum', () => {
    const c = new ConcurrencyController({ initial: 2, min: 1, max: 5 });
    // Each part takes as long whatever the concurrency: more parallel parts, more throughput.
    for (let i = 0; i < 40; i++) c.success(8 * MB, 100);
    expect(c.limit).toBe(5);
  });

  it('steps down when latency grows without a throughput gain', () => {
    const c = new ConcurrencyController({ initial: 4, min: 1, max: 8 });
    // A saturated link: latency grows in proportion to parallelism, throughput stays flat.
    for (let round = 0; round < 30; round++) {
      const limit = c.limit;
      for (let i = 0; i < limit; i++) c.success(8 * MB, 100 * limit * (limit > 3 ? 2 : 1));
    }
    expect(c.limit).toBeLessThanOrEqual(4);
  });

  it('halves on a failure, never below the minimum', () => {
    const c = new ConcurrencyController({ initial: 8, min: 2, max: 8 });
    c.failure();
    expect(c.limit).toBe(4);
    c.failure();
    c.failure();
    expect(c.limit).toBe(2);
  });

  it('respects device and network hints', () => {
    expect(concurrencyBounds({})).toEqual({ initial: 4, min: 1, max: 8 });
    expect(concurrencyBounds({ hardwareConcurrency: 1 })).toEqual({ initial: 2, min: 1, max: 2 });
    expect(concurrencyBounds({ effectiveType: '3g' }).max).toBe(2);
    expect(concurrencyBounds({ effectiveType: '2g' })).toEqual({ initial: 1, min: 1, max: 1 });
    expect(concurrencyBounds({ saveData: true }).max).toBe(1);
  });
});
