import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import type { ProcessMessage, QueueMessage } from '../../src/contracts/messages';
import { retryDelaySeconds } from '../../src/queues/queue-handler';
import { derivedPrefix } from '../../src/storage/object-keys';
import { createUpload, getManifest, putPart, waitForState, type CreatedUpload } from '../helpers';
import { gradientPng } from '../media-fixtures';
import { DEFAULT_VARIANTS } from '../../src/media/variants';

/** Objects stored per image: every default variant in each of its formats (JPEG and WebP). */
const STORED_PER_IMAGE = DEFAULT_VARIANTS.reduce((n, v) => n + v.formats.length, 0);


const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));

/** An image upload the real pipeline has taken to ready, and the message it was processed from. */
async function readyImage(): Promise<{ upload: CreatedUpload; message: ProcessMessage; sha256: string }> {
  // A size of its own, so other tests' uploads are not deduplicated into this one.
  const png = await gradientPng(400 + Math.floor(Math.random() * 400), 300);
  const upload = await createUpload({ name: 'q.png', size: png.length, type: 'image/png' });
  await putPart(upload, 1, png);
  const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
  expect(manifest.state).toBe('ready');
  const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'image/png', size: png.length };
  return { upload, message, sha256: manifest.result!.sha256! };
}

/** Puts the session back to "validating", as it was when the message was first delivered. */
const rewind = (id: string) =>
  runInDurableObject(stubOf(id), (_i, state) => state.storage.sql.exec("UPDATE upload SET state = 'validating', result = NULL"));

async function deliver(queue: string, body: QueueMessage, attempts = 1, environment: Env = env) {
  const batch = createMessageBatch<QueueMessage>(queue, [{ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, environment, ctx);
  return { id: batch.messages[0]!.id, result: await getQueueResult(batch, ctx) };
}

async function derivedObjects(key: string, sha256: string) {
  const listing = await env.BUCKET.list({ prefix: derivedPrefix(key, sha256) });
  return listing.objects.map((o) => `${o.key}@${o.uploaded.getTime()}`).sort();
}

describe('processing consumer', () => {
  it('acks a processed message; the same message again does no work', async () => {
    const { upload, message, sha256 } = await readyImage();
    const before = await derivedObjects(upload.key, sha256);
    expect(before).toHaveLength(STORED_PER_IMAGE);
    const again = await deliver('upload-process', message);
    expect(again.result.explicitAcks).toEqual([again.id]);
    expect(again.result.retryMessages).toEqual([]);
    expect(await derivedObjects(upload.key, sha256)).toEqual(before);
    expect((await getManifest(upload)).state).toBe('ready');
  });

  it('a redelivery after a crash mid-processing redoes the step under the same keys: one set of derivatives', async () => {
    const { upload, message, sha256 } = await readyImage();
    await rewind(upload.id);
    const { id, result } = await deliver('upload-process', message);
    expect(result.explicitAcks).toEqual([id]);
    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.derivatives!.map((d) => d.variant)).toEqual(DEFAULT_VARIANTS.map((v) => v.variant));
    expect((await env.BUCKET.list({ prefix: derivedPrefix(upload.key, sha256) })).objects).toHaveLength(STORED_PER_IMAGE);
  });

  it('retries with a growing delay when the scanner is unavailable, and never marks the file clean', async () => {
    const { upload, message } = await readyImage();
    await rewind(upload.id);
    const down = { ...env, CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(inject('closedPort')) } as Env;
    const first = await deliver('upload-process', message, 1, down);
    const third = await deliver('upload-process', message, 3, down);
    // (getQueueResult does not report the delay; retryDelaySeconds is what the handler passes.)
    expect(first.result.retryMessages.map((m) => m.msgId)).toEqual([first.id]);
    expect(third.result.retryMessages.map((m) => m.msgId)).toEqual([third.id]);
    expect([1, 2, 3, 4, 5, 9, 20].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 32, 300, 300]);
    expect((await getManifest(upload)).state).toBe('validating');
  });

  it('with clamd configured, a clean file is passed by both scanners', async () => {
    const { upload, message } = await readyImage();
    await rewind(upload.id);
    const withClamd = { ...env, CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(inject('clamdPort')) } as Env;
    const { id, result } = await deliver('upload-process', message, 1, withClamd);
    expect(result.explicitAcks).toEqual([id]);
    expect((await getManifest(upload)).result).toMatchObject({ scannedBy: 'builtin+clamd' });
  });

  it('a dead-lettered message marks the upload failed with a reason (fail closed)', async () => {
    const { upload, message } = await readyImage();
    await rewind(upload.id);
    const { id, result } = await deliver('upload-process-dlq', message);
    expect(result.explicitAcks).toEqual([id]);
    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('failed');
    expect(manifest.reason).toMatch(/^ERR_PROCESSING_FAILED/);
  });

  it('a permanent verdict is acked and recorded (declared type does not match)', async () => {
    const { upload, message } = await readyImage();
    await rewind(upload.id);
    const { id, result } = await deliver('upload-process', { ...message, declaredType: 'image/jpeg' });
    expect(result.explicitAcks).toEqual([id]);
    expect((await getManifest(upload)).reason).toMatch(/^ERR_TYPE_MISMATCH/);
  });
});
