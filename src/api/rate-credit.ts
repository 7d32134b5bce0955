/**
 * @module Batched rate-limit units: one unit the limiter grants buys `batch` requests for the same
 * client (the same limiter keys) within the limiter's window, so the limiter is asked once per
 * batch instead of once per request. Held in the isolate's memory: an isolate that never saw the
 * client holds no credit and asks, so spreading requests over isolates only asks more often.
 *
 * The bound: every request is either the one that asked (and was granted a unit) or one of the
 * `batch − 1` it paid for, and credit never outlives the window it was granted in. So within one
 * window a key that the limiter allows `limit` units admits at most `batch × limit` requests.
 */

export class RateCredits {
  private readonly credits = new Map<string, { left: number; window: number }>();

  /**
   * @param batch requests one unit buys (the asking request included)
   * @param windowMs the limiter's period: credit ends with the window it was granted in
   * @param maxKeys clients remembered at once; past it, stale windows are dropped, then everyone
   *   (which only makes clients ask the limiter again)
   */
  constructor(
    readonly batch: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Spends one request of `key`'s credit; false when there is none left in this window (ask the limiter). */
  take(key: string, now = Date.now()): boolean {
    const credit = this.credits.get(key);
    if (!credit || credit.window !== this.windowOf(now) || credit.left < 1) return false;
    credit.left -= 1;
    return true;
  }

  /** The limiter granted `key` a unit for the request that asked: `batch − 1` more in this window. */
  grant(key: string, now = Date.now()): void {
    const window = this.windowOf(now);
    const credit = this.credits.get(key);
    if (credit && credit.window === window) {
      credit.left += this.batch - 1;
      return;
    }
    if (this.credits.size >= this.maxKeys) this.prune(window);
    this.credits.set(key, { left: this.batch - 1, window });
  }

  private windowOf(now: number): number {
    return Math.floor(now / this.windowMs);
  }

  private prune(window: number): void {
    for (const [key, credit] of this.credits) if (credit.window !== window) this.credits.delete(key);
    if (this.credits.size >= this.maxKeys) this.credits.clear();
  }
}
