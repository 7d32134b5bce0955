import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { api, createUpload, expectError, deployment } from './helpers';

const createInit = (headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ name: 'a.pdf', size: 10, type: 'application/pdf' }),
});


describe('CORS', () => {
  const site = deployment({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });

  it('answers a preflight from an allowed origin, exposing only what clients need', async () => {
    const res = await site('/api/uploads', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows a call from an allowed origin and exposes Location and ETag', async () => {
    const res = await site('/api/uploads', createInit({ origin: 'https://admin.example.com' }));
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/ETag, Location/);
  });

  it('refuses other origins, preflight or not, and never answers with *', async () => {
    await expectError(await site('/api/uploads', createInit({ origin: 'https://evil.example' })), 403, 'ERR_ORIGIN_NOT_ALLOWED');
    const preflight = await site('/api/config', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    // A "*" in the configuration is ignored rather than trusted.
    const star = deployment({ CORS_ORIGINS: '*' });
    await expectError(await star('/api/config', { headers: { origin: 'https://any.example' } }), 403, 'ERR_ORIGIN_NOT_ALLOWED');
  });

  it('same-origin calls and calls without Origin need no allowlist', async () => {
    expect((await api('/api/config', { headers: { origin: 'http://uploads.test' } })).status).toBe(200);
    expect((await api('/api/config')).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a principal exceeds the create limit', async () => {
    const jwt = await sign({ sub: `rate-${crypto.randomUUID()}`, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256');
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 70 && !limited; i++) {
      const res = await api('/api/uploads', createInit({ authorization: `Bearer ${jwt}` }));
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 60).every((s) => s === 201)).toBe(true);
    expect(limited).toBeDefined();
    expect(limited!.headers.get('retry-after')).toBe('60');
    await expectError(limited!, 429, 'ERR_RATE_LIMITED');
    // Another principal is not affected.
    const other = await sign({ sub: `rate-${crypto.randomUUID()}`, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256');
    expect((await api('/api/uploads', createInit({ authorization: `Bearer ${other}` }))).status).toBe(201);
  });

  it('limits part requests per client IP', async () => {
    const upload = await createUpload({ name: 'r.pdf', size: 10, type: 'application/pdf' });
    const limiter = env.PART_LIMIT!;
    const ip = `198.51.100.${Math.floor(Math.random() * 200)}`;
    // Use up this IP's budget directly through the binding, then send a real part.
    for (let i = 0; i < 200; i++) if (!(await limiter.limit({ key: `part:ip:${ip}` })).success) break;
    const res = await api(`/api/uploads/${upload.id}/parts/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-length': '10', 'cf-connecting-ip': ip },
      body: new Uint8Array(10),
    });
    expect(res.headers.get('retry-after')).toBe('10');
    await expectError(res, 429, 'ERR_RATE_LIMITED');
  });
});
