/**
 * The very same client library in Node 22 (global fetch, Blob, WebSocket) against `wrangler dev`:
 * what benchmarks and scripts use.
 */
import { describe, expect, it } from 'vitest';
import { MemoryUploadStore, Uploader, type ClientState } from '../../src/client/index';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const server = useDevServer();

/** A fetch that records part PUTs and can hold them back. */
function countingFetch() {
  const parts: number[] = [];
  const fetchImpl: typeof fetch = (input, init) => {
    const url = String(input);
    if (init?.method === 'PUT') parts.push(Number(url.split('/').pop()));
    return fetch(input, init);
  };
  return { parts, fetchImpl };
}

describe('client library in Node', () => {
  it('uploads a Blob in parallel parts, follows server events to ready, bytes identical', async () => {
    const bytes = pdf(21 * MiB + 9, 61);
    const { parts, fetchImpl } = countingFetch();
    const uploader = new Uploader({ endpoint: server().url, fetch: fetchImpl });
    const states: ClientState[] = [];
    const serverStates: string[] = [];
    const progress: number[] = [];
    const upload = uploader.add(new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), { name: 'node.pdf', partSize: 5 * MiB });
    upload.on('state', ({ state, serverState }) => {
      if (states.at(-1) !== state) states.push(state);
      if (serverState) serverStates.push(serverState);
    });
    upload.on('progress', (p) => progress.push(p.confirmedBytes));
    expect(await upload.done).toBe('ready');
    expect(states).toEqual(['validating', 'uploading', 'processing', 'ready']);
    // Each server state behind "processing" is reported as it happens.
    expect(serverStates).toEqual(expect.arrayContaining(['validating', 'processing', 'ready']));
    expect(parts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
    expect(progress.at(-1)).toBe(bytes.length);
    const res = await fetch(new URL(upload.manifest!.result!.url, server().url));
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('resumes from its store after a pause: only the missing parts are sent again', async () => {
    const bytes = pdf(26 * MiB, 62);
    const store = new MemoryUploadStore();
    const file = new File([new Uint8Array(bytes)], 'resume.pdf', { type: 'application/pdf', lastModified: 1_700_000_000_000 });
    const first = countingFetch();
    const a = new Uploader({ endpoint: server().url, fetch: first.fetchImpl, store }).add(file, { partSize: 5 * MiB, concurrency: 1 });
    await new Promise<void>((resolve) => a.on('progress', (p) => p.confirmedParts >= 2 && resolve()));
    a.pause();
    expect(a.state).toBe('paused');
    const confirmedBefore = a.progress.confirmedParts;

    // A new page load: a new Uploader, the same store, the same file.
    const second = countingFetch();
    const b = new Uploader({ endpoint: server().url, fetch: second.fetchImpl, store }).add(file, { partSize: 5 * MiB });
    expect(await b.done).toBe('ready');
    expect(b.id).toBe(a.id);
    expect(second.parts.length).toBe(6 - confirmedBefore);
    expect(new Set([...first.parts.slice(0, confirmedBefore), ...second.parts]).size).toBe(6);
    const res = await fetch(new URL(b.manifest!.result!.url, server().url));
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes));
    expect(await store.list()).toEqual([]);
  });

  it('cancel aborts the upload on the server', async () => {
    const uploader = new Uploader({ endpoint: server().url });
    const upload = uploader.add(new Blob([new Uint8Array(pdf(12 * MiB, 63))], { type: 'application/pdf' }), { name: 'cancel.pdf', partSize: 5 * MiB, concurrency: 1 });
    await new Promise<void>((resolve) => upload.on('progress', (p) => p.confirmedParts >= 1 && resolve()));
    const id = upload.id!;
    await upload.cancel();
    expect(await upload.done).toBe('cancelled');
    const manifest = await uploader.api.manifest(id, (upload as unknown as { token: string }).token);
    expect(manifest.state).toBe('aborted');
  });

  // Issue 18: `add()` starts on a microtask, so a cancel() in the same tick (React StrictMode's
  // mount → unmount → mount does exactly this) must still win, as must one at any later step.
  describe('cancel wins in every state, before the first request too', () => {
    /** Every request the client makes, and the upload ids it created, in order. */
    function recordingFetch(hold?: (method: string, path: string) => Promise<void> | undefined) {
      const requests: string[] = [];
      const created: { id: string; uploadToken: string }[] = [];
      const fetchImpl: typeof fetch = async (input, init) => {
        const method = init?.method ?? 'GET';
        const path = new URL(String(input)).pathname;
        requests.push(`${method} ${path}`);
        await hold?.(method, path);
        const res = await fetch(input, init);
        if (method === 'POST' && path === '/api/uploads' && res.ok) created.push((await res.clone().json()) as { id: string; uploadToken: string });
        return res;
      };
      return { requests, created, fetchImpl };
    }

    /** No part was sent; any upload the server created was deleted again and is aborted there. */
    async function expectNothingLeft(uploader: Uploader, log: ReturnType<typeof recordingFetch>) {
      expect(log.requests.filter((r) => r.startsWith('PUT '))).toEqual([]);
      for (const { id, uploadToken } of log.created) {
        expect(log.requests).toContain(`DELETE /api/uploads/${id}`);
        expect((await uploader.api.manifest(id, uploadToken)).state).toBe('aborted');
      }
      expect(await uploader.pending()).toEqual([]);
    }

    it('cancel() right after add(): no create, no part', async () => {
      const log = recordingFetch();
      const uploader = new Uploader({ endpoint: server().url, fetch: log.fetchImpl });
      const upload = uploader.add(new Blob([new Uint8Array(pdf(6 * MiB, 64))], { type: 'application/pdf' }), { name: 'now.pdf', partSize: 5 * MiB });
      const states: ClientState[] = [];
      upload.on('state', ({ state }) => states.push(state));
      void upload.cancel();
      expect(await upload.done).toBe('cancelled');
      // Give a wrongly scheduled start every chance to run.
      await new Promise((r) => setTimeout(r, 300));
      expect(upload.state).toBe('cancelled');
      expect(states).toEqual(['cancelled']);
      expect(log.requests.filter((r) => r.includes('/api/uploads'))).toEqual([]);
      await expectNothingLeft(uploader, log);
    });

    it('cancel() while the create request is in flight: the created upload is deleted, no part is sent', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let createSeen!: () => void;
      const seen = new Promise<void>((r) => (createSeen = r));
      const log = recordingFetch((method, path) => {
        if (method === 'POST' && path === '/api/uploads') {
          createSeen();
          return gate;
        }
        return undefined;
      });
      const uploader = new Uploader({ endpoint: server().url, fetch: log.fetchImpl });
      const upload = uploader.add(new Blob([new Uint8Array(pdf(6 * MiB, 65))], { type: 'application/pdf' }), { name: 'mid-create.pdf', partSize: 5 * MiB });
      await seen;
      const cancelled = upload.cancel();
      release();
      await cancelled;
      expect(await upload.done).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 300));
      expect(upload.state).toBe('cancelled');
      expect(log.created).toHaveLength(1);
      await expectNothingLeft(uploader, log);
    });

    it('cancel() while validating (config and file read under way): no create, no part', async () => {
      const log = recordingFetch();
      const uploader = new Uploader({ endpoint: server().url, fetch: log.fetchImpl });
      const upload = uploader.add(new Blob([new Uint8Array(pdf(6 * MiB, 66))], { type: 'application/pdf' }), { name: 'validating.pdf', partSize: 5 * MiB });
      await new Promise<void>((resolve) => upload.on('state', ({ state }) => state === 'validating' && resolve()));
      await upload.cancel();
      expect(await upload.done).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 300));
      expect(upload.state).toBe('cancelled');
      expect(log.requests.filter((r) => r.startsWith('POST /api/uploads'))).toEqual([]);
      await expectNothingLeft(uploader, log);
    });
  });
});

