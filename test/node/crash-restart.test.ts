/**
 * Crash and restart: `wrangler dev` with a persistence directory is killed -9 (the whole process
 * tree) at three points of a 64 MiB upload made with the client library, then started again on the
 * same directory and the same port. The client resumes with the same state (same MemoryUploadStore,
 * a new Uploader, the same File) and must finish with the exact bytes, sending again only what the
 * server had not confirmed, and reaching `ready` exactly once.
 *
 * Where the crash fell is read from the Durable Object's SQLite file while the runtime is down, so
 * each scenario proves it really stopped at the point it names.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryUploadStore, Uploader, type ClientState, type EventMessage, type Manifest, type Upload } from '../../src/client/index';
import { startDevServer, type DevServer } from '../e2e/dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const PART_SIZE = 8 * MiB;
const PART_COUNT = SIZE / PART_SIZE;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// ---- helpers --------------------------------------------------------------------------------

interface PutRecord {
  part: number;
  status: number | 'network';
  code?: string;
}

/**
 * A fetch for the client library that records every part PUT (and its answer), can hold PUTs back
 * until `gate` opens, runs a hook on each answer before the client sees it, and can "die" (every
 * later call fails like a dead network), which is how a client process that crashed behaves.
 */
function instrumentedFetch() {
  const puts: PutRecord[] = [];
  const inflight = new Set<number>();
  const state = {
    dead: false,
    gate: Promise.resolve() as Promise<unknown>,
    onAnswer: undefined as undefined | ((part: number, res: Response) => Promise<void> | void),
    /** Send only the first `afterBytes` of this part's body, then hold the rest back (a slow link). */
    stall: undefined as undefined | { part: number; afterBytes: number; onStalled: () => void },
    /** Ends a held-back body (with an error), when the client dies. */
    release: () => {},
  };
  /** The part's Blob as a stream that stops after `afterBytes` until released. */
  const stalled = (body: Blob, afterBytes: number, onStalled: () => void): ReadableStream<Uint8Array> => {
    let sent = false;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(new Uint8Array(await body.slice(0, afterBytes).arrayBuffer()));
          onStalled();
          return;
        }
        await new Promise<void>((resolve) => (state.release = resolve));
        controller.error(new Error('the client is gone'));
      },
    });
  };
  const fetchImpl: typeof fetch = async (input, init) => {
    if (state.dead) throw new TypeError('fetch failed: this client is gone');
    const isPut = init?.method === 'PUT';
    const part = isPut ? Number(new URL(String(input)).pathname.split('/').pop()) : 0;
    if (isPut) await state.gate;
    if (state.dead) throw new TypeError('fetch failed: this client is gone');
    if (isPut) inflight.add(part);
    if (isPut && state.stall?.part === part && init?.body instanceof Blob) {
      const { afterBytes, onStalled } = state.stall;
      const headers = new Headers(init.headers);
      headers.set('content-length', String(init.body.size));
      init = { ...init, headers, body: stalled(init.body, afterBytes, onStalled), duplex: 'half' } as RequestInit;
    }
    try {
      const res = await fetch(input, init);
      if (isPut) {
        inflight.delete(part);
        const record: PutRecord = { part, status: res.status };
        if (!res.ok) record.code = ((await res.clone().json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
        puts.push(record);
        await state.onAnswer?.(part, res);
      }
      return res;
    } catch (error) {
      if (isPut && inflight.delete(part)) puts.push({ part, status: 'network' });
      throw error;
    }
  };
  const confirmed = () => new Set(puts.filter((p) => p.status === 200).map((p) => p.part));
  return { fetchImpl, puts, inflight, state, confirmed };
}

/** The browser tab (or Node process) holding `upload` is gone: no more requests, timers or socket. */
function closeTab(upload: Upload, client: ReturnType<typeof instrumentedFetch>): void {
  client.state.dead = true;
  client.state.release();
  // Test-only reach into the client: stop its timers, in-flight requests and events socket, as a
  // closed tab would. (pause() alone leaves the events feed, which would follow the next server.)
  (upload as unknown as { stopTransfers(): void }).stopTransfers();
}

/** The upload's row and parts in the Durable Object's SQLite file, read while the runtime is down. */
function sessionOnDisk(persistDir: string, uploadId: string) {
  const dir = join(persistDir, 'v3/do/edge-upload-pipeline-UploadSession');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      const hasUpload = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upload'").get();
      if (!hasUpload) continue;
      const row = db.prepare('SELECT id, state, job_queued_at IS NOT NULL AS jobQueued, assembly_attempts AS assemblyAttempts FROM upload').get() as
        | { id: string; state: string; jobQueued: number; assemblyAttempts: number }
        | undefined;
      if (row?.id !== uploadId) continue;
      const parts = (db.prepare('SELECT part_number AS n FROM parts ORDER BY part_number').all() as { n: number }[]).map((p) => p.n);
      return { ...row, parts };
    } finally {
      db.close();
    }
  }
  throw new Error(`no session for ${uploadId} under ${dir}`);
}

async function getManifest(server: DevServer, id: string, token: string): Promise<Manifest> {
  const res = await fetch(`${server.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Manifest;
}

/** Every message of the events WebSocket, from a subscriber outside the client library. */
async function subscribe(server: DevServer, id: string, token: string, onMessage?: (m: EventMessage) => void) {
  const messages: EventMessage[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/uploads/${id}/events?token=${encodeURIComponent(token)}`);
  ws.addEventListener('message', (event) => {
    if (typeof event.data !== 'string' || event.data === 'pong') return;
    const message = JSON.parse(event.data) as EventMessage;
    messages.push(message);
    onMessage?.(message);
  });
  ws.addEventListener('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('close', () => reject(new Error('events socket closed before it opened')), { once: true });
  });
  cleanups.push(() => ws.close());
  /** The server's states in the order seen: the snapshot's state, then each `state` message. */
  const states = () => messages.flatMap((m) => (m.type === 'snapshot' ? [m.manifest.state] : m.type === 'state' ? [m.state] : []));
  return { messages, states };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

/** A fresh runtime on a fresh persistence directory; removed after the test. */
/** A short processing watchdog, so a job lost with the crashed runtime's in-memory queue is queued again quickly. */
const WATCHDOG = { PROCESSING_WATCHDOG_SECONDS: '3' };

async function freshServer(): Promise<DevServer> {
  const persistDir = mkdtempSync(join(tmpdir(), 'uploads-crash-'));
  const server = await startDevServer({ persistDir, vars: WATCHDOG });
  cleanups.push(async () => {
    await server.stop(true);
    rmSync(persistDir, { recursive: true, force: true });
  });
  return server;
}

/** The same persistence directory and the same port: the client's endpoint stays valid. */
async function restart(crashed: DevServer): Promise<DevServer> {
  const server = await startDevServer({ persistDir: crashed.persistDir, port: crashed.port, vars: WATCHDOG });
  cleanups.push(() => server.stop(true));
  return server;
}

function sourceFile(seed: number, name: string): { bytes: Buffer; file: File } {
  const bytes = pdf(SIZE, seed);
  return { bytes, file: new File([new Uint8Array(bytes)], name, { type: 'application/pdf', lastModified: 1_764_000_000_000 + seed }) };
}

/**
 * Uploads a fresh 64 MiB file and kill -9s the runtime `delayMs` after the session announces
 * `state`. The kill races the runtime's next step (an alarm or a queue batch, milliseconds away), so
 * where it fell is read from disk; a kill that landed too late is tried again on a fresh runtime —
 * the behaviour under test is the restart, the race only chooses the point. Fails if no attempt
 * lands on `expected`.
 */
async function crashWhen(seed: number, name: string, state: string, delayMs: number, expected: { state: string; jobQueued: number }) {
  const ATTEMPTS = 4;
  const missed: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const server = await freshServer();
    const { bytes, file } = sourceFile(seed, name);
    const store = new MemoryUploadStore();
    const first = instrumentedFetch();
    const tab = new Uploader({ endpoint: server.url, fetch: first.fetchImpl, store }).add(file, { concurrency: 4 });
    // Hold the parts back until a subscriber listens, so it cannot miss the announcement.
    let opened!: () => void;
    first.state.gate = new Promise<void>((resolve) => (opened = resolve));
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    tab.on('state', ({ state: clientState }) => {
      if (clientState !== 'uploading' || !tab.id) return;
      void store.list().then(async ([record]) => {
        await subscribe(server, record!.uploadId, record!.uploadToken, (m) => {
          if (m.type === 'state' && m.state === state && !first.state.dead) {
            first.state.dead = true;
            // SIGKILL goes out synchronously when there is no delay.
            if (delayMs === 0) void server.crash().then(crashed);
            else setTimeout(() => void server.crash().then(crashed), delayMs);
          }
        });
        opened();
      });
    });
    await withTimeout(crash, 60_000, `the "${state}" crash point`);
    closeTab(tab, first);
    const record = (await store.list())[0]!;
    const onDisk = sessionOnDisk(server.persistDir, record.uploadId);
    if (onDisk.state === expected.state && onDisk.jobQueued === expected.jobQueued) {
      if (missed.length) console.log(`[crash at "${state}"] landed on attempt ${attempt}; missed before: ${missed.join('; ')}`);
      return { server, bytes, file, store, record, onDisk };
    }
    missed.push(`state ${onDisk.state}, job queued ${onDisk.jobQueued}`);
  }
  throw new Error(`the kill -9 never fell at "${expected.state}" (job queued ${expected.jobQueued}) in ${ATTEMPTS} attempts: ${missed.join('; ')}`);
}

/** Resumes with the same store and file through a new Uploader; rejects at once on `failFast`. */
function resume(server: DevServer, store: MemoryUploadStore, file: File, failFast?: Promise<never>) {
  const client = instrumentedFetch();
  const upload = new Uploader({ endpoint: server.url, fetch: client.fetchImpl, store }).add(file, { concurrency: 3 });
  const states: ClientState[] = [];
  upload.on('state', ({ state }) => states.push(state));
  cleanups.push(() => closeTab(upload, client));
  const done = failFast ? Promise.race([upload.done, failFast]) : upload.done;
  return { client, upload, states, done };
}

async function downloadSha(server: DevServer, id: string): Promise<{ sha: string; etag: string | null }> {
  const res = await fetch(`${server.url}/media/${id}`);
  expect(res.status).toBe(200);
  return { sha: sha256(new Uint8Array(await res.arrayBuffer())), etag: res.headers.get('etag') };
}

/**
 * Exactly once: the server's states after the restart move forward only and say `ready` once; a
 * little later nothing has touched the upload again (same `updatedAt`, same object ETag).
 */
async function expectReadyExactlyOnce(server: DevServer, id: string, token: string, observed: string[], clientStates: ClientState[]) {
  const order = ['created', 'uploading', 'assembling', 'validating', 'processing', 'ready'];
  const ranks = observed.map((s) => order.indexOf(s));
  expect(ranks.every((r) => r >= 0), `states after restart: ${observed.join(' → ')}`).toBe(true);
  for (let i = 1; i < ranks.length; i++) expect(ranks[i]!, `states after restart: ${observed.join(' → ')}`).toBeGreaterThanOrEqual(ranks[i - 1]!);
  expect(observed.filter((s) => s === 'ready')).toHaveLength(1);
  expect(clientStates.filter((s) => s === 'ready')).toHaveLength(1);
  const first = await getManifest(server, id, token);
  const media = await downloadSha(server, id);
  await new Promise((r) => setTimeout(r, 1500));
  const later = await getManifest(server, id, token);
  expect(later.state).toBe('ready');
  expect(later.updatedAt).toBe(first.updatedAt);
  expect((await downloadSha(server, id)).etag).toBe(media.etag);
  return { manifest: later, ...media };
}

// ---- the scenarios --------------------------------------------------------------------------

describe('crash (kill -9) and restart of the runtime', () => {
  it('mid-transfer: the resumed client sends only the parts the server had not confirmed, bytes identical', async () => {
    const server = await freshServer();
    const { bytes, file } = sourceFile(71, 'crash-mid.pdf');
    const store = new MemoryUploadStore();
    const first = instrumentedFetch();
    // Part 4 goes out over a slow link: its first MiB is sent (the server has leased the part and
    // is streaming it into R2), the rest is held back. Crash once 3 parts are confirmed and part 4
    // has been on the wire for a moment: a crash with a part certainly in flight.
    const VICTIM = 4;
    let stalled!: () => void;
    const victimOnTheWire = new Promise<void>((resolve) => (stalled = resolve)).then(() => new Promise((r) => setTimeout(r, 400)));
    first.state.stall = { part: VICTIM, afterBytes: MiB, onStalled: () => stalled() };
    let threeConfirmed!: () => void;
    const confirmedEnough = new Promise<void>((resolve) => (threeConfirmed = resolve));
    first.state.onAnswer = () => {
      if (first.confirmed().size >= 3) threeConfirmed();
    };
    const tab = new Uploader({ endpoint: server.url, fetch: first.fetchImpl, store }).add(file, { concurrency: 3 });
    await withTimeout(Promise.all([victimOnTheWire, confirmedEnough]), 60_000, 'the crash point (3 parts confirmed, part 4 on the wire)');
    first.state.dead = true;
    const inFlightAtCrash = [...first.inflight].sort((a, b) => a - b);
    await server.crash();
    closeTab(tab, first);
    const confirmedBeforeCrash = [...first.confirmed()].sort((a, b) => a - b);
    const record = (await store.list())[0]!;
    const onDisk = sessionOnDisk(server.persistDir, record.uploadId);
    expect(onDisk.state).toBe('uploading');
    // Part leases live in the Durable Object's memory: nothing of them survives the crash on disk.
    expect(inFlightAtCrash, 'part 4 was on the wire when the runtime died').toContain(VICTIM);
    expect(onDisk.parts).not.toContain(VICTIM);

    const again = await restart(server);
    const atRestart = await getManifest(again, record.uploadId, record.uploadToken);
    // Durable: every part the client was told about, and the manifest as it was on disk.
    expect(atRestart.parts.map((p) => p.partNumber)).toEqual(onDisk.parts);
    for (const n of confirmedBeforeCrash) expect(onDisk.parts).toContain(n);
    expect(atRestart.confirmedBytes).toBe(onDisk.parts.length * PART_SIZE);

    // A PUT refused as "in flight" after the restart is refused for a PUT that died with the old
    // runtime: nobody else is sending that part. Fail at once rather than wait out the lease.
    let staleLease!: (error: Error) => void;
    const stale = new Promise<never>((_, reject) => (staleLease = reject));
    const resumed = resume(again, store, file, stale);
    resumed.client.state.onAnswer = (part, res) => {
      if (res.status === 409) {
        staleLease(
          new Error(
            `after the restart, part ${part} was refused with 409 ERR_PART_IN_FLIGHT (Retry-After: ${res.headers.get('retry-after')} s), ` +
              `though its only PUT died in the crash (parts in flight then: ${inFlightAtCrash.join(', ')})`,
          ),
        );
      }
    };
    expect(await withTimeout(resumed.done, 90_000, 'the resumed upload')).toBe('ready');
    expect(resumed.upload.id).toBe(record.uploadId);

    const resent = resumed.client.puts.filter((p) => p.status === 200).map((p) => p.part).sort((a, b) => a - b);
    expect(resent).toEqual(atRestart.missingParts);
    for (const n of confirmedBeforeCrash) expect(resent).not.toContain(n);
    expect(new Set([...onDisk.parts, ...resent]).size).toBe(PART_COUNT);
    const { sha } = await downloadSha(again, record.uploadId);
    expect(sha).toBe(sha256(bytes));
    const inFlightKept = inFlightAtCrash.filter((n) => onDisk.parts.includes(n));
    console.log(
      `[crash mid-transfer] 64 MiB, ${PART_COUNT} parts: kill -9 with parts ${confirmedBeforeCrash.join(',')} confirmed to the client and ` +
        `${inFlightAtCrash.join(',')} in flight (part ${VICTIM} 1 MiB in; ${inFlightKept.length ? `${inFlightKept.join(',')} had been committed` : 'none committed'}); ` +
        `after restart the manifest held ${onDisk.parts.length} parts, the client re-sent only ${resent.join(',')} ` +
        `(${resumed.client.puts.length} PUTs, ${(resent.length * PART_SIZE) / MiB} MiB), SHA-256 equal, 0 bytes lost`,
    );
  });

  it('between "all parts confirmed" and assembly: assembles after the restart, ready exactly once', async () => {
    // The session says "assembling" when it records the last part, before its alarm completes R2.
    const { server, bytes, file, store, record, onDisk } = await crashWhen(72, 'crash-assembling.pdf', 'assembling', 0, {
      state: 'assembling',
      jobQueued: 0,
    });
    expect(onDisk.parts).toHaveLength(PART_COUNT);

    const again = await restart(server);
    const watcher = await subscribe(again, record.uploadId, record.uploadToken);
    const resumed = resume(again, store, file);
    expect(await withTimeout(resumed.done, 60_000, 'the resumed upload')).toBe('ready');
    expect(resumed.client.puts, 'no part is sent again: all were confirmed').toEqual([]);
    const once = await expectReadyExactlyOnce(again, record.uploadId, record.uploadToken, watcher.states(), resumed.states);
    expect(once.sha).toBe(sha256(bytes));
    console.log(
      `[crash before assembly] kill -9 with all ${PART_COUNT} parts confirmed and the session "assembling" on disk ` +
        `(the last part's 200 never reached the client); after restart: 0 parts re-sent, states ${watcher.states().join(' → ')}, ` +
        `ready once, object ETag ${once.etag} stable, SHA-256 equal`,
    );
  });

  it('between assembly and processing: the queued job still runs after the restart, ready exactly once', async () => {
    // Assembled and handed to the queue; the consumer waits up to max_batch_timeout (1 s) for a
    // batch, so 250 ms later the job is queued and not yet processed.
    const { server, bytes, file, store, record } = await crashWhen(73, 'crash-validating.pdf', 'validating', 250, {
      state: 'validating',
      jobQueued: 1,
    });

    const again = await restart(server);
    const watcher = await subscribe(again, record.uploadId, record.uploadToken);
    const resumed = resume(again, store, file);
    const outcome = await withTimeout(resumed.done, 45_000, 'the resumed upload').catch(async (error: Error) => {
      const manifest = await getManifest(again, record.uploadId, record.uploadToken);
      throw new Error(
        `${error.message}; the upload is still "${manifest.state}" ${45} s after the restart: the processing job queued before ` +
          `the crash was lost with the runtime and nothing queues it again`,
      );
    });
    expect(outcome).toBe('ready');
    expect(resumed.client.puts).toEqual([]);
    const once = await expectReadyExactlyOnce(again, record.uploadId, record.uploadToken, watcher.states(), resumed.states);
    expect(once.sha).toBe(sha256(bytes));
    console.log(
      `[crash before processing] kill -9 with the session "validating" and its job queued on disk; after restart: ` +
        `0 parts re-sent, states ${watcher.states().join(' → ')}, ready once, ETag ${once.etag} stable, SHA-256 equal`,
    );
  });
});
