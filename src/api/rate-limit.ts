/**
 * @module Rate limits through the Workers rate-limiting binding, per principal and per client IP.
 * The IP comes from CF-Connecting-IP, which Cloudflare always sets; requests without it (in-process
 * tests) skip the IP limit. The development principal (DEV_ANONYMOUS) is limited by IP only; no
 * JWT principal is ever that one (see ownerOfSub), so none escapes its own limit.
 */
import type { Context } from 'hono';
import { AppError } from '../domain/errors';
import type { AppEnv } from './app-env';
import { DEV_ANONYMOUS } from './auth';

/** Seconds a client should wait: the limiter's window (bindings allow 10 or 60 s periods). */
const RETRY_AFTER_SECONDS: Record<string, number> = { create: 60, part: 10 };

export async function enforceRateLimit(
  c: Context<AppEnv>,
  kind: 'create' | 'part',
  limiters: { owner?: RateLimit; ip?: RateLimit },
  owner: string,
): Promise<void> {
  const ip = c.req.header('cf-connecting-ip');
  const checks: Promise<RateLimitOutcome>[] = [];
  if (limiters.owner && owner !== DEV_ANONYMOUS) checks.push(limiters.owner.limit({ key: `${kind}:owner:${owner}` }));
  if (limiters.ip && ip) checks.push(limiters.ip.limit({ key: `${kind}:ip:${ip}` }));
  const outcomes = await Promise.all(checks);
  if (outcomes.some((o) => !o.success)) {
    throw new AppError('ERR_RATE_LIMITED', `Too many ${kind} requests; slow down.`, undefined, {
      'Retry-After': String(RETRY_AFTER_SECONDS[kind]),
    });
  }
}
