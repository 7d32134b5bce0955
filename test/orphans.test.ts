/**
 * Nothing stored outlives its upload: one owner runs a mixed set of uploads through every ending
 * (ready, deduplicated and then deleted, rejected, size mismatch, failed assembly, cancelled while
 * sending, cancelled while processing, expired, tus partial expired, tus terminated with a staged
 * tail, S3 multipart aborted, import-free form refused past the quota), then the bucket is listed:
 * every object under the owner's prefixes belongs to a ready upload (its original or its content's
 * derivatives), and nothing else is there.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Env } from '../src/env';
import { derivedPrefix, ownerSegment } from '../src/storage/object-keys';
import { gradientPng } from './media-fixtures';
import { api, deployment, MiB, partOf, pdfBytes, type CreatedUpload } from './helpers';

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));
const owner = `orphan-audit-${crypto.randomUUID()}`;
const tus = { 'Tus-Resumable': '1.0.0' };
const b64 = (s: string) => btoa(s);

async function jwt(): Promise<Record<string, string>> {
  const token = await new SignJWT({ sub: owner }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(env.AUTH_JWT_SECRET!));
  return { authorization: `Bearer ${token}` };
}

async function create(body: Record<string, unknown>): Promise<CreatedUpload> {
  const res = await api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json', ...(await jwt()) }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

const put = (u: CreatedUpload, n: number, body: Uint8Array) =>
  api(`/api/uploads/${u.id}/parts/${n}`, { method: 'PUT', headers: { authorization: `Bearer ${u.uploadToken}`, 'content-length': String(body.length) }, body });
const del = (u: CreatedUpload) => api(`/api/uploads/${u.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${u.uploadToken}` } });

async function stateOf(id: string): Promise<string> {
  return runInDurableObject(stubOf(id), (_i, s) => s.storage.sql.exec<{ s: string }>('SELECT state AS s FROM upload').one().s);
}

async function settled(id: string, states: string[]): Promise<void> {
  await expect.poll(() => stateOf(id), { timeout: 20_000, interval: 50 }).toSatisfy((s: string) => states.includes(s));
}

async function tusCreate(headers: Record<string, string>): Promise<{ path: string; id: string }> {
  const res = await api('/files/', { method: 'POST', headers: { ...tus, ...(await jwt()), 'Upload-Metadata': `filetype ${b64('application/pdf')},filename ${b64('t.pdf')}`, ...headers } });
  expect(res.status, await res.clone().text()).toBe(201);
  const location = new URL(res.headers.get('location')!);
  return { path: location.pathname + location.search, id: location.pathname.split('/').pop()! };
}
const tusPatch = (path: string, offset: number, body: Uint8Array, headers: Record<string, string> = {}) =>
  api(path, { method: 'PATCH', headers: { ...tus, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers }, body });

/** Every object key under this owner's prefixes, plus slice-state objects of the given uploads. */
async function ownersObjects(segment: string, ids: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of [`originals/${segment}/`, `derived/${segment}/`, `staging/${segment}/`, 'staging/processing/']) {
    let cursor: string | undefined;
    do {
      const listing = await env.BUCKET.list({ prefix, cursor });
      keys.push(...listing.objects.map((o) => o.key).filter((k) => !k.startsWith('staging/processing/') || ids.some((id) => k.includes(id))));
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor);
  }
  return keys.sort();
}

describe('nothing stored outlives its upload', () => {
  it('after a mixed run through every ending, the bucket holds only what ready uploads serve', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    const track = <T extends { id: string }>(u: T) => (ids.push(u.id), u);

    // Ready: a PDF, and the same image twice (deduplicated), the first of which is then deleted.
    const pdf = pdfBytes(3000, 901);
    const readyPdf = track(await create({ name: 'r.pdf', size: pdf.length, type: 'application/pdf' }));
    expect((await put(readyPdf, 1, pdf)).status).toBe(200);
    const png = await gradientPng(301, 177);
    const first = track(await create({ name: 'a.png', size: png.length, type: 'image/png' }));
    expect((await put(first, 1, png)).status).toBe(200);
    await settled(first.id, ['ready']);
    const second = track(await create({ name: 'b.png', size: png.length, type: 'image/png' }));
    expect((await put(second, 1, png)).status).toBe(200);
    await settled(second.id, ['ready']);
    expect((await del(first)).status).toBe(200);

    // Rejected: declared a PDF, the bytes are a PNG.
    const mismatch = track(await create({ name: 'x.pdf', size: png.length, type: 'application/pdf' }));
    expect((await put(mismatch, 1, png)).status).toBe(200);

    // Rejected: a direct-to-R2 part larger than planned (the parts add up to more than declared).
    const big = pdfBytes(5 * MiB + 100, 902);
    const oversize = track(await create({ name: 'o.pdf', size: big.length, type: 'application/pdf', partSize: 5 * MiB }));
    expect((await put(oversize, 1, partOf(big, oversize, 1))).status).toBe(200);
    const r2UploadId = await runInDurableObject(stubOf(oversize.id), (_i, s) => s.storage.sql.exec<{ r: string }>('SELECT r2_upload_id AS r FROM upload').one().r);
    const sneaked = await env.BUCKET.resumeMultipartUpload(oversize.key, r2UploadId).uploadPart(2, pdfBytes(5 * MiB, 903));
    expect(
      (await api(`/api/uploads/${oversize.id}/parts/2/etag`, { method: 'PUT', headers: { authorization: `Bearer ${oversize.uploadToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ etag: sneaked.etag }) })).status,
    ).toBe(200);

    // Failed: assembly with an ETag R2 never gave.
    const broken = track(await create({ name: 'f.pdf', size: big.length, type: 'application/pdf', partSize: 5 * MiB }));
    expect((await put(broken, 1, partOf(big, broken, 1))).status).toBe(200);
    await api(`/api/uploads/${broken.id}/parts/2/etag`, { method: 'PUT', headers: { authorization: `Bearer ${broken.uploadToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ etag: 'f'.repeat(32) }) });
    for (let i = 0; i < 4; i++) await runDurableObjectAlarm(stubOf(broken.id));

    // Cancelled while sending, and right after the last part (while assembling or processing).
    const halfway = track(await create({ name: 'h.pdf', size: big.length, type: 'application/pdf', partSize: 5 * MiB }));
    expect((await put(halfway, 1, partOf(big, halfway, 1))).status).toBe(200);
    expect((await del(halfway)).status).toBe(200);
    const late = track(await create({ name: 'l.png', size: (await gradientPng(302, 178)).length, type: 'image/png' }));
    expect((await put(late, 1, await gradientPng(302, 178))).status).toBe(200);
    expect((await del(late)).status).toBe(200);

    // Expired with a part sent.
    const idle = track(await create({ name: 'i.pdf', size: big.length, type: 'application/pdf', partSize: 5 * MiB }));
    expect((await put(idle, 1, partOf(big, idle, 1))).status).toBe(200);
    await runInDurableObject(stubOf(idle.id), (_i, s) => s.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() - 1));
    await runDurableObjectAlarm(stubOf(idle.id));

    // tus: a partial upload nobody concatenates (expired), and a termination with a staged tail.
    const partial = track(await tusCreate({ 'Upload-Length': '3000', 'Upload-Concat': 'partial' }));
    expect((await tusPatch(partial.path, 0, pdfBytes(3000, 904))).status).toBe(204);
    await settled(partial.id, ['ready']);
    await runInDurableObject(stubOf(partial.id), (_i, s) => s.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() - 1));
    await runDurableObjectAlarm(stubOf(partial.id));
    const terminated = track(await tusCreate({ 'Upload-Length': String(7 * MiB) }));
    expect((await tusPatch(terminated.path, 0, pdfBytes(MiB, 905))).status).toBe(204);
    expect((await api(terminated.path, { method: 'DELETE', headers: tus })).status).toBe(204);

    // S3 multipart (Uppy): a part sent, then aborted.
    const s3 = await api('/s3/multipart', { method: 'POST', headers: { 'content-type': 'application/json', ...(await jwt()) }, body: JSON.stringify({ filename: 's.pdf', type: 'application/pdf', metadata: {} }) });
    expect(s3.status, await s3.clone().text()).toBe(200);
    const up = (await s3.json()) as { uploadId: string; key: string };
    ids.push(up.key);
    const signed = (await (await api(`/s3/multipart/${encodeURIComponent(up.uploadId)}/1?key=${up.key}`)).json()) as { url: string };
    expect((await api(signed.url, { method: 'PUT', headers: { 'content-length': String(5 * MiB) }, body: partOf(big, { partSize: 5 * MiB }, 1) })).status).toBe(200);
    expect((await api(`/s3/multipart/${encodeURIComponent(up.uploadId)}?key=${up.key}`, { method: 'DELETE' })).status).toBeLessThan(300);

    // Form POST past the storage quota: refused, nothing kept.
    const ledger = env.OWNER_LEDGER.get(env.OWNER_LEDGER.idFromName(owner));
    const small = deployment({ QUOTA_MAX_STORED_BYTES: String((await ledger.usage()).usedBytes + 2 * MiB) } as Partial<Env>);
    const asked = await small('/s3/params?filename=q.pdf&type=application%2Fpdf', { headers: await jwt() });
    expect(asked.status, await asked.clone().text()).toBe(200);
    const params = (await asked.json()) as { url: string; fields: Record<string, string> };
    ids.push(params.fields.key!);
    const form = new FormData();
    for (const [k, v] of Object.entries(params.fields)) form.set(k, v);
    form.set('file', new File([pdfBytes(3 * MiB, 906)], 'q.pdf', { type: 'application/pdf' }));
    expect((await small(new URL(params.url).pathname, { method: 'POST', body: form })).status).toBe(403);

    // Everything settles: the pipeline, the cleanup queue, the cancelled processing run.
    const ends: Record<string, string[]> = {
      [readyPdf.id]: ['ready'],
      [second.id]: ['ready'],
      [first.id]: ['aborted'],
      [mismatch.id]: ['rejected'],
      [oversize.id]: ['rejected'],
      [broken.id]: ['failed'],
      [halfway.id]: ['aborted'],
      [late.id]: ['aborted'],
      [idle.id]: ['expired'],
      [partial.id]: ['expired'],
      [terminated.id]: ['aborted'],
    };
    for (const [id, states] of Object.entries(ends)) await settled(id, states);

    // What ready uploads may keep: the object they serve and their content's derivatives.
    const segment = await ownerSegment(owner);
    const allowed = async (key: string): Promise<boolean> => {
      for (const id of [readyPdf.id, second.id]) {
        const row = await runInDurableObject(stubOf(id), (_i, s) => s.storage.sql.exec<{ key: string; result: string | null }>('SELECT key, result FROM upload').one());
        const sha256 = row.result ? (JSON.parse(row.result) as { sha256?: string }).sha256 : undefined;
        if (key === row.key || (sha256 && key.startsWith(derivedPrefix(row.key, sha256)))) return true;
      }
      return false;
    };
    await expect
      .poll(
        async () => {
          const orphans: string[] = [];
          for (const key of await ownersObjects(segment, ids)) if (!(await allowed(key))) orphans.push(key);
          return orphans;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toEqual([]);
    // And the ready uploads still have what they serve.
    expect((await api(`/media/${second.id}/thumb`)).status).toBe(200);
    expect((await api(`/media/${readyPdf.id}`)).status).toBe(200);
    console.log(`[orphans] ${Object.keys(ends).length + 2} uploads through every ending; the bucket holds only the ${(await ownersObjects(segment, ids)).length} objects two ready uploads serve`);
  });
});
