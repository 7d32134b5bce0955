/**
 * Processing in slices (issue 14): a large file is hashed and scanned one bounded slice per queue
 * delivery, its progress saved in R2 between deliveries; crashes between and inside slices resume
 * from the last saved slice; the SHA-256 at the end is the file's. The per-delivery accounting is
 * the consumer's own (`sliceBytes` / `sliceOffset` on its `queue_message` log lines).
 *
 * The large file is 2 GiB (four 512 MiB slices), generated on the fly,
 * streamed into R2 and hashed as it is generated, never held in memory.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { toHex } from '../src/domain/base64url';
import type { Env } from '../src/env';
import worker from '../src/index';
import { EICAR } from '../src/media/builtin-scanner';
import { CLAMD_OVERLAP } from '../src/media/clamd-scanner';
import type { ProcessMessage, QueueMessage } from '../src/contracts/messages';
import { processingStateKey } from '../src/storage/object-keys';
import { createUpload, getManifest, MiB, pdfBytes, putPart, sha256Hex, waitForState, type CreatedUpload } from './helpers';

const LARGE = 2 * 1024 * MiB;
const SLICE = 512 * MiB;

let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((text: unknown) => {
    try {
      const parsed = JSON.parse(String(text));
      if (parsed?.event === 'queue_message') lines.push(parsed);
    } catch {
      // not a structured line
    }
  });
  vi.spyOn(console, 'error').mockImplementation((text: unknown) => {
    try {
      const parsed = JSON.parse(String(text));
      if (parsed?.event === 'queue_message') lines.push(parsed);
    } catch {
      // not a structured line
    }
  });
});
afterEach(() => vi.restoreAllMocks());

const stubOf = (id: string) => env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(id));
const setValidating = (id: string) => runInDurableObject(stubOf(id), (_i, state) => state.storage.sql.exec("UPDATE upload SET state = 'validating', result = NULL"));

/** A queue producer that keeps what is sent (the continuation messages), so each delivery is ours to make. */
function recordingQueue() {
  const sent: ProcessMessage[] = [];
  return { sent, send: async (body: ProcessMessage) => void sent.push(body), sendBatch: async () => {} };
}

/** One delivery through the Worker's queue handler; what the queue was told (ack or retry). */
async function deliver(body: QueueMessage, environment: Env) {
  const id = `m-${crypto.randomUUID()}`;
  const batch = createMessageBatch<QueueMessage>('upload-process', [{ id, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, environment, ctx);
  const result = await getQueueResult(batch, ctx);
  return { acked: result.explicitAcks.includes(id), retried: result.retryMessages.some((m) => m.msgId === id), line: lines.find((l) => l.messageId === id)! };
}

/** Streams `size` seeded bytes (a PDF header first) into R2 at `key`, hashing them on the way; returns the hex SHA-256. */
async function putGenerated(key: string, size: number): Promise<string> {
  const digest = new crypto.DigestStream('SHA-256');
  const hashWriter = digest.getWriter();
  const block = pdfBytes(4 * MiB, 9).slice(); // the first block carries the header; later ones vary by a counter
  let sent = 0;
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= size) {
        await hashWriter.close();
        controller.close();
        return;
      }
      const chunk = block.slice(0, Math.min(block.length, size - sent));
      if (n > 0) new DataView(chunk.buffer).setUint32(0, n); // no two blocks alike (after the header)
      n++;
      sent += chunk.length;
      await hashWriter.write(chunk);
      controller.enqueue(chunk);
    },
  });
  await env.BUCKET.put(key, body.pipeThrough(new FixedLengthStream(size)));
  return toHex(await digest.digest);
}

/** An R2 binding whose next ranged read breaks after `after` bytes, like an invocation killed mid-slice. */
function breakingBucket(after: number): R2Bucket {
  let armed = true;
  return new Proxy(env.BUCKET, {
    get(target, prop) {
      if (prop !== 'get') return Reflect.get(target, prop).bind(target);
      return async (key: string, options?: R2GetOptions) => {
        const object = await target.get(key, options);
        if (!armed || !options?.range || !object || !('body' in object)) return object;
        armed = false;
        let seen = 0;
        const body = object.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              seen += chunk.length;
              if (seen > after) throw new Error('killed mid-slice');
              controller.enqueue(chunk);
            },
          }),
        );
        return Object.assign(Object.create(Object.getPrototypeOf(object)), object, { body });
      };
    },
  });
}

describe('processing in slices', () => {
  it(`processes a ${LARGE / MiB} MiB file in ${SLICE / MiB} MiB slices, through a crash between and one inside a slice, to the right SHA-256`, async () => {
    const upload = await createUpload({ name: 'large.pdf', size: LARGE, type: 'application/pdf', partSize: 64 * MiB });
    const expected = await putGenerated(upload.key, LARGE);
    await setValidating(upload.id);
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: LARGE };
    const queue = recordingQueue();
    const sliced = { ...env, PROCESSING_SLICE_BYTES: String(SLICE), PROCESS_QUEUE: queue } as unknown as Env;

    const deliveries: Awaited<ReturnType<typeof deliver>>[] = [];
    let next: ProcessMessage | undefined = message;
    let crashedBetween = false;
    let crashedInside = false;
    while (next) {
      const sentBefore = queue.sent.length;
      if (!crashedInside && deliveries.length === 1) {
        // The second slice's read breaks halfway: the delivery must be retried, nothing saved for it.
        crashedInside = true;
        const broken = await deliver(next, { ...sliced, BUCKET: breakingBucket(SLICE / 2) } as Env);
        expect(broken.retried && !broken.acked).toBe(true);
        expect(queue.sent.length).toBe(sentBefore);
        continue; // the same message again, as the queue would redeliver it
      }
      const delivery = await deliver(next, sliced);
      deliveries.push(delivery);
      expect(delivery.acked, JSON.stringify(delivery.line)).toBe(true);
      if (delivery.line.result !== 'continued') break;
      next = queue.sent[sentBefore];
      if (!crashedBetween && deliveries.length === 2) {
        // A crash after the slice was saved but before its ack: the queue redelivers the message
        // we just handled, and the continuation also exists. Both must continue, never restart.
        crashedBetween = true;
        const again = await deliver(message, sliced);
        deliveries.push(again);
        expect(again.line.sliceOffset).toBe(3 * SLICE);
        next = queue.sent.at(-1);
      }
    }

    // Every delivery stayed within its slice, started where the previous one ended, and the last one finished.
    const slices = deliveries.filter((d) => d.line.result === 'continued');
    expect(slices.map((d) => d.line.sliceOffset)).toEqual(slices.map((_, i) => (i + 1) * SLICE));
    for (const d of slices) expect(d.line.sliceBytes).toBeLessThanOrEqual(SLICE);
    expect(slices.length).toBe(Math.ceil(LARGE / SLICE) - 1);
    expect(deliveries.at(-1)!.line.result).toBe('ready');

    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.sha256).toBe(expected);
    expect(await env.BUCKET.head(processingStateKey(upload.id))).toBeNull();
    await env.BUCKET.delete(upload.key);
  }, 1_800_000);

  it('finds a signature that straddles two slices', async () => {
    const bytes = pdfBytes(12 * MiB, 31);
    const boundary = 5 * MiB;
    bytes.set(new TextEncoder().encode(EICAR), boundary - 30);
    const upload = await createUpload({ name: 'straddle.pdf', size: bytes.length, type: 'application/pdf', partSize: 6 * MiB });
    await env.BUCKET.put(upload.key, bytes);
    await setValidating(upload.id);
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: bytes.length };
    const queue = recordingQueue();
    const sliced = { ...env, PROCESSING_SLICE_BYTES: String(boundary), PROCESS_QUEUE: queue } as unknown as Env;
    expect((await deliver(message, sliced)).line).toMatchObject({ result: 'continued', sliceOffset: boundary });
    expect((await deliver(queue.sent[0]!, sliced)).line).toMatchObject({ result: 'rejected', code: 'ERR_MALWARE_FOUND' });
    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toContain('ERR_MALWARE_FOUND');
  });

  it('continues through the real queue: a later delivery (with other settings) finishes from the saved slice', async () => {
    const bytes = pdfBytes(12 * MiB, 32);
    const upload: CreatedUpload = await createUpload({ name: 'resume.pdf', size: bytes.length, type: 'application/pdf', partSize: 6 * MiB });
    await putPart(upload, 1, bytes.subarray(0, 6 * MiB));
    await putPart(upload, 2, bytes.subarray(6 * MiB));
    expect((await waitForState(upload, ['ready'])).state).toBe('ready');
    await setValidating(upload.id);
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: bytes.length };
    // One 5 MiB slice here; the continuation goes to the real queue, whose consumer finishes it.
    const first = await deliver(message, { ...env, PROCESSING_SLICE_BYTES: String(5 * MiB) } as Env);
    expect(first.line).toMatchObject({ result: 'continued', sliceOffset: 5 * MiB });
    const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.sha256).toBe(await sha256Hex(bytes));
  });
});

describe('processing in slices with clamd', () => {
  // The test clamd refuses streams over 16 MiB (StreamMaxLength): a 20 MiB file can only pass if
  // every delivery relays one slice (and its overlap) on its own INSTREAM, never the whole file.
  const SMALL_SLICE = 4 * MiB;
  const withClamd = (queue: ReturnType<typeof recordingQueue>) =>
    ({ ...env, CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(inject('clamdPort')), PROCESSING_SLICE_BYTES: String(SMALL_SLICE), PROCESS_QUEUE: queue }) as unknown as Env;

  /** Delivers the message and every continuation until the upload is decided; the deliveries' log lines. */
  async function processAll(message: ProcessMessage, environment: Env, queue: ReturnType<typeof recordingQueue>) {
    const seen: Record<string, unknown>[] = [];
    for (let next: ProcessMessage | undefined = message; next; ) {
      const before = queue.sent.length;
      const delivery = await deliver(next, environment);
      expect(delivery.acked, JSON.stringify(delivery.line)).toBe(true);
      seen.push(delivery.line);
      next = delivery.line.result === 'continued' ? queue.sent[before] : undefined;
    }
    return seen;
  }

  async function stored(name: string, bytes: Uint8Array) {
    const upload = await createUpload({ name, size: bytes.length, type: 'application/pdf', partSize: 8 * MiB });
    await env.BUCKET.put(upload.key, bytes);
    await setValidating(upload.id);
    const message: ProcessMessage = { type: 'upload.assembled', v: 1, uploadId: upload.id, key: upload.key, declaredType: 'application/pdf', size: bytes.length };
    return { upload, message };
  }

  it('scans a file larger than clamd accepts in one stream, slice by slice, each delivery relaying at most a slice and its overlap', async () => {
    const bytes = pdfBytes(20 * MiB, 41);
    expect(bytes.length).toBeGreaterThan(inject('clamdStreamMaxLength'));
    const { upload, message } = await stored('clamd-large.pdf', bytes);
    const queue = recordingQueue();
    const lines = await processAll(message, withClamd(queue), queue);

    expect(lines.map((l) => l.result)).toEqual(['continued', 'continued', 'continued', 'continued', 'ready']);
    // The consumer's own accounting: what each delivery read and relayed to every scanner.
    for (const line of lines) expect(line.scannedBytes).toBeLessThanOrEqual(SMALL_SLICE + CLAMD_OVERLAP);
    expect(lines.slice(1).every((l) => l.scannedBytes === SMALL_SLICE + CLAMD_OVERLAP)).toBe(true);
    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('ready');
    expect(manifest.result).toMatchObject({ scannedBy: 'builtin+clamd', sha256: await sha256Hex(bytes) });
  });

  it.each([
    // It starts 100 bytes before the boundary: further back than the built-in scanner's 67-byte overlap.
    ['straddles two slices', 2 * SMALL_SLICE - 100],
    ['lies inside a later slice', 2 * SMALL_SLICE + MiB],
    ['sits at the very end', -1],
  ])('rejects a file whose clamd-only signature %s, as found by clamd', async (_name, at) => {
    const signature = inject('clamdOnlySignature');
    const bytes = pdfBytes(20 * MiB, 42);
    const text = new TextEncoder().encode(signature.text);
    bytes.set(text, at === -1 ? bytes.length - text.length : at);
    const { upload, message } = await stored('clamd-found.pdf', bytes);
    const queue = recordingQueue();
    const lines = await processAll(message, withClamd(queue), queue);

    expect(lines.at(-1)).toMatchObject({ result: 'rejected', code: 'ERR_MALWARE_FOUND' });
    const manifest = await getManifest(upload);
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toContain(`${signature.name}`);
    expect(manifest.reason).toContain('(clamd)');
    expect(await env.BUCKET.head(upload.key)).toBeNull(); // nothing rejected stays stored
  });

  it('does not count slices scanned without clamd once clamd is configured: it starts over with both scanners', async () => {
    const signature = inject('clamdOnlySignature');
    const bytes = pdfBytes(12 * MiB, 43);
    bytes.set(new TextEncoder().encode(signature.text), MiB); // in the first slice, which the built-in scanner passes
    const { upload, message } = await stored('clamd-later.pdf', bytes);
    const queue = recordingQueue();
    const builtinOnly = { ...env, PROCESSING_SLICE_BYTES: String(SMALL_SLICE), PROCESS_QUEUE: queue } as unknown as Env;
    expect((await deliver(message, builtinOnly)).line).toMatchObject({ result: 'continued', sliceOffset: SMALL_SLICE });
    const lines = await processAll(queue.sent[0]!, withClamd(queue), queue);
    expect(lines.at(-1)).toMatchObject({ result: 'rejected', code: 'ERR_MALWARE_FOUND' });
    expect((await getManifest(upload)).reason).toContain('(clamd)');
  });

  it('retries a slice when clamd cannot answer and never saves it as scanned', async () => {
    const bytes = pdfBytes(12 * MiB, 44);
    const { upload, message } = await stored('clamd-down.pdf', bytes);
    const queue = recordingQueue();
    const first = await deliver(message, withClamd(queue));
    expect(first.line).toMatchObject({ result: 'continued', sliceOffset: SMALL_SLICE });
    const down = { ...withClamd(queue), CLAMD_PORT: String(inject('closedPort')) } as Env;
    const failed = await deliver(queue.sent[0]!, down);
    expect(failed.retried && !failed.acked).toBe(true);
    expect(queue.sent.length).toBe(1); // no continuation for a slice that was not scanned
    // Once clamd is back, the same message continues from the last saved slice.
    const lines = await processAll(queue.sent[0]!, withClamd(queue), queue);
    expect(lines[0]).toMatchObject({ result: 'continued', sliceOffset: 2 * SMALL_SLICE });
    expect(lines.at(-1)!.result).toBe('ready');
    expect((await getManifest(upload)).result).toMatchObject({ scannedBy: 'builtin+clamd', sha256: await sha256Hex(bytes) });
  });
});
