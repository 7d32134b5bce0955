import { describe, expect, it } from 'vitest';
import { RateCredits } from '../../src/api/rate-credit';

const WINDOW = 10_000;
const t0 = 1_700_000_000_000 - (1_700_000_000_000 % WINDOW); // the start of a window

/** Requests `key` sends at `now` until one needs the limiter, which grants up to `units` units. */
function admitted(credits: RateCredits, key: string, units: number, now: number, requests: number): number {
  let granted = 0;
  let admittedCount = 0;
  for (let i = 0; i < requests; i++) {
    if (credits.take(key, now)) {
      admittedCount += 1;
    } else if (granted < units) {
      granted += 1;
      credits.grant(key, now);
      admittedCount += 1;
    }
  }
  return admittedCount;
}

describe('RateCredits: one limiter unit buys a batch of requests', () => {
  it('a new client asks; a granted unit buys batch − 1 more requests in the window, then it asks again', () => {
    const credits = new RateCredits(10, WINDOW);
    expect(credits.take('a', t0)).toBe(false);
    credits.grant('a', t0);
    for (let i = 0; i < 9; i++) expect(credits.take('a', t0 + i)).toBe(true);
    expect(credits.take('a', t0 + 9)).toBe(false);
  });

  it('within one window a client admits at most batch × the units the limiter grants', () => {
    const credits = new RateCredits(10, WINDOW);
    expect(admitted(credits, 'a', 3, t0, 1000)).toBe(30);
    expect(admitted(credits, 'b', 0, t0, 1000)).toBe(0);
  });

  it('credit ends with its window: the next window starts by asking', () => {
    const credits = new RateCredits(10, WINDOW);
    credits.grant('a', t0 + WINDOW - 1);
    expect(credits.take('a', t0 + WINDOW)).toBe(false);
    // Granted for a window that has passed (the unit was asked for before the edge): spent already.
    credits.grant('b', t0);
    expect(credits.take('b', t0 + WINDOW + 5)).toBe(false);
  });

  it('clients do not share credit', () => {
    const credits = new RateCredits(10, WINDOW);
    credits.grant('a', t0);
    expect(credits.take('b', t0)).toBe(false);
  });

  it('concurrent grants add up, each paying for its own batch', () => {
    const credits = new RateCredits(10, WINDOW);
    credits.grant('a', t0);
    credits.grant('a', t0);
    let n = 0;
    while (credits.take('a', t0)) n += 1;
    expect(n).toBe(18);
  });

  it('remembers a bounded number of clients; forgetting one only makes it ask again', () => {
    const credits = new RateCredits(10, WINDOW, 3);
    for (const key of ['a', 'b', 'c']) credits.grant(key, t0);
    credits.grant('d', t0 + WINDOW); // full: the old window's clients are dropped
    expect(credits.take('a', t0 + WINDOW)).toBe(false);
    expect(credits.take('d', t0 + WINDOW)).toBe(true);
    for (const key of ['e', 'f']) credits.grant(key, t0 + WINDOW);
    credits.grant('g', t0 + WINDOW); // full within one window: everyone is forgotten
    expect(credits.take('d', t0 + WINDOW)).toBe(false);
    expect(credits.take('g', t0 + WINDOW)).toBe(true);
  });
});
