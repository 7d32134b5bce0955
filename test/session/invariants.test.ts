/**
 * The session-side invariants of the security review (issue 11), each on every protocol path it
 * applies to: bytes accepted ≤ bytes declared ≤ limits; every quota consulted whenever a size
 * becomes known; cancellation accepted in every non-final state; nothing stored outlives its
 * upload; reads never create state; the events hub does not amplify.
 */
import { env } from 'cloudflare:workers';
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import type { Env } from '../../src/env';
import { api, createUpload, deployment, expectError, getManifest, MiB, partOf, pdfBytes, putPart, waitForState, type CreatedUpload } from '../helpers';

const GiB = 1024 * MiB;
const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));
const ledgerOf = (owner: string) => env.OWNER_LEDGER.get(env.OWNER_LEDGER.idFromName(owner));
const bearer = async (sub: string) => ({ authorization: `Bearer ${await sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256')}` });
const tus = { 'Tus-Resumable': '1.0.0' };
const b64 = (s: string) => btoa(s);

/** Every object in the bucket that belongs to upload `id` (original, staging, derivatives are keyed by content, checked separately). */
async function objectsOf(id: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const listing = await env.BUCKET.list({ cursor });
    keys.push(...listing.objects.map((o) => o.key).filter((k) => k.endsWith(`/${id}`)));
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return keys;
}

async function tusCreate(headers: Record<string, string>, fetcher: (p: string, i?: RequestInit) => Promise<Response> | Response = api): Promise<{ path: string; id: string }> {
  const res = await fetcher('/files/', { method: 'POST', headers: { ...tus, 'Upload-Metadata': `filetype ${b64('application/pdf')},filename ${b64('a.pdf')}`, ...headers } });
  expect(res.status, await res.clone().text()).toBe(201);
  const location = new URL(res.headers.get('location')!);
  return { path: location.pathname + location.search, id: location.pathname.split('/').pop()! };
}

const tusPatch = (path: string, offset: number, body: Uint8Array, headers: Record<string, string> = {}) =>
  api(path, { method: 'PATCH', headers: { ...tus, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers }, body });

describe('bytes accepted ≤ bytes declared ≤ limits', () => {
  it('direct-to-R2: a part larger than planned never becomes ready and leaves nothing in R2', async () => {
    const file = pdfBytes(5 * MiB + 100, 301);
    const upload = await createUpload({ name: 'd.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    expect((await putPart(upload, 1, partOf(file, upload, 1))).status).toBe(200);
    // The attacker PUTs 5 MiB into part 2 (planned as 100 B) through a URL that did not bind the
    // length, then reports R2's ETag. R2 itself accepts it (the last part may equal the others).
    const presign = await api(`/api/uploads/${upload.id}/parts/2/presign`, { method: 'POST', headers: { authorization: `Bearer ${upload.uploadToken}` } });
    expect(presign.status).toBe(200);
    const r2UploadId = await runInDurableObject(stubOf(upload.id), (_i, s) => s.storage.sql.exec<{ r: string }>('SELECT r2_upload_id AS r FROM upload').one().r);
    const oversized = await env.BUCKET.resumeMultipartUpload(upload.key, r2UploadId).uploadPart(2, pdfBytes(5 * MiB, 302));
    const report = await api(`/api/uploads/${upload.id}/parts/2/etag`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ etag: oversized.etag }),
    });
    if (report.status === 200) {
      const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
      expect(manifest.state).not.toBe('ready');
      expect(manifest.reason).toMatch(/ERR_SIZE_MISMATCH/);
    } else {
      await expectError(report, 400, 'ERR_PART_SIZE');
    }
    await expect.poll(() => objectsOf(upload.id), { timeout: 10_000 }).toEqual([]);
  });

  it('direct-to-R2: the presigned URL binds the planned length', async () => {
    const upload = await createUpload({ name: 'd.pdf', size: 5 * MiB + 100, type: 'application/pdf', partSize: 5 * MiB });
    const res = await api(`/api/uploads/${upload.id}/parts/2/presign`, { method: 'POST', headers: { authorization: `Bearer ${upload.uploadToken}` } });
    const { url } = (await res.json()) as { url: string };
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-length');
  });

  it('uploads of unknown size cannot accept more bytes than MAX_FILE_SIZE (tus deferred length)', async () => {
    const small = deployment({ MAX_FILE_SIZE: String(6 * MiB) } as Partial<Env>);
    const { path } = await tusCreate({ 'Upload-Defer-Length': '1' }, small);
    expect((await tusPatch(path, 0, pdfBytes(5 * MiB, 303))).status).toBe(204);
    const res = await tusPatch(path, 5 * MiB, pdfBytes(5 * MiB, 304));
    expect(res.status).toBe(413);
  });
});

describe('every quota is consulted whenever a size becomes known', () => {
  it('the documented default quota is 100 GiB', () => {
    expect(loadConfig({} as Env).quotas.maxStoredBytes).toBe(100 * GiB);
  });

  it('tus: declaring the size later is checked against the storage quota', async () => {
    const quota = deployment({ QUOTA_MAX_STORED_BYTES: String(8 * MiB) } as Partial<Env>);
    const { path } = await tusCreate({ 'Upload-Defer-Length': '1', ...(await bearer('quota-tus')) }, quota);
    const res = await tusPatch(path, 0, pdfBytes(1000, 305), { 'Upload-Length': String(20 * MiB) });
    await expectError(res, 403, 'ERR_QUOTA_STORAGE');
  });

  it('S3 multipart: bytes past the storage quota are refused as they arrive', async () => {
    const quota = deployment({ QUOTA_MAX_STORED_BYTES: String(8 * MiB) } as Partial<Env>);
    const created = await quota('/s3/multipart', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer('quota-s3')) },
      body: JSON.stringify({ filename: 'q.pdf', type: 'application/pdf', metadata: {} }),
    });
    const up = (await created.json()) as { uploadId: string; key: string };
    const enc = encodeURIComponent;
    const statuses: number[] = [];
    for (const n of [1, 2]) {
      const signed = await quota(`/s3/multipart/${enc(up.uploadId)}/${n}?key=${enc(up.key)}`);
      const { url } = (await signed.json()) as { url: string };
      const put = await quota(url, { method: 'PUT', headers: { 'content-length': String(5 * MiB) }, body: pdfBytes(5 * MiB, 306 + n) });
      statuses.push(put.status);
      if (put.status !== 200) expect(((await put.json()) as { error: { code: string } }).error.code).toBe('ERR_QUOTA_STORAGE');
    }
    expect(statuses).toEqual([200, 403]);
  });

  it('form POST: a file past the storage quota is refused and keeps nothing', async () => {
    const quota = deployment({ QUOTA_MAX_STORED_BYTES: String(1 * MiB) } as Partial<Env>);
    const params = await quota('/s3/params?filename=f.pdf&type=application%2Fpdf', { headers: await bearer('quota-form') });
    const p = (await params.json()) as { url: string; fields: Record<string, string> };
    const form = new FormData();
    for (const [k, v] of Object.entries(p.fields)) form.set(k, v);
    form.set('file', new File([pdfBytes(2 * MiB, 309)], 'f.pdf', { type: 'application/pdf' }));
    const res = await quota(new URL(p.url).pathname, { method: 'POST', body: form });
    await expectError(res, 403, 'ERR_QUOTA_STORAGE');
    await expect.poll(() => objectsOf(p.fields.key!)).toEqual([]);
  });
});

describe('cancellation is accepted in every non-final state', () => {
  it('native: DELETE right after the last part (assembling/validating/processing) → 200, and nothing stays stored', async () => {
    const file = pdfBytes(3000, 310);
    const upload = await createUpload({ name: 'c.pdf', size: file.length, type: 'application/pdf' });
    expect((await putPart(upload, 1, file)).status).toBe(200);
    const res = await api(`/api/uploads/${upload.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${upload.uploadToken}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe('aborted');
    await new Promise((r) => setTimeout(r, 1500)); // let a pipeline run that was already under way finish
    expect((await getManifest(upload)).state).toBe('aborted');
    expect(await objectsOf(upload.id)).toEqual([]);
    expect((await api(`/media/${upload.id}`)).status).not.toBe(200);
  });

  it('tus: DELETE while the upload is being processed → 204 (termination MUST succeed)', async () => {
    const file = pdfBytes(3000, 311);
    const { path, id } = await tusCreate({ 'Upload-Length': String(file.length) });
    expect((await tusPatch(path, 0, file)).status).toBe(204);
    const res = await api(path, { method: 'DELETE', headers: tus });
    expect(res.status).toBe(204);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await objectsOf(id)).toEqual([]);
  });

  it('tus: termination removes the staged tail', async () => {
    const { path, id } = await tusCreate({ 'Upload-Length': String(7 * MiB) });
    expect((await tusPatch(path, 0, pdfBytes(1 * MiB, 312))).status).toBe(204);
    expect((await objectsOf(id)).some((k) => k.startsWith('staging/'))).toBe(true);
    expect((await api(path, { method: 'DELETE', headers: tus })).status).toBe(204);
    expect(await objectsOf(id)).toEqual([]);
  });
});

describe('nothing stored outlives its upload', () => {
  it('tus partial uploads expire when nothing concatenates them: bytes deleted, slot released', async () => {
    const owner = 'partial-owner';
    const { path, id } = await tusCreate({ 'Upload-Length': '3000', 'Upload-Concat': 'partial', ...(await bearer(owner)) });
    expect((await tusPatch(path, 0, pdfBytes(3000, 313))).status).toBe(204);
    await expect.poll(async () => (await runInDurableObject(stubOf(id), (_i, s) => s.storage.sql.exec<{ s: string }>('SELECT state AS s FROM upload').one().s))).toBe('ready');
    const before = await ledgerOf(owner).usage();
    expect(before.activeUploads).toBe(1);
    await runInDurableObject(stubOf(id), (_i, s) => s.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() - 1));
    await runDurableObjectAlarm(stubOf(id));
    const head = await api(path, { method: 'HEAD', headers: tus });
    expect([404, 410]).toContain(head.status);
    await expect.poll(async () => (await ledgerOf(owner).usage()).activeUploads, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => objectsOf(id)).toEqual([]);
  });

  it('an upload that fails assembly keeps nothing', async () => {
    const file = pdfBytes(5 * MiB + 10, 314);
    const upload = await createUpload({ name: 'f.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 1, partOf(file, upload, 1));
    // Part 2 recorded with an ETag R2 never gave: every assembly attempt fails.
    await api(`/api/uploads/${upload.id}/parts/2/etag`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ etag: '0123456789abcdef0123456789abcdef' }),
    });
    for (let i = 0; i < 4; i++) await runDurableObjectAlarm(stubOf(upload.id));
    expect((await getManifest(upload)).state).toBe('failed');
    expect(await objectsOf(upload.id)).toEqual([]);
  });
});

describe('reads never create state', () => {
  // The emulator lists every Durable Object it instantiated, stored or not; what matters is that
  // the object wrote nothing (production keeps no storage for an object that never wrote).
  const tablesOf = (id: string) =>
    runInDurableObject(stubOf(id), (_i, s) => s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").one().n);

  it('lookups of unknown ids store nothing: media, variants, tus HEAD, manifest and events', async () => {
    const ids = ['ab'.repeat(16), 'cd'.repeat(16), 'ef'.repeat(16)];
    expect((await api(`/media/${ids[0]}`)).status).toBe(404);
    expect((await api(`/media/${ids[1]}/thumb`)).status).toBe(404);
    const upload = await createUpload({ name: 'r.pdf', size: 3000, type: 'application/pdf' });
    // A token for one upload used on another id is refused before any lookup.
    expect((await api(`/api/uploads/${ids[2]}`, { headers: { authorization: `Bearer ${upload.uploadToken}` } })).status).toBe(403);
    expect([401, 403, 404]).toContain((await api(`/files/${ids[2]}?token=${upload.uploadToken}`, { method: 'HEAD', headers: tus })).status);
    for (const id of ids) expect(await tablesOf(id)).toBe(0);
  });
});

describe('the events hub does not amplify', () => {
  async function socket(upload: CreatedUpload): Promise<Response> {
    return api(`/api/uploads/${upload.id}/events`, { headers: { upgrade: 'websocket', authorization: `Bearer ${upload.uploadToken}` } });
  }

  it('text frames get at most one snapshot per second each; subscribers per upload are bounded', async () => {
    const upload = await createUpload({ name: 'e.pdf', size: 3000, type: 'application/pdf' });
    const first = await socket(upload);
    const ws = first.webSocket!;
    ws.accept();
    const received: string[] = [];
    ws.addEventListener('message', (e) => received.push(e.data as string));
    for (let i = 0; i < 50; i++) ws.send('snapshot please');
    await new Promise((r) => setTimeout(r, 500));
    expect(received.length).toBeLessThanOrEqual(3);

    const opened: WebSocket[] = [ws];
    let refused: Response | null = null;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await socket(upload);
      if (res.status !== 101) refused = res;
      else {
        res.webSocket!.accept();
        opened.push(res.webSocket!);
      }
    }
    expect(refused).not.toBeNull();
    await expectError(refused!, 429, 'ERR_TOO_MANY_SUBSCRIBERS');
    for (const s of opened) s.close(1000, 'done');
  });
});
