import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { sweep } from '../../src/queues/sweep';
import { api, createUpload, expectError, getManifest, MiB, partOf, pdfBytes, putPart, waitForState, type CreatedUpload, deployment } from '../helpers';

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));

async function backdate(upload: CreatedUpload): Promise<void> {
  await runInDurableObject(stubOf(upload.id), (_instance, state) => {
    state.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() - 1);
  });
}

async function r2UploadIdOf(upload: CreatedUpload): Promise<string> {
  return runInDurableObject(stubOf(upload.id), (_i, state) => state.storage.sql.exec<{ r: string }>('SELECT r2_upload_id AS r FROM upload').one().r);
}

describe('expiry of abandoned uploads', () => {
  it('the alarm expires an idle upload: tombstone, 410 for later parts, R2 upload aborted via the cleanup queue', async () => {
    const file = pdfBytes(6 * MiB, 71);
    const upload = await createUpload({ name: 'idle.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 1, partOf(file, upload, 1));
    const r2UploadId = await r2UploadIdOf(upload);
    await backdate(upload);
    expect(await runDurableObjectAlarm(stubOf(upload.id))).toBe(true);

    const manifest = await getManifest(upload);
    expect(manifest).toMatchObject({ state: 'expired', parts: [], confirmedParts: 0 });
    await expectError(await putPart(upload, 2, partOf(file, upload, 2)), 410, 'ERR_UPLOAD_GONE');

    // The cleanup consumer runs from the queue and records that R2 was released.
    await expect.poll(() => runInDurableObject(stubOf(upload.id), (_i, s) => s.storage.sql.exec<{ c: number }>('SELECT cleaned AS c FROM upload').one().c), { timeout: 10_000 }).toBe(1);
    const multipart = env.BUCKET.resumeMultipartUpload(upload.key, r2UploadId);
    await expect(multipart.uploadPart(2, partOf(file, upload, 2))).rejects.toThrow();

    // Idempotent: nothing is scheduled any more, and running the sweep changes nothing.
    expect(await runDurableObjectAlarm(stubOf(upload.id))).toBe(false);
    expect((await getManifest(upload)).state).toBe('expired');
  });

  it('leaves a finished upload alone', async () => {
    const file = pdfBytes(3000, 72);
    const upload = await createUpload({ name: 'done.pdf', size: file.length, type: 'application/pdf' });
    await putPart(upload, 1, file);
    await waitForState(upload, ['ready']);
    await backdate(upload);
    await runDurableObjectAlarm(stubOf(upload.id));
    expect((await getManifest(upload)).state).toBe('ready');
    expect((await api(`/media/${upload.id}`)).status).toBe(200);
  });

  it('each confirmed part pushes the expiry back', async () => {
    const file = pdfBytes(6 * MiB, 73);
    const upload = await createUpload({ name: 'slow.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await runInDurableObject(stubOf(upload.id), (_i, s) => s.storage.sql.exec('UPDATE upload SET expires_at = ?', Date.now() + 1000));
    await putPart(upload, 1, partOf(file, upload, 1));
    expect(Date.parse((await getManifest(upload)).expiresAt)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
  });

  it('the cron sweep expires uploads whose alarm did not fire, and logs a summary', async () => {
    const upload = await createUpload({ name: 'missed.pdf', size: 100, type: 'application/pdf' });
    await backdate(upload);
    await runInDurableObject(stubOf(upload.id), (_i, s) => s.storage.deleteAlarm());
    const summary = await sweep(env, Date.now() + 25 * 3600 * 1000);
    expect(summary.errors).toBe(0);
    expect(summary.states.expired).toBeGreaterThanOrEqual(1);
    expect((await getManifest(upload)).state).toBe('expired');
  });
});


describe('quotas', () => {
  const as = async (sub: string) => `Bearer ${await sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, env.AUTH_JWT_SECRET!, 'HS256')}`;
  const create = (call: ReturnType<typeof deployment>, auth: string, size = 100) =>
    call('/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ name: 'q.pdf', size, type: 'application/pdf' }),
    });

  it('limits unfinished uploads per owner; finishing or cancelling one frees a slot', async () => {
    const call = deployment({ QUOTA_MAX_ACTIVE_UPLOADS: '2', DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });
    const auth = await as(`quota-${crypto.randomUUID()}`);
    const first = await (await create(call, auth)).json<{ id: string; uploadToken: string }>();
    expect((await create(call, auth)).status).toBe(201);
    const refused = await expectError(await create(call, auth), 429, 'ERR_QUOTA_ACTIVE_UPLOADS');
    expect(refused.details).toMatchObject({ limit: 2 });
    await call(`/api/uploads/${first.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${first.uploadToken}` } });
    expect((await create(call, auth)).status).toBe(201);
    // Other owners are not affected.
    expect((await create(call, await as(`quota-${crypto.randomUUID()}`))).status).toBe(201);
  });

  it('limits stored bytes per owner', async () => {
    const call = deployment({ QUOTA_MAX_STORED_BYTES: String(10 * MiB), DEV_ALLOW_ANONYMOUS_UPLOADS: undefined });
    const auth = await as(`bytes-${crypto.randomUUID()}`);
    expect((await create(call, auth, 6 * MiB)).status).toBe(201);
    await expectError(await create(call, auth, 5 * MiB), 403, 'ERR_QUOTA_STORAGE');
    expect((await create(call, auth, 4 * MiB)).status).toBe(201);
  });
});
