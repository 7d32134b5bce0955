/**
 * Durability facts (workerd): the manifest survives eviction of its Durable Object, even with a
 * part on the wire; a processing message delivered twice at once does the work once. (A runtime
 * restart is test/node/crash-restart.test.ts; a sequential redelivery and a failed assembly are
 * test/session/pipeline.test.ts and test/session/assembly.test.ts.)
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, evictDurableObject, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import type { EventMessage, ProcessMessage, QueueMessage } from '../../src/contracts/messages';
import { derivedPrefix } from '../../src/storage/object-keys';
import { api, createUpload, getManifest, MiB, partOf, pdfBytes, putPart, sha256Hex, waitForState, type CreatedUpload } from '../helpers';
import { gradientPng } from '../media-fixtures';
import type { Result } from '../../src/domain/errors';
import { loadConfig } from '../../src/config';

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));

/**
 * Whether a PUT holds the claim on part `n`, asked as a second writer would (through the session's
 * RPC): refused while it does. A claim this probe takes by accident is given back at once.
 */
async function claimedElsewhere(id: string, n: number, size: number): Promise<boolean> {
  const probe = (await stubOf(id).claimPart(n, size)) as Result<{ kind: string; claimId?: string }>;
  if (!probe.ok) return probe.error.code === 'ERR_PART_IN_FLIGHT';
  if (probe.value.claimId) await stubOf(id).releasePart(n, probe.value.claimId);
  return false;
}

/** Every message of the events socket, and how many times each state was announced. */
async function subscribe(upload: CreatedUpload) {
  const res = await api(`/api/uploads/${upload.id}/events?token=${encodeURIComponent(upload.uploadToken)}`, { headers: { upgrade: 'websocket' } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: EventMessage[] = [];
  ws.accept();
  ws.addEventListener('message', (event) => messages.push(JSON.parse(event.data as string) as EventMessage));
  const announced = (state: string) => messages.filter((m) => m.type === 'state' && m.state === state).length;
  return { ws, messages, announced };
}

/** The Worker's queue handler, called as the runtime would, with an environment of our choosing. */
async function deliver(messages: { id: string; body: QueueMessage }[], environment: Env) {
  const batch = createMessageBatch<QueueMessage>(
    'upload-process',
    messages.map((m) => ({ ...m, timestamp: new Date(), attempts: 1 })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, environment, ctx);
  return getQueueResult(batch, ctx);
}

/** The environment with R2 writes counted (derivatives and everything else the consumer stores). */
function countingWrites(): { environment: Env; writes: string[] } {
  const writes: string[] = [];
  const bucket = new Proxy(env.BUCKET, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property === 'put') {
        return (key: string, ...rest: unknown[]) => {
          writes.push(key);
          return (target.put as (...args: unknown[]) => unknown)(key, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { environment: { ...env, BUCKET: bucket } as Env, writes };
}

describe('durability facts', () => {
  it('the manifest survives eviction of its Durable Object, and so does a part that is on the wire meanwhile', async () => {
    const file = pdfBytes(10 * MiB + 500, 701);
    const upload = await createUpload({ name: 'evict.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    expect((await putPart(upload, 1, partOf(file, upload, 1))).status).toBe(200);
    const before = await getManifest(upload);

    await evictDurableObject(stubOf(upload.id));
    expect(await getManifest(upload)).toEqual(before);

    // Part 2 starts, its claim is taken, the session is evicted, then the rest of the bytes arrive.
    const part2 = partOf(file, upload, 2);
    const { readable, writable } = new FixedLengthStream(part2.length);
    const sending = api(`/api/uploads/${upload.id}/parts/2`, { method: 'PUT', headers: { authorization: `Bearer ${upload.uploadToken}` }, body: readable });
    const writer = writable.getWriter();
    await writer.write(part2.subarray(0, MiB));
    await new Promise((r) => setTimeout(r, 100)); // the claim is taken before the body is read
    await expect.poll(() => claimedElsewhere(upload.id, 2, part2.length), { interval: 50 }).toBe(true);
    await evictDurableObject(stubOf(upload.id));
    await writer.write(part2.subarray(MiB));
    await writer.close();
    const receipt = await sending;
    expect(receipt.status, await receipt.clone().text()).toBe(200);

    expect((await putPart(upload, 3, partOf(file, upload, 3))).status).toBe(200);
    const done = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(done.state).toBe('ready');
    expect(done.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(await sha256Hex(await (await api(`/media/${upload.id}`)).arrayBuffer())).toBe(await sha256Hex(file));
    console.log(
      '[eviction] manifest identical after evicting its Durable Object; a part whose session was evicted mid-body was ' +
        'committed afterwards; the upload finished with the exact bytes',
    );
  });

  it('the same processing message delivered twice at once: one verdict, one set of derivatives, content counted once', async () => {
    // The real pipeline takes an image to ready; then the session is put back to "validating" and
    // the derivatives removed, as if the first delivery had never run.
    const png = await gradientPng(500 + Math.floor(Math.random() * 300), 320);
    const upload = await createUpload({ name: 'twice.png', size: png.length, type: 'image/png' });
    expect((await putPart(upload, 1, png)).status).toBe(200);
    const first = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(first.state).toBe('ready');
    const sha256 = first.result!.sha256!;
    const prefix = derivedPrefix(upload.key, sha256);
    for (const object of (await env.BUCKET.list({ prefix })).objects) await env.BUCKET.delete(object.key);
    await runInDurableObject(stubOf(upload.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE upload SET state = 'validating', result = NULL");
    });
    const ledger = env.OWNER_LEDGER.get(env.OWNER_LEDGER.idFromName('anonymous'));
    const usageBefore = await ledger.usage();
    const watcher = await subscribe(upload);

    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'image/png', size: png.length };
    const { environment, writes } = countingWrites();
    // Twice in one batch, and once more in a batch running alongside it.
    const [batch, parallel] = await Promise.all([
      deliver([{ id: 'a', body: message }, { id: 'b', body: message }], environment),
      deliver([{ id: 'c', body: message }], environment),
    ]);
    // One delivery runs; one found in the same batch after it is acked; one running alongside it
    // finds the job claimed and is retried later instead of redoing the work.
    const acked = [...batch.explicitAcks, ...parallel.explicitAcks].sort();
    const retried = [...batch.retryMessages, ...parallel.retryMessages].map((m) => m.msgId).sort();
    expect([...acked, ...retried].sort()).toEqual(['a', 'b', 'c']);
    expect(acked.length).toBeGreaterThanOrEqual(2);
    const redelivered = await deliver(retried.map((id) => ({ id, body: message })), environment);
    expect(redelivered.explicitAcks.sort()).toEqual(retried);

    const after = await getManifest(upload);
    expect(after.state).toBe('ready');
    expect(after.result?.sha256).toBe(sha256);
    expect(after.result?.derivatives?.map((d) => d.variant)).toEqual(loadConfig(env).variants.map((v) => v.variant));
    // Every configured variant, in every format it is stored in.
    const stored = after.result!.derivatives!.reduce((n, d) => n + (d.formats?.length ?? 1), 0);
    expect((await env.BUCKET.list({ prefix })).objects).toHaveLength(stored);
    await new Promise((r) => setTimeout(r, 300));
    expect(watcher.announced('ready'), 'subscribers are told "ready" once').toBe(1);
    expect(await ledger.usage(), "the owner's stored bytes count the content once").toEqual(usageBefore);
    const derivedWrites = writes.filter((k) => k.startsWith(prefix));
    expect(
      derivedWrites,
      'each derivative written once (a delivery running alongside another must not decode and write the derivatives again)',
    ).toHaveLength(stored);
    watcher.ws.close();
    console.log(
      `[redelivery] one message delivered 3× at once (2 in a batch + 1 in a parallel batch): ${acked.length} acked, ${retried.length} retried then acked, 1 verdict, ` +
        `"ready" announced once, ${derivedWrites.length} derivative writes for ${stored} derivative objects, owner usage unchanged`,
    );
  });

  it('a rejected upload whose message comes again: acked, the verdict stands, nothing is stored again', async () => {
    const fake = pdfBytes(3000, 702); // PDF bytes declared as PNG
    const upload = await createUpload({ name: 'fake.png', size: fake.length, type: 'image/png' });
    expect((await putPart(upload, 1, fake)).status).toBe(200);
    const rejected = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(rejected.state).toBe('rejected');
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'image/png', size: fake.length };
    const { environment, writes } = countingWrites();
    const results = await Promise.all([deliver([{ id: 'x', body: message }], environment), deliver([{ id: 'y', body: message }], environment)]);
    expect(results.flatMap((r) => r.explicitAcks).sort()).toEqual(['x', 'y']);
    expect(await getManifest(upload)).toEqual(rejected);
    expect(writes).toEqual([]);
    expect(await env.BUCKET.head(upload.key)).toBeNull();
    console.log('[redelivery] a rejected upload\'s message delivered twice more: acked, manifest unchanged, 0 writes, object stays deleted');
  });
});
