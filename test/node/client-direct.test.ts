/**
 * The client library's direct-to-R2 mode against `wrangler dev` (its local S3 API checks SigV4):
 * parts go straight to R2, URLs and ETags travel in batches, and every request of an upload is
 * counted in each mode.
 */
import { describe, expect, it } from 'vitest';
import { Uploader } from '../../src/client/index';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const server = useDevServer();

/** Every request an upload makes (reads of config and the final manifest are not the upload's writes). */
function countingFetch() {
  const requests: string[] = [];
  const fetchImpl: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (method !== 'GET') requests.push(`${method} ${url.pathname.includes('/cdn-cgi/local/r2/') ? 'R2' : url.pathname.replace(/[0-9a-f]{32}/, ':id')}`);
    return fetch(input, init);
  };
  return { requests, fetchImpl };
}

async function upload(direct: boolean, seed: number) {
  const bytes = pdf(21 * MiB + 9, seed);
  const { requests, fetchImpl } = countingFetch();
  const progress: number[] = [];
  const up = new Uploader({ endpoint: server().url, fetch: fetchImpl }).add(new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), {
    name: 'direct.pdf',
    partSize: 5 * MiB,
    direct,
  });
  up.on('progress', (p) => progress.push(p.confirmedBytes));
  expect(await up.done).toBe('ready');
  const res = await fetch(new URL(up.manifest!.result!.url, server().url));
  expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes));
  for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
  expect(progress.at(-1)).toBe(bytes.length);
  return requests;
}

describe('client library, direct-to-R2 mode', () => {
  it('sends every part straight to R2 in N + 2 requests (URLs with the create answer, one ETag batch)', async () => {
    const requests = await upload(true, 71);
    const n = 5;
    expect(requests.filter((r) => r === 'PUT R2')).toHaveLength(n);
    expect(requests.filter((r) => /\/parts\/\d+$/.test(r))).toEqual([]); // nothing through the Worker
    expect(requests).toEqual(['POST /api/uploads', ...Array<string>(n).fill('PUT R2'), 'PUT /api/uploads/:id/parts/etags']);
    console.log(`direct mode: ${requests.length} requests for ${n} parts`);
  });

  it('the native mode, for comparison: at most N + 2 requests (create, parts, and complete unless the last part already started assembly)', async () => {
    const requests = await upload(false, 72);
    expect(requests.filter((r) => r === 'PUT R2')).toEqual([]);
    const expected = ['POST /api/uploads', ...[1, 2, 3, 4, 5].map((n) => `PUT /api/uploads/:id/parts/${n}`)];
    expect([...requests.slice(0, 6)].sort()).toEqual(expected.sort());
    expect(requests.length).toBeLessThanOrEqual(5 + 2);
    console.log(`native mode: ${requests.length} requests for 5 parts`);
  });
});
