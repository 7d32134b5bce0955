import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { PART_BATCH } from '../src/api/rate-limit';
import { api, createUpload, expectError, deployment, putPart } from './helpers';

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

  // ---- issue 17 item 3: PART_LIMIT is asked once per batch of a client's part requests --------

  const PART_WINDOW_MS = 10_000;
  const freshIp = () => `203.0.113.${Math.floor(Math.random() * 250)}-${crypto.randomUUID().slice(0, 8)}`;
  /** Spends the IP's whole PART_LIMIT budget for this window straight through the binding. */
  async function spendPartBudget(ip: string): Promise<void> {
    for (let i = 0; i < 1000; i++) if (!(await env.PART_LIMIT!.limit({ key: `part:ip:${ip}` })).success) return;
    throw new Error('the part limiter never refused');
  }
  /**
   * Runs a scenario that spends a budget inside one of the limiter's fixed 10 s windows. Should the
   * window roll over before it ends (the limiter then forgets what was spent), it runs once more.
   */
  async function inOneWindow(scenario: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const window = Math.floor(Date.now() / PART_WINDOW_MS);
      try {
        return await scenario();
      } catch (error) {
        if (attempt >= 3 || Math.floor(Date.now() / PART_WINDOW_MS) === window) throw error;
      }
    }
  }

  const tusCreate = async (headers: Record<string, string>) => {
    const res = await api('/files/', { method: 'POST', headers: { 'Upload-Length': '10', 'Upload-Metadata': `filetype ${btoa('application/pdf')}`, ...headers } });
    expect(res.status, await res.clone().text()).toBe(201);
    const location = new URL(res.headers.get('location')!);
    return location.pathname + location.search;
  };
  const s3Create = async (site: (path: string, init?: RequestInit) => Promise<Response> | Response) => {
    const res = await site('/s3/multipart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'a.pdf', type: 'application/pdf' }) });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { key: string; uploadId: string };
  };
  const s3Direct = deployment({ S3_DIRECT_PARTS: 'true', R2_S3_ENDPOINT: 'https://account.r2.test' });
  /** Every request that writes (or lets a client write) part-sized bytes and is counted by PART_LIMIT, from client `ip`. */
  const partPaths: Record<string, () => Promise<(ip: string) => Promise<Response> | Response>> = {
    'native part PUT': async () => {
      const upload = await createUpload({ name: 'r.pdf', size: 10, type: 'application/pdf' });
      return (ip) => putPart(upload, 1, new Uint8Array(10), { 'cf-connecting-ip': ip });
    },
    'direct-to-R2 presign (one part)': async () => {
      const upload = await createUpload({ name: 'r.pdf', size: 10, type: 'application/pdf' });
      return (ip) => api(`/api/uploads/${upload.id}/parts/1/presign`, { method: 'POST', headers: { authorization: `Bearer ${upload.uploadToken}`, 'cf-connecting-ip': ip } });
    },
    'direct-to-R2 presign (a range)': async () => {
      const upload = await createUpload({ name: 'r.pdf', size: 10, type: 'application/pdf' });
      return (ip) => api(`/api/uploads/${upload.id}/parts/presign?parts=1-1`, { method: 'POST', headers: { authorization: `Bearer ${upload.uploadToken}`, 'cf-connecting-ip': ip } });
    },
    'tus PATCH': async () => {
      const path = await tusCreate({ 'Tus-Resumable': '1.0.0' });
      const headers = { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' };
      return (ip) => api(path, { method: 'PATCH', headers: { ...headers, 'cf-connecting-ip': ip }, body: new Uint8Array(10) });
    },
    'IETF draft append': async () => {
      const path = await tusCreate({ 'Upload-Draft-Interop-Version': '8', 'Upload-Complete': '?0', 'Content-Type': 'application/pdf', 'Content-Length': '0' });
      const headers = { 'Upload-Draft-Interop-Version': '8', 'Upload-Complete': '?1', 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload' };
      return (ip) => api(path, { method: 'PATCH', headers: { ...headers, 'cf-connecting-ip': ip }, body: new Uint8Array(10) });
    },
    'S3 multipart part (through the part route)': async () => {
      const up = await s3Create(api);
      const signed = await api(`/s3/multipart/${encodeURIComponent(up.uploadId)}/1?key=${up.key}`);
      const { url } = (await signed.json()) as { url: string };
      return (ip) => api(url, { method: 'PUT', headers: { 'content-length': '10', 'cf-connecting-ip': ip }, body: new Uint8Array(10) });
    },
    'S3 multipart signPart (direct mode)': async () => {
      const up = await s3Create(s3Direct);
      return (ip) => s3Direct(`/s3/multipart/${encodeURIComponent(up.uploadId)}/1?key=${up.key}`, { headers: { 'cf-connecting-ip': ip } });
    },
  };

  it('every part-sized write path answers 429 ERR_RATE_LIMITED once the client has spent its part budget', async () => {
    for (const [path, prepare] of Object.entries(partPaths)) {
      await inOneWindow(async () => {
        const send = await prepare();
        const ip = freshIp();
        await spendPartBudget(ip);
        const res = await send(ip);
        expect(res.headers.get('retry-after'), path).toBe('10');
        await expectError(res, 429, 'ERR_RATE_LIMITED').catch((error: Error) => {
          throw new Error(`${path}: ${error.message}`);
        });
      });
    }
  });

  it(`a client gets at most PART_BATCH − 1 (${PART_BATCH - 1}) part requests past a spent budget, on any path, then 429`, async () => {
    await inOneWindow(async () => {
      const senders = await Promise.all(Object.values(partPaths).map((prepare) => prepare()));
      const ip = freshIp();
      // The first request asks the limiter: one unit, which pays for PART_BATCH requests of this client.
      expect((await senders[0]!(ip)).status).toBe(200);
      await spendPartBudget(ip);
      // What that unit paid for is all the client gets, whichever path it takes.
      const statuses: number[] = [];
      for (let i = 0; i < PART_BATCH + 2; i++) statuses.push((await senders[i % senders.length]!(ip)).status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(3);
      expect(statuses.slice(PART_BATCH - 1).every((s) => s === 429)).toBe(true);
      expect(statuses.slice(0, PART_BATCH - 1).every((s) => s !== 429)).toBe(true);
    });
  });
});
