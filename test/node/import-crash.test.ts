/**
 * An import whose runtime dies mid-body (wrangler dev killed -9) continues after a restart, on
 * `POST /api/uploads/:id/import`, from the last confirmed part, with a Range request; the file
 * arrives byte-identical. The source is a local HTTP server that holds its body back after 9 MiB
 * until the runtime is gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../e2e/dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const FILE = pdf(20 * MiB + 3, 711);
const ETAG = '"crash-file-1"';
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('import from a URL after a crash', () => {
  it('resumes from the last confirmed part with Range after wrangler dev is killed -9 mid-body', async () => {
    const ranges: (string | null)[] = [];
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    const source: Server = createServer((req, res) => {
      ranges.push(req.headers.range ?? null);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const headers = { 'Content-Type': 'application/pdf', 'Accept-Ranges': 'bytes', ETag: ETAG };
      if (range && req.headers['if-range'] === ETAG) {
        const start = Number(range[1]);
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${FILE.length - 1}/${FILE.length}`, 'Content-Length': String(FILE.length - start) });
        res.end(FILE.subarray(start));
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Length': String(FILE.length) });
      // 9 MiB, then nothing until the runtime has been killed.
      res.write(FILE.subarray(0, 9 * MiB));
      void held.then(() => res.destroy());
    });
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      releaseHeld();
      source.closeAllConnections();
      return new Promise((resolve) => source.close(() => resolve()));
    });
    const origin = `http://127.0.0.1:${(source.address() as { port: number }).port}`;

    const persistDir = mkdtempSync(join(tmpdir(), 'import-crash-'));
    cleanups.push(() => rmSync(persistDir, { recursive: true, force: true }));
    let server: DevServer = await startDevServer({ persistDir });
    cleanups.push(() => server.stop(true));

    const res = await fetch(`${server.url}/api/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sourceUrl: `${origin}/big.pdf` }),
    });
    expect(res.status).toBe(201);
    const up = (await res.json()) as { id: string; uploadToken: string; partSize: number };
    const auth = { authorization: `Bearer ${up.uploadToken}` };
    // Wait until the first part (8 MiB) is confirmed; the source then holds back after 9 MiB.
    for (let i = 0; i < 300; i++) {
      const manifest = (await (await fetch(`${server.url}/api/uploads/${up.id}`, { headers: auth })).json()) as { confirmedBytes: number };
      if (manifest.confirmedBytes >= up.partSize) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.crash();
    releaseHeld();

    server = await startDevServer({ persistDir, port: server.port });
    const before = (await (await fetch(`${server.url}/api/uploads/${up.id}/import`, { headers: auth })).json()) as { state: string; receivedBytes: number };
    // Nothing ran the import to an end: its record still says running; the session kept the confirmed part.
    expect(before).toMatchObject({ state: 'running', receivedBytes: up.partSize });
    const resumed = await fetch(`${server.url}/api/uploads/${up.id}/import`, { method: 'POST', headers: auth });
    expect(resumed.status, await resumed.clone().text()).toBe(202);
    let state = '';
    for (let i = 0; i < 300 && !['ready', 'failed', 'rejected', 'aborted'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = ((await (await fetch(`${server.url}/api/uploads/${up.id}`, { headers: auth })).json()) as { state: string }).state;
    }
    expect(state).toBe('ready');
    expect(ranges).toEqual([null, `bytes=${up.partSize}-`]);
    const media = await fetch(`${server.url}/media/${up.id}`);
    expect(sha256(new Uint8Array(await media.arrayBuffer()))).toBe(sha256(FILE));
    expect(((await (await fetch(`${server.url}/api/uploads/${up.id}/import`, { headers: auth })).json()) as { state: string }).state).toBe('done');
  });
});
