/**
 * @module When to try a webhook delivery again: exponential (×3 per attempt) from a base delay, with
 * ±20 % jitter so endpoints that failed together are not retried in lock-step, capped at the 12
 * hours a queue message can be delayed. With the defaults (60 s, 8 attempts) the last try comes
 * about 18 hours after the first.
 */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

/** Seconds to wait after failed attempt `attempt` (1-based); `random` in [0, 1). */
export function webhookRetryDelay(attempt: number, baseSeconds: number, random: number = Math.random()): number {
  const exponential = baseSeconds * 3 ** Math.max(0, attempt - 1);
  const jittered = exponential * (0.8 + 0.4 * random);
  return Math.max(1, Math.min(MAX_QUEUE_DELAY_SECONDS, Math.round(jittered)));
}
