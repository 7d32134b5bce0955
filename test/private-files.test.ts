import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { KeyRing } from '../src/domain/capability';
import { signMediaPath } from '../src/domain/media-signature';
import type { Env } from '../src/env';
import { deployment, expectError, pdfBytes, readyPdf, sha256Hex } from './helpers';

const API_KEY = 'private-test-api-key-0123456789abcdef0123';
const NEW_KEY = 'media-2:a-newer-media-url-key-for-rotation-tests-0123';
const app = deployment({ API_KEYS: API_KEY });
const owner = `carol-${crypto.randomUUID().slice(0, 8)}`;

async function creator(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await sign({ sub: owner, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256')}` };
}

async function readyFile(fetcher: typeof app, body: Record<string, unknown>, bytes: Uint8Array): Promise<string> {
  return (await readyPdf(fetcher, bytes, { headers: await creator(), body: { name: 'secret.pdf', ...body } })).id;
}

async function signedUrl(fetcher: typeof app, id: string, body: Record<string, unknown> = {}): Promise<{ url: string; expiresAt: string }> {
  const res = await fetcher(`/api/files/${id}/url`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await creator()) }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

const pathOf = (url: string) => { const u = new URL(url); return u.pathname + u.search; };

describe('private files', () => {
  it('are served only through a valid, unexpired signed URL, never cached past its expiry', async () => {
    const bytes = pdfBytes(4000, 31);
    const id = await readyFile(app, { visibility: 'private' }, bytes);
    await expectError(await app(`/media/${id}`), 403, 'ERR_MEDIA_PRIVATE');

    const { url, expiresAt } = await signedUrl(app, id, { expiresIn: 600 });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const res = await app(pathOf(url));
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe(await sha256Hex(bytes));
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(600);

    // Altered, moved to another file or variant, or expired: refused.
    const u = new URL(url);
    const tampered = new URL(url);
    tampered.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 3600));
    await expectError(await app(pathOf(tampered.toString())), 403, 'ERR_MEDIA_SIGNATURE_INVALID');
    const other = await readyFile(app, { visibility: 'private' }, pdfBytes(3000, 32));
    await expectError(await app(`/media/${other}${u.search}`), 403, 'ERR_MEDIA_SIGNATURE_INVALID');
    const ring = KeyRing.parse(env.MEDIA_URL_KEYS!);
    const past = await signMediaPath(ring, `/media/${id}`, Math.floor(Date.now() / 1000) - 1);
    await expectError(await app(`/media/${id}?${past}`), 403, 'ERR_MEDIA_SIGNATURE_EXPIRED');

    // Public files work as before, without any signature.
    const open = await readyFile(app, {}, pdfBytes(3000, 33));
    expect((await app(`/media/${open}`)).status).toBe(200);
  });

  it('signing keys rotate: a new key signs, URLs of the old one work while it is still listed', async () => {
    const id = await readyFile(app, { visibility: 'private' }, pdfBytes(3000, 34));
    const old = await signedUrl(app, id);
    const rotated = deployment({ API_KEYS: API_KEY, MEDIA_URL_KEYS: `${NEW_KEY},${env.MEDIA_URL_KEYS}` });
    const fresh = await signedUrl(rotated, id);
    expect(new URL(fresh.url).searchParams.get('kid')).toBe('media-2');
    expect((await rotated(pathOf(fresh.url))).status).toBe(200);
    expect((await rotated(pathOf(old.url))).status).toBe(200);
    const retired = deployment({ MEDIA_URL_KEYS: NEW_KEY });
    await expectError(await retired(pathOf(old.url)), 403, 'ERR_MEDIA_SIGNATURE_INVALID');
    await expectError(await deployment({ MEDIA_URL_KEYS: undefined })(pathOf(fresh.url)), 503, 'ERR_NOT_CONFIGURED');
  });

  it('DEFAULT_VISIBILITY=private makes uploads private unless they choose', async () => {
    const privateByDefault = deployment({ API_KEYS: API_KEY, DEFAULT_VISIBILITY: 'private' } as Partial<Env>);
    const id = await readyFile(privateByDefault, {}, pdfBytes(3000, 35));
    await expectError(await app(`/media/${id}`), 403, 'ERR_MEDIA_PRIVATE');
    const chosen = await readyFile(privateByDefault, { visibility: 'public' }, pdfBytes(3000, 36));
    expect((await app(`/media/${chosen}`)).status).toBe(200);
  });
});
