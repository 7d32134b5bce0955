/**
 * Bring your own identity provider, under `wrangler dev`: creator JWTs signed with RS256, ES256 and
 * EdDSA keys published by a real local JWKS endpoint; issuer and audience checked; keys cached,
 * fetched again for an unknown kid; while the endpoint is down, known keys keep working and
 * unknown ones fail closed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { useDevServer } from '../e2e/use-dev-server';
import { makeKey, signWith, startJwksServer } from './jwks-server';

const ISS = 'https://idp.example';
const AUD = 'uploads';
const [rsa, ec, ed, later, never] = await Promise.all([
  makeKey('rsa-1', 'RS256'),
  makeKey('ec-1', 'ES256'),
  makeKey('ed-1', 'EdDSA'),
  makeKey('rsa-2', 'RS256'),
  makeKey('rogue', 'ES256'),
]);
const jwks = await startJwksServer([rsa, ec, ed]);
afterAll(() => jwks.close());

const server = useDevServer({
  vars: {
    AUTH_JWKS_URL: jwks.url,
    AUTH_ISSUER: ISS,
    AUTH_AUDIENCE: AUD,
    // Seconds, so the test can see a stale cache and a second fetch.
    AUTH_JWKS_CACHE_SECONDS: '5',
    AUTH_JWKS_COOLDOWN_SECONDS: '1',
    DEV_ALLOW_ANONYMOUS_UPLOADS: 'false',
  },
});

async function create(token: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${server().url}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'a.pdf', size: 100, type: 'application/pdf' }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

const claims = (sub: string) => ({ iss: ISS, aud: AUD, sub });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('creator JWTs from a JWKS', () => {
  it('fails closed while the key endpoint is down and nothing is cached yet', async () => {
    jwks.setDown(true);
    expect(await create(await signWith(rsa, {}, claims('dana')))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    jwks.setDown(false);
  });

  it('accepts RS256, ES256 and EdDSA with the right issuer and audience, fetching the keys once', async () => {
    await sleep(1100); // past the cooldown after the failed fetch
    const before = jwks.fetches();
    for (const key of [rsa, ec, ed]) expect(await create(await signWith(key, {}, claims(`user-${key.alg}`)))).toEqual({ status: 201, code: undefined });
    expect(jwks.fetches() - before).toBe(1);
    // The shared-secret HS256 tokens keep working beside them (dev.env's AUTH_JWT_SECRET).
    const { SignJWT } = await import('jose');
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('erin').setExpirationTime('5m')
      .sign(new TextEncoder().encode('development-only-jwt-secret-do-not-deploy'));
    expect((await create(hs)).status).toBe(201);
  });

  it('refuses another issuer or audience, an expired token, and an algorithm it does not take', async () => {
    expect(await create(await signWith(rsa, {}, { ...claims('f'), iss: 'https://evil.example' }))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    expect(await create(await signWith(rsa, {}, { ...claims('f'), aud: 'other-app' }))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    expect(await create(await signWith(ec, {}, { ...claims('f'), exp: Math.floor(Date.now() / 1000) - 60 }))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    const [header, payload] = (await signWith(rsa, {}, claims('f'))).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'rsa-1' })).toString('base64url')}.${payload}.`;
    expect(await create(none)).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    expect(header).toBeTruthy();
  });

  it('fetches again for an unknown kid (a rotated key), and refuses keys the provider never published', async () => {
    await sleep(1100);
    expect(await create(await signWith(never, {}, claims('g')))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    jwks.publish(later);
    await sleep(1100);
    const before = jwks.fetches();
    expect((await create(await signWith(later, {}, claims('g')))).status).toBe(201);
    expect(jwks.fetches() - before).toBe(1);
  });

  it('while the endpoint is down, cached keys keep working and unknown keys fail closed', async () => {
    jwks.setDown(true);
    await sleep(5200); // the cached set is stale now: a refresh is attempted and fails
    const before = jwks.fetches();
    expect((await create(await signWith(ec, {}, claims('h')))).status).toBe(201);
    expect(jwks.fetches()).toBeGreaterThan(before);
    await sleep(1100);
    expect(await create(await signWith(never, {}, claims('h')))).toEqual({ status: 401, code: 'ERR_UNAUTHORIZED' });
    jwks.setDown(false);
  });
});
