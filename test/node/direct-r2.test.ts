/**
 * Direct-to-R2 mode against wrangler dev's local S3 API, which checks SigV4 for real: parts PUT
 * straight to presigned URLs, ETags reported, assembled bytes identical; tampered, foreign and
 * expired URLs refused.
 */
import { describe, expect, it } from 'vitest';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const server = useDevServer();

interface Created {
  id: string;
  uploadToken: string;
  partSize: number;
  partCount: number;
}

const auth = (u: Created) => ({ authorization: `Bearer ${u.uploadToken}` });

async function create(size: number): Promise<Created> {
  const res = await fetch(`${server().url}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'direct.pdf', size, type: 'application/pdf', partSize: 5 * MiB }),
  });
  expect(res.status).toBe(201);
  return res.json() as Promise<Created>;
}

async function presign(u: Created, n: number, expiresIn?: number): Promise<string> {
  const res = await fetch(`${server().url}/api/uploads/${u.id}/parts/${n}/presign${expiresIn ? `?expiresIn=${expiresIn}` : ''}`, { method: 'POST', headers: auth(u) });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

const slice = (bytes: Buffer, u: Created, n: number) => new Uint8Array(bytes).subarray((n - 1) * u.partSize, Math.min(n * u.partSize, bytes.length));

async function waitReady(u: Created): Promise<{ state: string; result?: { url: string } }> {
  for (let i = 0; i < 200; i++) {
    const manifest = (await (await fetch(`${server().url}/api/uploads/${u.id}`, { headers: auth(u) })).json()) as { state: string; result?: { url: string } };
    if (['ready', 'rejected', 'failed'].includes(manifest.state)) return manifest;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not ready');
}

describe('direct-to-R2 part uploads (presigned SigV4)', () => {
  it('advertises the mode in /api/config', async () => {
    expect(((await (await fetch(`${server().url}/api/config`)).json()) as { directUploads: boolean }).directUploads).toBe(true);
  });

  it('parts PUT straight to R2, ETags reported, the file assembles byte-identical', async () => {
    const bytes = pdf(11 * MiB + 3, 81);
    const u = await create(bytes.length);
    for (const n of [3, 1, 2]) {
      const put = await fetch(await presign(u, n), { method: 'PUT', body: slice(bytes, u, n) });
      expect(put.status, await put.clone().text()).toBe(200);
      const etag = put.headers.get('etag')!;
      expect(etag).toBeTruthy();
      const report = await fetch(`${server().url}/api/uploads/${u.id}/parts/${n}/etag`, {
        method: 'PUT',
        headers: { ...auth(u), 'content-type': 'application/json' },
        body: JSON.stringify({ etag }),
      });
      expect(report.status, await report.clone().text()).toBe(200);
    }
    const manifest = await waitReady(u);
    expect(manifest.state).toBe('ready');
    const media = await fetch(new URL(manifest.result!.url, server().url));
    expect(sha256(new Uint8Array(await media.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('refuses a URL used for another part, another upload or another key, and an expired URL', async () => {
    // One-byte uploads: their single part is planned as 1 byte, and the URL signs that length.
    const u = await create(1);
    const other = await create(1);
    const url = new URL(await presign(u, 1));
    const tamper = (edit: (x: URL) => void) => {
      const copy = new URL(url);
      edit(copy);
      return copy;
    };
    const otherUploadId = new URL(await presign(other, 1)).searchParams.get('uploadId')!;
    const attempts: [string, URL][] = [
      ['another part number', tamper((x) => x.searchParams.set('partNumber', '2'))],
      ['another upload', tamper((x) => x.searchParams.set('uploadId', otherUploadId))],
      ['another key', tamper((x) => (x.pathname = x.pathname.replace(/[0-9a-f]{32}$/, '0'.repeat(32))))],
      ['a longer expiry', tamper((x) => x.searchParams.set('X-Amz-Expires', '86400'))],
    ];
    // Small bodies: the server refuses before reading, and a large body would be cut off mid-send.
    // Control: the untouched URL is accepted with the same body, so a 403 below is the signature's doing.
    expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(200);
    // A body longer than planned is refused by R2 itself: the length is part of the signature.
    expect([400, 403], 'a longer body').toContain((await fetch(url, { method: 'PUT', body: 'xx' })).status);
    for (const [label, target] of attempts) {
      const res = await fetch(target, { method: 'PUT', body: 'x' });
      expect(res.status, label).toBe(403);
    }
    const shortLived = await presign(u, 1, 1);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(shortLived, { method: 'PUT', body: 'x' })).status).toBe(403);
    console.log(`proved: presigned part URLs refused for ${attempts.map(([l]) => l).join(', ')} and after expiry`);
  });

  it('a wrong reported ETag cannot assemble wrong bytes: assembly fails and says so', async () => {
    const bytes = pdf(2000, 83);
    const u = await create(bytes.length);
    const put = await fetch(await presign(u, 1), { method: "PUT", body: new Uint8Array(bytes) });
    expect(put.status).toBe(200);
    const report = await fetch(`${server().url}/api/uploads/${u.id}/parts/1/etag`, {
      method: 'PUT',
      headers: { ...auth(u), 'content-type': 'application/json' },
      body: JSON.stringify({ etag: 'deadbeef' }),
    });
    expect(report.status).toBe(200);
    const manifest = (await waitReady(u)) as { state: string; reason?: string };
    expect(manifest.state).toBe('failed');
    expect(manifest.reason).toMatch(/^ERR_ASSEMBLY_FAILED/);
  });
});
