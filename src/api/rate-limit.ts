/**
 * @module Rate limits through the Workers rate-limiting binding, per principal and per client IP.
 * The IP comes from CF-Connecting-IP, which Cloudflare always sets; requests without it (in-process
 * tests) skip the IP limit. The development principal (DEV_ANONYMOUS) is limited by IP only; no
 * JWT principal is ever that one (see ownerOfSub), so none escapes its own limit.
 *
 * Creates ask the limiter on every request. Part-sized writes (part PUTs, presigns, tus and IETF
 * appends) ask it once per batch of PART_BATCH requests from one client (rate-credit.ts): one unit
 * of PART_LIMIT is a batch, so PART_LIMIT's configured limit is in batches (wrangler.toml: 300 per
 * 10 s = 3,000 part requests per principal and per IP, as when every request was one unit).
 */
import type { Context } from 'hono';
import { AppError } from '../domain/errors';
import type { AppEnv } from './app-env';
import { DEV_ANONYMOUS } from './auth';
import { RateCredits } from './rate-credit';

type Kind = 'create' | 'part';

/** Seconds a client should wait: the limiter's window (bindings allow 10 or 60 s periods). */
const RETRY_AFTER_SECONDS: Record<Kind, number> = { create: 60, part: 10 };

/** Part requests one PART_LIMIT unit buys. Asking the limiter is the largest fixed cost of a part after the session's RPCs. */
export const PART_BATCH = 10;

/** This isolate's part credits; the window is PART_LIMIT's period. */
const partCredits = new RateCredits(PART_BATCH, RETRY_AFTER_SECONDS.part * 1000);

interface Check {
  limiter: RateLimit;
  key: string;
}

function checksOf(c: Context<AppEnv>, kind: Kind, limiters: { owner?: RateLimit; ip?: RateLimit }, owner: string): Check[] {
  const ip = c.req.header('cf-connecting-ip');
  const checks: Check[] = [];
  if (limiters.owner && owner !== DEV_ANONYMOUS) checks.push({ limiter: limiters.owner, key: `${kind}:owner:${owner}` });
  if (limiters.ip && ip) checks.push({ limiter: limiters.ip, key: `${kind}:ip:${ip}` });
  return checks;
}

async function ask(checks: Check[], kind: Kind): Promise<void> {
  const outcomes = await Promise.all(checks.map(({ limiter, key }) => limiter.limit({ key })));
  if (outcomes.some((o) => !o.success)) {
    throw new AppError('ERR_RATE_LIMITED', `Too many ${kind} requests; slow down.`, undefined, {
      'Retry-After': String(RETRY_AFTER_SECONDS[kind]),
    });
  }
}

/** One unit of the create limiters (CREATE_LIMIT_OWNER, CREATE_LIMIT_IP) per request that creates an upload, on every protocol. */
export async function enforceCreateLimit(c: Context<AppEnv>, owner: string): Promise<void> {
  await ask(checksOf(c, 'create', { owner: c.env.CREATE_LIMIT_OWNER, ip: c.env.CREATE_LIMIT_IP }, owner), 'create');
}

/**
 * PART_LIMIT for one part-sized write request of `owner` (the upload token's principal): free while
 * this client has credit in this window, else one unit asked of the limiter (per principal and per
 * IP), which buys PART_BATCH − 1 more. 429 ERR_RATE_LIMITED with Retry-After when refused.
 */
export async function enforcePartLimit(c: Context<AppEnv>, owner: string): Promise<void> {
  const limiter = c.env.PART_LIMIT;
  const checks = checksOf(c, 'part', { owner: limiter, ip: limiter }, owner);
  if (checks.length === 0) return;
  const client = checks.map((check) => check.key).join(' ');
  const askedAt = Date.now();
  if (partCredits.take(client, askedAt)) return;
  await ask(checks, 'part');
  // Credit for the window the unit was asked in: granted after a window ended, it is spent already.
  partCredits.grant(client, askedAt);
}
