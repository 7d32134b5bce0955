/**
 * Import from a URL against `wrangler dev`, with real HTTP sources started here on 127.0.0.1: an
 * honest one with Range support, one that redirects, loops, answers 404, lies about its length,
 * drops the connection mid-body, sends no length at all, or trickles forever.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdf, sha256 } from '../e2e/fixtures';
import { useDevServer } from '../e2e/use-dev-server';

const MiB = 1024 * 1024;
/** Long enough for every honest import here, short enough that the trickling source hits it. */
const IMPORT_TIMEOUT_SECONDS = 20;
/**
 * Small limits, so sources without a length can pass them: 40 MiB per file, 28 MiB stored per
 * owner (the 12 MiB FILE, stored once and shared by every import of it here, plus one more at a time).
 */
const MAX_FILE_SIZE = 40 * MiB;
const QUOTA = 28 * MiB;
const server = useDevServer({
  vars: { IMPORT_TIMEOUT_SECONDS: String(IMPORT_TIMEOUT_SECONDS), MAX_FILE_SIZE: String(MAX_FILE_SIZE), QUOTA_MAX_STORED_BYTES: String(QUOTA) },
});

const FILE = pdf(12 * MiB + 5, 701);
const ETAG = `"${sha256(FILE).slice(0, 16)}"`;
/** Range headers each path received, in order. */
const ranges = new Map<string, (string | null)[]>();
/** GETs of the /drop.pdf source so far (the first one is cut off). */
let drops = 0;
let source: Server;
let origin = '';

/** Serves FILE honestly: 200 with Content-Length, or 206 for `Range: bytes=N-` (If-Range checked). */
function serveFile(req: IncomingMessage, res: ServerResponse, body: Buffer, opts: { ranges: boolean; cutAt?: number }): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  const headers: Record<string, string> = { 'Content-Type': 'application/pdf', ETag: ETAG };
  if (opts.ranges) headers['Accept-Ranges'] = 'bytes';
  let start = 0;
  if (opts.ranges && range && (!ifRange || ifRange === ETAG)) {
    start = Number(range[1]);
    headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(206, { ...headers, 'Content-Length': String(body.length - start) });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
  }
  const slice = body.subarray(start);
  if (opts.cutAt !== undefined) {
    // Send part of it, then break the connection mid-body.
    res.write(slice.subarray(0, opts.cutAt), () => setTimeout(() => res.socket?.destroy(), 200));
    return;
  }
  res.end(slice);
}

/** No Content-Length: the importer learns the size only when the body ends. */
function sendChunked(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'Content-Type': 'application/pdf', 'Transfer-Encoding': 'chunked' });
  let offset = 0;
  const next = () => {
    if (offset >= body.length || res.destroyed) return res.end();
    const chunk = body.subarray(offset, offset + 3 * MiB + 17);
    offset += chunk.length;
    res.write(chunk, next);
  };
  next();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  ranges.set(path, [...(ranges.get(path) ?? []), req.headers.range ?? null]);
  switch (path) {
    case '/file.pdf':
      return serveFile(req, res, FILE, { ranges: true });
    case '/hop1':
      res.writeHead(302, { Location: '/hop2' }).end();
      return;
    case '/hop2':
      res.writeHead(301, { Location: `${origin}/hop3` }).end();
      return;
    case '/hop3':
      res.writeHead(307, { Location: '/file.pdf' }).end();
      return;
    case '/loop-a':
      res.writeHead(302, { Location: '/loop-b' }).end();
      return;
    case '/loop-b':
      res.writeHead(302, { Location: '/loop-a' }).end();
      return;
    case '/to-metadata':
      // A redirect to a cloud metadata address must be refused before anything is fetched there.
      res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    case '/missing':
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not here');
      return;
    case '/huge':
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': String(6 * 1024 * MiB) });
      res.write(FILE.subarray(0, 1024));
      return; // never finishes: the import must refuse from the headers
    case '/lying.pdf': {
      // Declares 12 MiB, sends 6 MiB and closes; no Range support, so nothing can resume.
      return serveFile(req, res, FILE, { ranges: false, cutAt: 6 * MiB });
    }
    case '/drop.pdf': {
      drops += 1;
      // The first GET breaks after 7 MiB; the source serves ranges, so the import continues there.
      return serveFile(req, res, FILE, { ranges: true, ...(drops === 1 ? { cutAt: 7 * MiB } : {}) });
    }
    case '/chunked.pdf':
      return sendChunked(res, FILE);
    case '/chunked-over-limit.pdf':
      return sendChunked(res, pdf(MAX_FILE_SIZE + 3 * MiB, 702));
    case '/chunked-over-quota.pdf':
      return sendChunked(res, pdf(QUOTA - 4 * MiB, 703));
    case '/slow.pdf': {
      // Honest headers, then a trickle that would take hours.
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': String(FILE.length) });
      let offset = 0;
      const timer = setInterval(() => {
        if (res.destroyed || offset >= FILE.length) return clearInterval(timer);
        res.write(FILE.subarray(offset, offset + 1024));
        offset += 1024;
      }, 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  source = createServer(handle);
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(source.address() as { port: number }).port}`;
});
afterAll(async () => {
  source.closeAllConnections();
  await new Promise((resolve) => source.close(resolve));
});

interface Created {
  id: string;
  uploadToken: string;
  size: number | null;
  name: string;
  import: { state: string; size: number | null };
}

async function importFrom(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${server().url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function created(body: Record<string, unknown>): Promise<Created> {
  const res = await importFrom(body);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as Created;
}

async function expectRefused(body: Record<string, unknown>, status: number, code: string): Promise<string> {
  const res = await importFrom(body);
  const json = (await res.json()) as { error: { code: string; message: string } };
  expect(res.status, JSON.stringify(json)).toBe(status);
  expect(json.error.code).toBe(code);
  return json.error.message;
}

const authed = (up: Created) => ({ headers: { authorization: `Bearer ${up.uploadToken}` } });

/** Waits for the import to finish, then (when it succeeded) for the upload to be processed. */
async function settle(up: Created): Promise<{ importState: { state: string; reason?: { code: string; message: string }; receivedBytes: number | null; resumable: boolean }; manifest: { state: string; size: number | null; reason?: string; confirmedBytes: number } }> {
  let last = '';
  for (let i = 0; i < 600; i++) {
    const importState = (await (await fetch(`${server().url}/api/uploads/${up.id}/import`, authed(up))).json()) as Awaited<ReturnType<typeof settle>>['importState'];
    const manifest = (await (await fetch(`${server().url}/api/uploads/${up.id}`, authed(up))).json()) as Awaited<ReturnType<typeof settle>>['manifest'];
    const finished = ['ready', 'rejected', 'failed', 'aborted', 'expired'].includes(manifest.state);
    if (importState.state === 'failed' || (importState.state === 'done' && finished)) return { importState, manifest };
    last = JSON.stringify({ importState, manifest: { state: manifest.state, size: manifest.size, confirmedBytes: manifest.confirmedBytes } });
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the import never settled: ${last}`);
}

async function served(id: string): Promise<string> {
  const res = await fetch(`${server().url}/media/${id}`);
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

describe('import from a URL', () => {
  it('streams a remote file into an upload that is validated and served like any other; name and type from the source', async () => {
    const up = await created({ sourceUrl: `${origin}/file.pdf` });
    expect(up).toMatchObject({ size: FILE.length, name: 'file.pdf', import: { state: 'running', size: FILE.length } });
    const { importState, manifest } = await settle(up);
    expect(importState.state).toBe('done');
    expect(manifest.state).toBe('ready');
    expect(await served(up.id)).toBe(sha256(FILE));
  });

  it('follows up to 5 redirects, each checked again', async () => {
    const up = await created({ sourceUrl: `${origin}/hop1`, name: 'renamed.pdf' });
    expect(up.name).toBe('renamed.pdf');
    expect((await settle(up)).manifest.state).toBe('ready');
    expect(await served(up.id)).toBe(sha256(FILE));
  });

  it('refuses at creation, with a reason, and creates nothing: loop, 404, too large, redirect to an internal address', async () => {
    expect(await expectRefused({ sourceUrl: `${origin}/loop-a` }, 400, 'ERR_IMPORT_REDIRECTS')).toMatch(/more than 5/);
    expect(await expectRefused({ sourceUrl: `${origin}/missing` }, 422, 'ERR_IMPORT_SOURCE_STATUS')).toMatch(/404/);
    await expectRefused({ sourceUrl: `${origin}/huge` }, 413, 'ERR_IMPORT_TOO_LARGE');
    await expectRefused({ sourceUrl: `${origin}/to-metadata` }, 400, 'ERR_IMPORT_REDIRECTS');
    expect(ranges.get('/to-metadata')).toHaveLength(1);
  });

  it('refuses URLs it must not fetch, before any request: credentials, other schemes, plain http off loopback, internal https', async () => {
    await expectRefused({ sourceUrl: `http://user:secret@127.0.0.1:1/file.pdf` }, 400, 'ERR_IMPORT_CREDENTIALS');
    await expectRefused({ sourceUrl: 'ftp://example.com/file.pdf' }, 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    await expectRefused({ sourceUrl: 'http://example.com/file.pdf' }, 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    await expectRefused({ sourceUrl: 'https://10.0.0.8/file.pdf' }, 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    await expectRefused({ sourceUrl: 'https://[fd00::1]/file.pdf' }, 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    await expectRefused({ sourceUrl: 'not a url' }, 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    // The same checks as any upload: the allowlist.
    await expectRefused({ sourceUrl: `${origin}/file.pdf`, type: 'text/html' }, 415, 'ERR_TYPE_NOT_ALLOWED');
  });

  it('a connection dropped mid-body is resumed with Range from the upload offset; the bytes are identical', async () => {
    const up = await created({ sourceUrl: `${origin}/drop.pdf` });
    const { importState, manifest } = await settle(up);
    expect(importState.state, JSON.stringify(importState)).toBe('done');
    expect(manifest.state).toBe('ready');
    expect(await served(up.id)).toBe(sha256(FILE));
    const asked = ranges.get('/drop.pdf')!;
    expect(asked[0]).toBeNull();
    // Resumed from what was confirmed or staged: after the start, no later than where the cut came.
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(asked[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(7 * MiB);
  });

  it('a lying Content-Length (fewer bytes, no Range support) fails with ERR_IMPORT_TRUNCATED and the upload is removed', async () => {
    const up = await created({ sourceUrl: `${origin}/lying.pdf` });
    const { importState, manifest } = await settle(up);
    expect(importState.state).toBe('failed');
    expect(importState.reason?.code).toBe('ERR_IMPORT_TRUNCATED');
    expect(importState.resumable).toBe(false);
    expect(manifest).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^ERR_IMPORT_TRUNCATED: /) });
    expect((await fetch(`${server().url}/api/uploads/${up.id}/import`, { ...authed(up), method: 'POST' })).status).toBe(409);
  });

  it('a source without a length: the size is learnt at the end', async () => {
    const up = await created({ sourceUrl: `${origin}/chunked.pdf` });
    expect(up.size).toBeNull();
    const { manifest } = await settle(up);
    expect(manifest).toMatchObject({ state: 'ready', size: FILE.length });
    expect(await served(up.id)).toBe(sha256(FILE));
  });

  it('a source without a length is held to the file size limit and the storage quota while it streams', async () => {
    const overLimit = await created({ sourceUrl: `${origin}/chunked-over-limit.pdf` });
    const limit = await settle(overLimit);
    expect(limit.importState.reason?.code).toBe('ERR_IMPORT_TOO_LARGE');
    // (The quota, checked every 8 MiB, may stop it first here: either way it is refused while streaming.)
    expect(limit.importState.reason?.message).toMatch(/limit|quota/);
    expect(limit.manifest).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^ERR_IMPORT_TOO_LARGE: /) });
    // With FILE (12 MiB) stored, 24 MiB more is within the file limit but not within the 28 MiB quota.
    expect((await settle(await created({ sourceUrl: `${origin}/file.pdf` }))).manifest.state).toBe('ready');
    const overQuota = await created({ sourceUrl: `${origin}/chunked-over-quota.pdf` });
    const quota = await settle(overQuota);
    expect(quota.importState.reason?.code).toBe('ERR_IMPORT_TOO_LARGE');
    expect(quota.importState.reason?.message).toMatch(/quota/);
    expect(quota.manifest).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^ERR_IMPORT_TOO_LARGE: /) });
  });

  it(`a source slower than the time limit (${IMPORT_TIMEOUT_SECONDS} s) fails with ERR_IMPORT_TIMEOUT and the upload is removed`, async () => {
    const up = await created({ sourceUrl: `${origin}/slow.pdf` });
    const { importState, manifest } = await settle(up);
    expect(importState.state).toBe('failed');
    expect(importState.reason?.code).toBe('ERR_IMPORT_TIMEOUT');
    expect(manifest).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^ERR_IMPORT_TIMEOUT: /) });
  });
});
