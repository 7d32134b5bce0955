/**
 * @module `GET /api/health`: whether this deployment can take uploads. Checks that the settings
 * parse and the secrets exist (never showing them), and that each binding answers: R2 (a HEAD of
 * a key that never exists), the session Durable Object (its events endpoint for an id no upload
 * can have), and the queue producers. 200 when all pass, 503 `ERR_UNHEALTHY` with the checks.
 */
import { Hono } from 'hono';
import { loadConfig } from '../config';
import { AppError } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import type { AppEnv } from './app-env';

export type Check = { ok: true; ms?: number; note?: string } | { ok: false; error: string };

/** Upload ids are 32 hex digits: this name can never be an upload's session. */
const PROBE_NAME = 'health-probe';
const PROBE_KEY = 'health/probe-never-stored';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 200);

async function timed(probe: () => Promise<void>): Promise<Check> {
  const started = Date.now();
  try {
    await probe();
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

function configCheck(env: Env): Check {
  try {
    const config = loadConfig(env);
    if (!config.keyRing) return { ok: false, error: config.keyRingError ?? 'UPLOAD_TOKEN_KEYS is not set.' };
    if (!config.jwtSecret && !config.allowAnonymous) return { ok: false, error: 'AUTH_JWT_SECRET is not set (and anonymous uploads are off).' };
    return { ok: true, ...(config.allowAnonymous ? { note: 'anonymous uploads are allowed (development mode)' } : {}) };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

export async function healthChecks(env: Env): Promise<Record<string, Check>> {
  const [bucket, session] = await Promise.all([
    timed(async () => {
      await env.BUCKET.head(PROBE_KEY);
    }),
    timed(async () => {
      // The session answers 404 for an id with no upload: an answer at all means it is reachable.
      const res = await sessionStub(env, PROBE_NAME).fetch('https://session/events');
      await res.body?.cancel();
      if (res.status !== 404 && !res.ok) throw new Error(`the session answered ${res.status}`);
    }),
  ]);
  const queues: Check =
    typeof env.PROCESS_QUEUE?.send === 'function' && typeof env.CLEANUP_QUEUE?.send === 'function'
      ? // The Queue binding has no read side: backlog is visible only in the dashboard / `wrangler queues info`.
        { ok: true, note: 'backlog is not visible from a Worker; see `wrangler queues info upload-process`' }
      : { ok: false, error: 'PROCESS_QUEUE or CLEANUP_QUEUE is not bound.' };
  return { config: configCheck(env), bucket, session, queues };
}

export const health = new Hono<AppEnv>();

health.get('/', async (c) => {
  const checks = await healthChecks(c.env);
  const failing = Object.entries(checks).filter(([, check]) => !check.ok).map(([name]) => name);
  const metrics = { ok: true as const, note: c.env.METRICS ? 'Analytics Engine dataset bound' : 'no METRICS binding: metrics are off' };
  if (failing.length > 0) {
    throw new AppError('ERR_UNHEALTHY', `Not ready to take uploads: ${failing.join(', ')}.`, { checks: { ...checks, metrics } });
  }
  c.header('Cache-Control', 'no-store');
  return c.json({ ok: true, checks: { ...checks, metrics } });
});
