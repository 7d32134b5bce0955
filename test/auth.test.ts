import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { expectError, deployment } from './helpers';


const createBody = (headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ name: 'a.pdf', size: 10, type: 'application/pdf' }),
});

describe('who may create uploads', () => {
  const production = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });

  it('a deployment without secrets refuses with a clear error', async () => {
    const bare = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: undefined, AUTH_JWT_SECRET: undefined, UPLOAD_TOKEN_KEYS: undefined });
    expect((await expectError(await bare('/api/uploads', createBody()), 503, 'ERR_NOT_CONFIGURED')).message).toMatch(/AUTH_JWT_SECRET/);
    const noKeys = deployment({ UPLOAD_TOKEN_KEYS: undefined });
    expect((await expectError(await noKeys('/api/uploads', createBody()), 503, 'ERR_NOT_CONFIGURED')).message).toMatch(/UPLOAD_TOKEN_KEYS/);
    const noJwt = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: undefined, AUTH_JWT_SECRET: undefined });
    expect((await expectError(await noJwt('/api/uploads', createBody()), 503, 'ERR_NOT_CONFIGURED')).message).toMatch(/AUTH_JWT_SECRET/);
  });

  it('without dev mode, anonymous callers need a bearer JWT', async () => {
    await expectError(await production('/api/uploads', createBody()), 401, 'ERR_UNAUTHORIZED');
  });

  it('a valid HS256 JWT names the owner, and the key is built from it', async () => {
    const jwt = await sign({ sub: 'alice@example.com', exp: Math.floor(Date.now() / 1000) + 60 }, env.AUTH_JWT_SECRET!, 'HS256');
    const res = await production('/api/uploads', createBody({ authorization: `Bearer ${jwt}` }));
    expect(res.status).toBe(201);
    const body = await res.json<{ id: string; key: string }>();
    // "@" is not kept in keys: the owner becomes a hash segment.
    expect(body.key).toMatch(new RegExp(`^originals/h-[0-9a-f]{32}/${body.id}$`));
  });

  it.each([
    ['signed with another secret', async () => sign({ sub: 'bob', exp: Math.floor(Date.now() / 1000) + 60 }, 'another-secret', 'HS256')],
    ['expired', async () => sign({ sub: 'bob', exp: Math.floor(Date.now() / 1000) - 10 }, env.AUTH_JWT_SECRET!, 'HS256')],
    ['without sub', async () => sign({ exp: Math.floor(Date.now() / 1000) + 60 }, env.AUTH_JWT_SECRET!, 'HS256')],
  ])('refuses a JWT %s', async (_name, make) => {
    await expectError(await production('/api/uploads', createBody({ authorization: `Bearer ${await make()}` })), 401, 'ERR_UNAUTHORIZED');
  });

  it('malformed configuration is reported, not ignored', async () => {
    const bad = deployment({ UPLOAD_TOKEN_KEYS: 'k1:short' });
    expect((await expectError(await bad('/api/uploads', createBody()), 503, 'ERR_NOT_CONFIGURED')).message).toMatch(/shorter than 32/);
  });
});
