import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, createUpload, getManifest, MiB, partOf, pdfBytes, putPart, sha256Hex, waitForState } from '../helpers';

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));

describe('assembly survives failures', () => {
  it('a failing R2 complete is retried 3 times with backoff, then reported as failed', async () => {
    const file = pdfBytes(5 * MiB + 100, 51);
    const upload = await createUpload({ name: 'f.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 1, partOf(file, upload, 1));
    // Corrupt the recorded etag: R2 will refuse every complete() that names it.
    await runInDurableObject(stubOf(upload.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE parts SET etag = 'not-the-etag'");
    });
    await putPart(upload, 2, partOf(file, upload, 2));
    const manifest = await waitForState(upload, ['failed', 'ready'], 15_000);
    expect(manifest.state).toBe('failed');
    expect(manifest.reason).toMatch(/^ERR_ASSEMBLY_FAILED/);
    const attempts = await runInDurableObject(stubOf(upload.id), (_instance, state) =>
      state.storage.sql.exec<{ n: number }>('SELECT assembly_attempts AS n FROM upload').one().n,
    );
    expect(attempts).toBe(3);
    expect(await env.BUCKET.head(upload.key)).toBeNull();
  });

  it('a complete() that succeeded before its result was recorded is not lost (complete is not idempotent in R2)', async () => {
    const file = pdfBytes(4000, 52);
    const upload = await createUpload({ name: 'r.pdf', size: file.length, type: 'application/pdf' });
    // Act out a crash: the part went to R2 and R2 completed, but the session only knows "assembling".
    await runInDurableObject(stubOf(upload.id), async (_instance, state) => {
      const row = state.storage.sql.exec<{ key: string; r2: string }>('SELECT key, r2_upload_id AS r2 FROM upload').one();
      const multipart = env.BUCKET.resumeMultipartUpload(row.key, row.r2);
      const part = await multipart.uploadPart(1, file);
      await multipart.complete([part]);
      state.storage.sql.exec('INSERT INTO parts (part_number, size, etag, confirmed_at) VALUES (1, ?, ?, 0)', file.length, part.etag);
      state.storage.sql.exec("UPDATE upload SET state = 'assembling'");
    });
    expect(await runDurableObjectAlarm(stubOf(upload.id))).toBe(true);
    const manifest = await waitForState(upload, ['ready', 'failed', 'rejected']);
    expect(manifest.state).toBe('ready');
    expect(await sha256Hex(await (await api(`/media/${upload.id}`)).arrayBuffer())).toBe(await sha256Hex(file));
  });

  it('an unfinished upload expires at its alarm: R2 upload aborted, state expired, parts refused with 410', async () => {
    const file = pdfBytes(6 * MiB, 53);
    const upload = await createUpload({ name: 'e.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 1, partOf(file, upload, 1));
    await runInDurableObject(stubOf(upload.id), (_instance, state) => {
      state.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stubOf(upload.id))).toBe(true);
    expect((await getManifest(upload)).state).toBe('expired');
    expect((await putPart(upload, 2, partOf(file, upload, 2))).status).toBe(410);
  });
});
