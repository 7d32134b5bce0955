/**
 * Many files at once through the client library against `wrangler dev` with a small quota of
 * unfinished uploads per owner (4): the Uploader opens at most that many on the server, the rest
 * wait as `idle`, and every file still arrives. Before, a page that dropped more files than the
 * quota had the surplus fail with ERR_QUOTA_ACTIVE_UPLOADS.
 */
import { describe, expect, it } from 'vitest';
import { MemoryUploadStore, Uploader, type ClientState, type Upload } from '../../src/client/index';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const QUOTA = 4;
const server = useDevServer({ vars: { QUOTA_MAX_ACTIVE_UPLOADS: String(QUOTA) } });

/** Counts create answers by status. */
function createCounter() {
  const statuses: number[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (init?.method === 'POST' && new URL(String(input)).pathname === '/api/uploads') statuses.push(res.status);
    return res;
  };
  return { statuses, fetchImpl };
}

const OPEN: readonly ClientState[] = ['validating', 'uploading', 'paused', 'processing'];

describe('client library: more files than the server lets one owner open', () => {
  it(`30 files added at once with a quota of ${QUOTA}: all ready, never more than ${QUOTA} open, the rest wait as idle`, async () => {
    const config = await (await fetch(`${server().url}/api/config`)).json();
    expect(config).toMatchObject({ maxActiveUploads: QUOTA });
    const { statuses, fetchImpl } = createCounter();
    const uploader = new Uploader({ endpoint: server().url, fetch: fetchImpl, store: new MemoryUploadStore() });
    const files = Array.from({ length: 30 }, (_, i) => pdf(150_000 + i, 900 + i));
    const uploads: Upload[] = [];
    let mostOpen = 0;
    const waited = new Set<string>();
    const idleReasons = new Set<string | undefined>();
    const track = (upload: Upload) =>
      upload.on('state', ({ state, reasonCode }) => {
        // Validation runs for every file at once (it needs no slot); an open upload is one past it.
        const open = uploads.filter((u) => OPEN.includes(u.state) && u.id !== undefined).length;
        mostOpen = Math.max(mostOpen, open);
        if (state === 'idle') {
          waited.add(upload.localId);
          idleReasons.add(reasonCode);
        }
      });
    for (const [i, bytes] of files.entries()) {
      const upload = uploader.add(new File([new Uint8Array(bytes)], `many-${i}.pdf`, { type: 'application/pdf', lastModified: i }));
      uploads.push(upload);
      track(upload);
    }
    const states = await Promise.all(uploads.map((u) => u.done));
    expect(states).toEqual(files.map(() => 'ready'));
    expect(mostOpen).toBeLessThanOrEqual(QUOTA);
    expect(mostOpen).toBeGreaterThan(1);
    expect(waited.size).toBeGreaterThanOrEqual(30 - QUOTA);
    expect([...idleReasons]).toEqual(['reason.queued']);
    // The Uploader kept under the quota by itself: no create was refused.
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(statuses).toHaveLength(30);
    // And the bytes are the files'.
    for (const [i, upload] of uploads.entries()) {
      const res = await fetch(new URL(upload.manifest!.result!.url, server().url));
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(files[i]!));
    }
  });

  it('the quota held elsewhere (another tab): waits as idle on 429, then finishes when those uploads end', async () => {
    // Another tab holds every slot the owner has.
    const elsewhere: { id: string; uploadToken: string }[] = [];
    for (let i = 0; i < QUOTA; i++) {
      const res = await fetch(`${server().url}/api/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `other-tab-${i}.pdf`, size: 6_000_000, type: 'application/pdf' }),
      });
      expect(res.status).toBe(201);
      elsewhere.push((await res.json()) as { id: string; uploadToken: string });
    }
    const { statuses, fetchImpl } = createCounter();
    const uploader = new Uploader({ endpoint: server().url, fetch: fetchImpl, store: new MemoryUploadStore() });
    const bytes = [pdf(120_000, 950), pdf(130_000, 951)];
    const uploads = bytes.map((b, i) => uploader.add(new File([new Uint8Array(b)], `this-tab-${i}.pdf`, { type: 'application/pdf', lastModified: 50 + i })));
    const waiting = uploads.map(
      (upload) => new Promise<string | undefined>((resolve) => upload.on('state', ({ state, reasonCode }) => state === 'idle' && resolve(reasonCode))),
    );
    expect(await Promise.all(waiting)).toEqual(['reason.queued', 'reason.queued']);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === 429)).toBe(true);
    expect(uploads.map((u) => u.state)).toEqual(['idle', 'idle']);

    // The other tab finishes (cancels) two of its uploads: this tab's files go through.
    for (const other of elsewhere.slice(0, 2)) {
      const res = await fetch(`${server().url}/api/uploads/${other.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.uploadToken}` } });
      expect(res.ok).toBe(true);
    }
    expect(await Promise.all(uploads.map((u) => u.done))).toEqual(['ready', 'ready']);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
    for (const other of elsewhere.slice(2)) {
      await fetch(`${server().url}/api/uploads/${other.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.uploadToken}` } });
    }
  });

  it('the same file added twice while the first is open: two uploads of its own, both ready (direct mode too)', async () => {
    for (const direct of [false, true]) {
      const store = new MemoryUploadStore();
      // Part PUTs (to us, or to R2 in direct mode) wait until the second upload exists, so the
      // first is open, with its resume record stored, when the second looks for one.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const fetchImpl: typeof fetch = async (input, init) => {
        if (init?.method === 'PUT') await gate;
        return fetch(input, init);
      };
      const uploader = new Uploader({ endpoint: server().url, store, fetch: fetchImpl });
      const bytes = pdf(6 * 1024 * 1024, direct ? 971 : 970);
      const file = new File([new Uint8Array(bytes)], `twice-${direct}.pdf`, { type: 'application/pdf', lastModified: 70 });
      const first = uploader.add(file, { partSize: 5 * 1024 * 1024, direct });
      await new Promise<void>((resolve) => first.on('state', ({ state }) => state === 'uploading' && resolve()));
      expect(await store.list()).toHaveLength(1);
      const second = uploader.add(file, { partSize: 5 * 1024 * 1024, direct });
      await new Promise<void>((resolve) => second.on('state', ({ state }) => state === 'uploading' && resolve()));
      open();
      expect(await Promise.all([first.done, second.done])).toEqual(['ready', 'ready']);
      expect(second.id).not.toBe(first.id);
      for (const upload of [first, second]) {
        const res = await fetch(new URL(upload.manifest!.result!.url, server().url));
        expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes));
      }
      expect(await store.list()).toEqual([]);
    }
  });

  it('a file cancelled while it waits for a slot never reaches the server and frees its place', async () => {
    const { statuses, fetchImpl } = createCounter();
    const uploader = new Uploader({ endpoint: server().url, fetch: fetchImpl, store: new MemoryUploadStore(), maxActiveUploads: 1 });
    const first = uploader.add(new File([new Uint8Array(pdf(6 * 1024 * 1024, 960))], 'first.pdf', { type: 'application/pdf', lastModified: 60 }), { partSize: 5 * 1024 * 1024 });
    await new Promise<void>((resolve) => first.on('state', ({ state }) => state === 'uploading' && resolve()));
    const second = uploader.add(new File([new Uint8Array(pdf(100_000, 961))], 'second.pdf', { type: 'application/pdf', lastModified: 61 }));
    const third = uploader.add(new File([new Uint8Array(pdf(100_000, 962))], 'third.pdf', { type: 'application/pdf', lastModified: 62 }));
    await new Promise<void>((resolve) => second.on('state', ({ state }) => state === 'idle' && resolve()));
    await second.cancel();
    expect(second.state).toBe('cancelled');
    expect(await Promise.all([first.done, third.done])).toEqual(['ready', 'ready']);
    expect(second.id).toBeUndefined();
    expect(statuses).toEqual([201, 201]);
    expect(() => new Uploader({ endpoint: server().url, maxActiveUploads: 0 })).toThrow(RangeError);
  });
});
