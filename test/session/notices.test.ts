/**
 * The app's notices (webhooks, the files index) survive a stop between the state change and the
 * hand-over to the events queue: the session writes each notice to its outbox in the same step as
 * the change, and whatever is left there when the object stops is sent by its alarm.
 */
import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createUpload, getManifest, pdfBytes, putPart, waitForState } from '../helpers';

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));
const indexed = async (id: string) => (await env.DB.prepare('SELECT state FROM files WHERE id = ?').bind(id).first<{ state: string }>())?.state ?? null;

describe("the app's notices", () => {
  it('a notice left in the outbox by a stop is sent after the restart, by the alarm', async () => {
    const bytes = pdfBytes(3000, 951);
    const upload = await createUpload({ name: 'n.pdf', size: bytes.length, type: 'application/pdf' });
    expect((await putPart(upload, 1, bytes)).status).toBe(200);
    await waitForState(upload, ['ready']);
    await expect.poll(() => indexed(upload.id), { timeout: 10_000 }).toBe('ready');
    // What a stop right after the state change leaves behind: the notice in the outbox, never sent
    // (the index row, which only the events consumer writes, is gone to show it arrives again).
    const outbox = await runInDurableObject(stubOf(upload.id), (_i, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n);
    expect(outbox, 'handed-over notices leave the outbox').toBe(0);
    await env.DB.prepare('DELETE FROM files WHERE id = ?').bind(upload.id).run();
    const manifest = await getManifest(upload);
    await runInDurableObject(stubOf(upload.id), (_i, state) => {
      const message = {
        type: 'upload.event',
        v: 1,
        eventId: `${upload.id}:upload.ready`,
        event: 'upload.ready',
        uploadId: upload.id,
        occurredAt: Date.now(),
        upload: { ...manifest, owner: 'anonymous', visibility: 'public', metadata: {} },
      };
      state.storage.sql.exec('INSERT INTO outbox (message) VALUES (?)', JSON.stringify(message));
      // The guard a state change arms together with its notice (transitions.ts).
      return state.storage.setAlarm(Date.now() + 30_000);
    });
    await evictDurableObject(stubOf(upload.id));
    // After the restart, the guard alarm hands the notice over.
    expect(await runDurableObjectAlarm(stubOf(upload.id))).toBe(true);
    await expect.poll(() => indexed(upload.id), { timeout: 10_000 }).toBe('ready');
    expect(await runInDurableObject(stubOf(upload.id), (_i, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n)).toBe(0);
  });
});
