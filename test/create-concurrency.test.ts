/**
 * Quotas stay exact when one owner's creates arrive all at once: the ledger is the one place that
 * says yes, so a burst can never open more uploads, or reserve more bytes, than allowed.
 */
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { sweeperShardOf, sweeperStub } from '../src/durable/session-stub';
import { deployment, MiB } from './helpers';

const as = async (sub: string) => `Bearer ${await sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256')}`;

async function burst(call: ReturnType<typeof deployment>, auth: string, count: number, size: number) {
  const answers = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await call('/api/uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ name: 'burst.pdf', size, type: 'application/pdf' }),
      });
      return { status: res.status, body: await res.json<{ id?: string; error?: { code: string } }>() };
    }),
  );
  const tally: Record<string, number> = {};
  for (const { status, body } of answers) {
    const key = status === 201 ? '201' : `${status} ${body.error?.code}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return { tally, created: answers.filter((a) => a.status === 201).map((a) => a.body.id!) };
}

describe('concurrent creates from one owner', () => {
  it('50 creates at once against a quota of 10 unfinished uploads: exactly 10 open', async () => {
    const call = deployment({ QUOTA_MAX_ACTIVE_UPLOADS: '10', DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });
    const auth = await as(`burst-active-${crypto.randomUUID()}`);
    const { tally, created } = await burst(call, auth, 50, 100);
    expect(tally).toEqual({ '201': 10, '429 ERR_QUOTA_ACTIVE_UPLOADS': 40 });
    expect(new Set(created).size).toBe(10);
    // And the quota is still full afterwards: the refused creates left nothing reserved or open behind.
    expect((await burst(call, auth, 1, 100)).tally).toEqual({ '429 ERR_QUOTA_ACTIVE_UPLOADS': 1 });
  });

  it('30 creates of 3 MiB at once against 10 MiB of storage: exactly 3 open', async () => {
    const call = deployment({ QUOTA_MAX_STORED_BYTES: String(10 * MiB), DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });
    const auth = await as(`burst-bytes-${crypto.randomUUID()}`);
    const { tally } = await burst(call, auth, 30, 3 * MiB);
    expect(tally).toEqual({ '201': 3, '403 ERR_QUOTA_STORAGE': 27 });
    // 1 MiB is still free, and no more.
    expect((await burst(call, auth, 2, 1 * MiB)).tally).toEqual({ '201': 1, '403 ERR_QUOTA_STORAGE': 1 });
  });

  it('every upload opened in a burst is on the sweep\'s backstop list, in its own shard', async () => {
    const call = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });
    const { created } = await burst(call, await as(`burst-sweep-${crypto.randomUUID()}`), 20, 100);
    expect(created).toHaveLength(20);
    const later = Date.now() + 25 * 3600 * 1000;
    for (const id of created) expect(await sweeperStub(env, sweeperShardOf(id)).due(later, 100_000)).toContain(id);
  });

});
