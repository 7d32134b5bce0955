import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, createUpload, getManifest, MiB, partOf, pdfBytes, putPart, sha256Hex, waitForState } from '../helpers';

const complete = (id: string, token: string) =>
  api(`/api/uploads/${id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

describe('concurrency', () => {
  it('the same part PUT twice at once leaves one consistent manifest and object', async () => {
    const file = pdfBytes(10 * MiB + 77, 31);
    const upload = await createUpload({ name: 'c.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    const [a, b] = await Promise.all([putPart(upload, 1, partOf(file, upload, 1)), putPart(upload, 1, partOf(file, upload, 1))]);
    const statuses = [a.status, b.status].sort();
    // Either both ran one after the other (200, 200), or one held the lease and the other was told so.
    expect([[200, 200], [200, 409]]).toContainEqual(statuses);
    for (const res of [a, b]) {
      if (res.status === 409) expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_PART_IN_FLIGHT');
    }
    const manifest = await getManifest(upload);
    expect(manifest.confirmedParts).toBe(1);
    expect(manifest.parts).toEqual([{ partNumber: 1, size: 5 * MiB }]);

    await Promise.all([2, 3].map((n) => putPart(upload, n, partOf(file, upload, n))));
    expect((await waitForState(upload, ['ready', 'failed', 'rejected'])).state).toBe('ready');
    expect(await sha256Hex(await (await api(`/media/${upload.id}`)).arrayBuffer())).toBe(await sha256Hex(file));
  });

  it('complete called three times at once assembles exactly once', async () => {
    const file = pdfBytes(5 * MiB + 5, 32);
    const upload = await createUpload({ name: 'c3.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    // Confirm part 2 first, then part 1 together with three complete calls racing it.
    await putPart(upload, 2, partOf(file, upload, 2));
    await putPart(upload, 1, partOf(file, upload, 1));
    const results = await Promise.all([1, 2, 3].map(() => complete(upload.id, upload.uploadToken)));
    for (const res of results) expect(res.status).toBe(202);
    const states = await Promise.all(results.map((r) => r.json() as Promise<{ state: string }>));
    for (const s of states) expect(['assembling', 'validating', 'processing', 'ready']).toContain(s.state);

    const manifest = await waitForState(upload, ['ready', 'failed', 'rejected']);
    expect(manifest.state).toBe('ready');
    const object = await env.BUCKET.head(upload.key);
    expect(object?.size).toBe(file.length);
    expect(await sha256Hex(await (await api(`/media/${upload.id}`)).arrayBuffer())).toBe(await sha256Hex(file));
    // Completing again later is still a harmless 202.
    const again = await complete(upload.id, upload.uploadToken);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ state: 'ready' });
  });

  it('parts sent in parallel in random order all land', async () => {
    const file = pdfBytes(30 * MiB + 3, 33);
    const upload = await createUpload({ name: 'p.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    const order = [5, 2, 7, 1, 6, 3, 4];
    const responses = await Promise.all(order.map((n) => putPart(upload, n, partOf(file, upload, n))));
    for (const res of responses) expect(res.status).toBe(200);
    expect((await waitForState(upload, ['ready', 'failed', 'rejected'])).state).toBe('ready');
    expect(await sha256Hex(await (await api(`/media/${upload.id}`)).arrayBuffer())).toBe(await sha256Hex(file));
  });
});
