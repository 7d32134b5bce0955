import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { derivedPrefix } from '../src/storage/object-keys';
import { api, createUpload, putPart, sha256Hex, waitForState, type CreatedUpload } from './helpers';
import { gradientPng } from './media-fixtures';
import { DEFAULT_VARIANTS } from '../src/media/variants';

const remove = (u: CreatedUpload) => api(`/api/uploads/${u.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${u.uploadToken}` } });

async function uploadOnce(bytes: Uint8Array, name: string) {
  const upload = await createUpload({ name, size: bytes.length, type: 'image/png' });
  await putPart(upload, 1, bytes);
  const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
  expect(manifest.state).toBe('ready');
  return { upload, manifest };
}

describe('deduplication by content', () => {
  it('identical bytes from one owner are stored once; bytes go when the last upload is deleted', async () => {
    // Unique bytes for this test: a random-sized image.
    const png = await gradientPng(300 + Math.floor(Math.random() * 200), 200);
    const sha256 = await sha256Hex(png);
    const a = await uploadOnce(png, 'a.png');
    const b = await uploadOnce(png, 'b.png');
    expect(a.manifest.result!.deduplicated).toBeUndefined();
    expect(b.manifest.result!.deduplicated).toBe(true);
    expect(b.manifest.result!.derivatives!.map((d) => d.variant)).toEqual(DEFAULT_VARIANTS.map((v) => v.variant));

    // One original object (the first upload's), none for the second.
    expect(await env.BUCKET.head(a.upload.key)).not.toBeNull();
    expect(await env.BUCKET.head(b.upload.key)).toBeNull();
    for (const u of [a.upload, b.upload]) {
      const res = await api(`/media/${u.id}`);
      expect(await sha256Hex(await res.arrayBuffer())).toBe(sha256);
      expect((await api(`/media/${u.id}/thumb`)).status).toBe(200);
    }

    // Deleting one keeps the bytes for the other.
    expect((await remove(a.upload)).status).toBe(200);
    expect((await api(`/media/${a.upload.id}`)).status).toBe(410);
    expect(await sha256Hex(await (await api(`/media/${b.upload.id}`)).arrayBuffer())).toBe(sha256);
    expect((await api(`/media/${b.upload.id}/thumb`)).status).toBe(200);

    // Deleting both removes the original and its derivatives.
    expect((await remove(b.upload)).status).toBe(200);
    expect(await env.BUCKET.head(a.upload.key)).toBeNull();
    expect((await env.BUCKET.list({ prefix: derivedPrefix(a.upload.key, sha256) })).objects).toEqual([]);
  });
});
