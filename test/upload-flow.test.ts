import { describe, expect, it } from 'vitest';
import { api, createUpload, getManifest, MiB, partOf, pdfBytes, putPart, sha256Hex, waitForState } from './helpers';

describe('full upload flow through the Worker', () => {
  it('creates, takes parts out of order and a re-send, completes, validates and serves the exact bytes', async () => {
    const file = pdfBytes(12 * MiB + 12345, 7);
    const upload = await createUpload({ name: 'report.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    expect(upload).toMatchObject({ state: 'created', partSize: 5 * MiB, partCount: 3 });
    expect(upload.key).toBe(`originals/anonymous/${upload.id}`);
    expect(upload.urls.events).toMatch(new RegExp(`/api/uploads/${upload.id}/events$`));

    for (const n of [3, 1]) {
      const res = await putPart(upload, n, partOf(file, upload, n));
      expect(res.status).toBe(200);
    }
    // Re-sending a confirmed part is idempotent: same size, same etag, totals unchanged.
    const first = await (await putPart(upload, 1, partOf(file, upload, 1))).json<{ etag: string; confirmedParts: number }>();
    expect(first.confirmedParts).toBe(2);

    let manifest = await getManifest(upload);
    expect(manifest).toMatchObject({ state: 'uploading', confirmedParts: 2, missingParts: [2] });
    expect(manifest.confirmedBytes).toBe(5 * MiB + (file.length - 10 * MiB));

    const last = await putPart(upload, 2, partOf(file, upload, 2));
    expect(await last.json()).toMatchObject({ partNumber: 2, size: 5 * MiB, confirmedParts: 3, confirmedBytes: file.length });

    const complete = await api(`/api/uploads/${upload.id}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${upload.uploadToken}` },
    });
    expect(complete.status).toBe(202);

    manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('ready');
    expect(manifest.result).toMatchObject({ url: `/media/${upload.id}`, detectedType: 'application/pdf' });

    const media = await api(`/media/${upload.id}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('application/pdf');
    expect(media.headers.get('content-length')).toBe(String(file.length));
    const etag = media.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(await sha256Hex(await media.arrayBuffer())).toBe(await sha256Hex(file));

    const ranged = await api(`/media/${upload.id}`, { headers: { range: 'bytes=5242870-5242899' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 5242870-5242899/${file.length}`);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(file.subarray(5242870, 5242900));

    const suffix = await api(`/media/${upload.id}`, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(file.subarray(file.length - 10));

    const notModified = await api(`/media/${upload.id}`, { headers: { 'if-none-match': etag! } });
    expect(notModified.status).toBe(304);

    const pastEnd = await api(`/media/${upload.id}`, { headers: { range: `bytes=${file.length}-` } });
    expect(pastEnd.status).toBe(416);
  });

  it('assembles on its own when the last part lands, without a complete call', async () => {
    const file = pdfBytes(1000, 3);
    const upload = await createUpload({ name: 'tiny.pdf', size: file.length, type: 'application/pdf' });
    expect(upload.partCount).toBe(1);
    expect((await putPart(upload, 1, file)).status).toBe(200);
    const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('ready');
    expect(new Uint8Array(await (await api(`/media/${upload.id}`)).arrayBuffer())).toEqual(file);
  });

  it('rejects content whose magic bytes do not match the declared type, and serves nothing', async () => {
    const file = pdfBytes(2000, 5); // a PDF declared as PNG
    const upload = await createUpload({ name: 'fake.png', size: file.length, type: 'image/png' });
    await putPart(upload, 1, file);
    const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toMatch(/^ERR_TYPE_MISMATCH/);
    const media = await api(`/media/${upload.id}`);
    expect(media.status).toBe(409);
    expect(((await media.json()) as { error: { code: string } }).error.code).toBe('ERR_NOT_READY');
  });

  it('DELETE aborts an unfinished upload; later parts get 410', async () => {
    const file = pdfBytes(6 * MiB, 9);
    const upload = await createUpload({ name: 'gone.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 1, partOf(file, upload, 1));
    const del = await api(`/api/uploads/${upload.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${upload.uploadToken}` } });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ state: 'aborted' });
    expect((await getManifest(upload)).state).toBe('aborted');
    const late = await putPart(upload, 2, partOf(file, upload, 2));
    expect(late.status).toBe(410);
  });

  it('accepts a part with a matching Content-Digest and the token as ?token=', async () => {
    const file = pdfBytes(3000, 11);
    const upload = await createUpload({ name: 'd.pdf', size: file.length, type: 'application/pdf' });
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', file))));
    const res = await api(`/api/uploads/${upload.id}/parts/1?token=${encodeURIComponent(upload.uploadToken)}`, {
      method: 'PUT',
      headers: { 'content-length': String(file.length), 'content-digest': `sha-256=:${digest}:` },
      body: file,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await waitForState(upload, ['ready', 'rejected', 'failed'])).state).toBe('ready');
  });
});
