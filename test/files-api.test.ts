import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../src/files/file-entry';
import { deployment, expectError, pdfBytes, readyPdf } from './helpers';
import { until } from './poll';

const API_KEY = 'files-test-api-key-0123456789abcdef0123';
const app = deployment({ API_KEYS: API_KEY });
const run = crypto.randomUUID().slice(0, 8);
const ALICE = `alice-${run}`;
const BOB = `bob-${run}`;

async function jwtFor(sub: string): Promise<string> {
  return sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256');
}

const asApp = { authorization: `Bearer ${API_KEY}` };
const as = async (sub: string) => ({ authorization: `Bearer ${await jwtFor(sub)}` });

/** Creates and sends a one-part PDF as `owner`, and waits until it is ready. */
async function readyFile(owner: string, name: string, seed: number): Promise<string> {
  return (await readyPdf(app, pdfBytes(2000 + seed, seed), { headers: await as(owner), body: { name, metadata: { seed: String(seed) } } })).id;
}

async function list(query: string, headers: Record<string, string>): Promise<{ files: FileEntry[]; nextCursor: string | null }> {
  const res = await app(`/api/files?${query}`, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe('files API', () => {
  it('lists an owner\'s files newest first, paginates with a tamper-proof cursor, and scopes creators to their own', async () => {
    const first = await readyFile(ALICE, 'first.pdf', 1);
    const second = await readyFile(ALICE, 'second.pdf', 2);
    const bobs = await readyFile(BOB, 'bob.pdf', 3);
    const alice = await as(ALICE);

    // The index is written from upload events: it catches up within moments.
    const all = await until('both of alice\'s files indexed as ready', async () => {
      const { files } = await list('', alice);
      return files.length === 2 && files.every((f) => f.state === 'ready') ? files : undefined;
    });
    expect(all.map((f) => f.id)).toEqual([second, first]);
    expect(all[0]).toMatchObject({
      owner: ALICE,
      name: 'second.pdf',
      type: 'application/pdf',
      size: 2002,
      visibility: 'public',
      metadata: { seed: '2' },
      url: `/media/${second}`,
    });
    expect(all[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // One at a time: the cursor leads to the next page and nowhere else.
    const page1 = await list('limit=1', alice);
    expect(page1.files.map((f) => f.id)).toEqual([second]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await list(`limit=1&cursor=${encodeURIComponent(page1.nextCursor!)}`, alice);
    expect(page2.files.map((f) => f.id)).toEqual([first]);
    expect(page2.nextCursor).toBeNull();

    // An altered cursor, or one used with other filters, is refused.
    const [body, sig] = page1.nextCursor!.split('.');
    const forged = btoa(atob(body!.replace(/-/g, '+').replace(/_/g, '/')).replace(second, bobs)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    await expectError(await app(`/api/files?limit=1&cursor=${forged}.${sig}`, { headers: alice }), 400, 'ERR_CURSOR_INVALID');
    await expectError(await app(`/api/files?limit=1&state=ready&cursor=${page1.nextCursor}`, { headers: alice }), 400, 'ERR_CURSOR_INVALID');

    // Filters.
    expect((await list('type=application/*', alice)).files).toHaveLength(2);
    expect((await list('type=image/*', alice)).files).toHaveLength(0);
    expect((await list('state=failed,rejected', alice)).files).toHaveLength(0);

    // A creator sees only its own; the app's backend sees any owner's.
    await expectError(await app(`/api/files?owner=${BOB}`, { headers: alice }), 403, 'ERR_OWNER_SCOPE');
    await expectError(await app(`/api/files/${bobs}`, { headers: alice }), 404, 'ERR_UPLOAD_NOT_FOUND');
    expect((await list(`owner=${BOB}`, asApp)).files.map((f) => f.id)).toEqual([bobs]);
    const everyone = await list('limit=100', asApp);
    expect(everyone.files.map((f) => f.id)).toEqual(expect.arrayContaining([first, second, bobs]));
  });

  it('changes name, metadata and visibility, and deletes; the list follows', async () => {
    const id = await readyFile(ALICE, 'old.pdf', 4);
    const alice = await as(ALICE);
    const patched = await app(`/api/files/${id}`, {
      method: 'PATCH',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '../new name.pdf', metadata: { album: 'trip' }, visibility: 'private' }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const entry = await patched.json<FileEntry>();
    expect(entry).toMatchObject({ id, name: 'new name.pdf', metadata: { album: 'trip' }, visibility: 'private', state: 'ready' });
    // A private file has no public URL.
    expect(entry.url).toBeUndefined();
    await until('the index shows the change', async () => {
      const found = (await list('', alice)).files.find((f) => f.id === id);
      return found?.name === 'new name.pdf' && found.visibility === 'private' ? found : undefined;
    });

    await expectError(
      await app(`/api/files/${id}`, { method: 'PATCH', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'x' }) }),
      400,
      'ERR_VALIDATION',
    );
    await expectError(await app(`/api/files/${id}`, { method: 'DELETE', headers: await as(BOB) }), 404, 'ERR_UPLOAD_NOT_FOUND');

    const deleted = await app(`/api/files/${id}`, { method: 'DELETE', headers: alice });
    expect(await deleted.json()).toEqual({ id, state: 'aborted' });
    await until('the list drops it', async () => ((await list('', alice)).files.some((f) => f.id === id) ? undefined : true));
    expect((await list('state=aborted', alice)).files.map((f) => f.id)).toContain(id);
    await expectError(await app(`/media/${id}`), 410, 'ERR_UPLOAD_GONE');
  });
});
