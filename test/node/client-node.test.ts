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
});
