/**
 * @module Every retry decision of the client in one place (as Uppy does): what to do about a
 * failed request, and how long to wait. Pure: no DOM, no network.
 */

/** A failed HTTP answer from the API, or a network failure (status 0). */
export interface RequestFailure {
  status: number;
  code?: string;
  message: string;
  retryAfterSeconds?: number;
}

export type RetryAction =
  /** The upload token expired: get a fresh one, then retry. */
  | 'refresh-token'
  /** Our idea of the manifest is stale (409, 416): ask the server which parts it has. */
  | 'resync'
  /** Transient (429, 5xx, network): wait, then retry the same request. */
  | 'backoff'
  /** Permanent: stop and show the server's message. */
  | 'fail';

export function classify(failure: RequestFailure): RetryAction {
  const { status, code } = failure;
  if (status === 0) return 'backoff';
  if (code === 'ERR_TOKEN_EXPIRED') return 'refresh-token';
  if (code === 'ERR_PART_IN_FLIGHT') return 'backoff';
  if (status === 409 || status === 416) return 'resync';
  if (status === 408 || status === 429 || status >= 500) return 'backoff';
  return 'fail';
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * Delay before retry number `attempt` (1-based): exponential with "full jitter", at least what
 * the server asked for in Retry-After. `random` is injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}

/**
 * Opens after `threshold` consecutive failures, so a dead network pauses the upload instead of
 * burning retries; any success closes it again.
 */
export class CircuitBreaker {
  private failures = 0;

  constructor(private readonly threshold = 6) {}

  /** Records a failure; true when the breaker has just opened. */
  failure(): boolean {
    this.failures += 1;
    return this.failures === this.threshold;
  }

  success(): void {
    this.failures = 0;
  }

  get open(): boolean {
    return this.failures >= this.threshold;
  }

  reset(): void {
    this.failures = 0;
  }
}
