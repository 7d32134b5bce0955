/**
 * Direct-to-R2 mode in few round trips (issue 17 item 7), against wrangler dev's local S3 API:
 * the create answer carries the first parts' URLs, a range of parts is presigned in one request,
 * ETags are recorded in one request, and every request of an upload is counted.
 */
import { describe, expect, it } from 'vitest';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const server = useDevServer();

interface Presigned {
  partNumber: number;
  url: string;
  size: number | null;
}
interface Created {
  id: string;
  uploadToken: string;
  partSize: number;
  partCount: number;
  direct?: { parts: Presigned[]; presign: string; etags: string };
}

/** Counts every request an upload makes: to the API and straight to R2 alike. */
function counter() {
  let requests = 0;
  return {
    get requests() {
      return requests;
    },
    fetch: (input: string | URL, init?: RequestInit) => {
      requests += 1;
      return fetch(input, init);
    },
  };
}

const auth = (u: Created) => ({ authorization: `Bearer ${u.uploadToken}` });
const slice = (bytes: Buffer, u: Created, n: number) => new Uint8Array(bytes).subarray((n - 1) * u.partSize, Math.min(n * u.partSize, bytes.length));

async function create(net: ReturnType<typeof counter>, size: number, extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await net.fetch(`${server().url}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'direct.pdf', size, type: 'application/pdf', partSize: 5 * MiB, ...extra }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json() as Promise<Created>;
}

async function putParts(net: ReturnType<typeof counter>, bytes: Buffer, u: Created, urls: Presigned[]) {
  return Promise.all(
    urls.map(async ({ partNumber, url }) => {
      const put = await net.fetch(url, { method: 'PUT', body: slice(bytes, u, partNumber) });
      expect(put.status, await put.clone().text()).toBe(200);
      return { partNumber, etag: put.headers.get('etag')! };
    }),
  );
}

async function reportEtags(net: ReturnType<typeof counter>, u: Created, parts: { partNumber: number; etag: string }[]) {
  return net.fetch(`${server().url}/api/uploads/${u.id}/parts/etags`, {
    method: 'PUT',
    headers: { ...auth(u), 'content-type': 'application/json' },
    body: JSON.stringify({ parts }),
  });
}

async function readyBytes(u: Created): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const manifest = (await (await fetch(`${server().url}/api/uploads/${u.id}`, { headers: auth(u) })).json()) as { state: string; reason?: string; result?: { url: string } };
    if (manifest.state === 'ready') return sha256(new Uint8Array(await (await fetch(new URL(manifest.result!.url, server().url))).arrayBuffer()));
    if (['rejected', 'failed'].includes(manifest.state)) throw new Error(`${manifest.state}: ${manifest.reason}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not ready');
}

describe('direct-to-R2 in batches', () => {
  it('create with "direct": true answers the first URLs; one ETag batch: N + 2 requests, byte-identical', async () => {
    const net = counter();
    const bytes = pdf(11 * MiB + 3, 91);
    const u = await create(net, bytes.length, { direct: true });
    expect(u.direct!.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const etags = await putParts(net, bytes, u, u.direct!.parts);
    const report = await reportEtags(net, u, etags);
    expect(report.status, await report.clone().text()).toBe(200);
    expect(((await report.json()) as { parts: unknown[] }).parts).toHaveLength(3);
    // The last ETag starts assembly: no complete call.
    expect(await readyBytes(u)).toBe(sha256(bytes));
    expect(net.requests).toBe(u.partCount + 2);
  });

  it('without "direct" the answer has no URLs; a range is presigned in one request: N + 3', async () => {
    const net = counter();
    const bytes = pdf(11 * MiB + 3, 92);
    const u = await create(net, bytes.length);
    expect(u.direct).toBeUndefined();
    // One range for every part; a range past the plan is cut at the last part.
    const batch = await net.fetch(`${server().url}/api/uploads/${u.id}/parts/presign`, {
      method: 'POST',
      headers: { ...auth(u), 'content-type': 'application/json' },
      body: JSON.stringify({ from: 1, to: 40 }),
    });
    expect(batch.status, await batch.clone().text()).toBe(200);
    const { parts: urls } = (await batch.json()) as { parts: Presigned[] };
    expect(urls.map((p) => [p.partNumber, p.size])).toEqual([[1, 5 * MiB], [2, 5 * MiB], [3, MiB + 3]]);
    const etags = await putParts(net, bytes, u, urls);
    expect((await reportEtags(net, u, etags)).status).toBe(200);
    expect(await readyBytes(u)).toBe(sha256(bytes));
    expect(net.requests).toBe(u.partCount + 3); // create, one presign batch, N PUTs, one ETag batch
  });

  it('refuses bad ranges and batches, and a batch stops at the first refused part, naming what it recorded', async () => {
    const net = counter();
    const bytes = pdf(6 * MiB, 93);
    const u = await create(net, bytes.length);
    const presign = (query: string) => fetch(`${server().url}/api/uploads/${u.id}/parts/presign?parts=${query}`, { method: 'POST', headers: auth(u) });
    for (const bad of ['0-3', '3-1', '1-1001', 'x']) expect((await presign(bad)).status, bad).toBe(400);
    const badBody = await fetch(`${server().url}/api/uploads/${u.id}/parts/presign`, { method: 'POST', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify({ from: 1 }) });
    expect(badBody.status).toBe(400);
    const put = (body: unknown) => fetch(`${server().url}/api/uploads/${u.id}/parts/etags`, { method: 'PUT', headers: { ...auth(u), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ parts: [] })).status).toBe(400);
    expect((await put({ parts: [{ partNumber: 1, etag: 'a' }, { partNumber: 1, etag: 'b' }] })).status).toBe(400);
    const [one] = await putParts(net, bytes, u, ((await (await presign('1')).json()) as { parts: Presigned[] }).parts);
    const partial = await put({ parts: [one, { partNumber: 7, etag: 'abc' }] });
    expect(partial.status).toBe(400);
    const error = ((await partial.json()) as { error: { code: string; details: { partNumber: number; recorded: number[] } } }).error;
    expect(error.code).toBe('ERR_PART_NUMBER');
    expect(error.details).toMatchObject({ partNumber: 7, recorded: [1] });
  });
});
