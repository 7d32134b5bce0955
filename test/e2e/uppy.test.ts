/**
 * Stock Uppy (@uppy/core + @uppy/aws-s3, Companion mode, bundled here with esbuild) in Chromium
 * against `wrangler dev`: a 3 MiB file through the POST-form path, a 30 MiB file as multipart with
 * a pause and a resume in the middle (only the missing parts re-sent), and again with pauses that
 * abort parts mid-transfer over a throttled link; all byte-identical at `location` and `ready` in
 * our own API. The page is served from another loopback origin, so CORS is exercised as in production.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page, Response as PwResponse, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser';
import { freePort, startDevServer, type DevServer } from './dev-server';
import { pdf, sha256 } from './fixtures';
import type { HarnessEvent } from './uppy-page/main';

const MiB = 1024 * 1024;
let server: DevServer;
let browser: Browser;
let site: Server;
let siteUrl: string;
let dir: string;
const small = pdf(3 * MiB, 71);
const large = pdf(30 * MiB + 4321, 72);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uppy-page-'));
  await build({
    entryPoints: [resolve(import.meta.dirname, 'uppy-page/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(dir, 'app.js'),
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>Uppy</title><body><script type="module" src="/app.js"></script></body>');
  writeFileSync(join(dir, 'small.pdf'), small);
  writeFileSync(join(dir, 'large.pdf'), large);
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.pdf': 'application/pdf' };
  const port = await freePort();
  site = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1) || 'index.html';
    if (!/^[a-z]+\.[a-z]+$/.test(name)) return res.writeHead(404).end();
    try {
      const body = readFileSync(join(dir, name));
      res.writeHead(200, { 'content-type': types[extname(name)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => site.listen(port, '127.0.0.1', done));
  siteUrl = `http://127.0.0.1:${port}`;
  [server, browser] = await Promise.all([
    startDevServer({ vars: { CORS_ORIGINS: siteUrl, MAX_FILE_SIZE: String(64 * MiB) } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((done) => site?.close(done));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openPage(chunkMiB = 8): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === server.url && request.method() !== 'OPTIONS') requests.push(`${request.method()} ${url.pathname}`);
  });
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${siteUrl}/?${new URLSearchParams({ endpoint: server.url, chunkMiB: String(chunkMiB) })}`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  return { page, requests };
}

const events = (page: Page) => page.evaluate(() => (window as unknown as { harness: { events: HarnessEvent[] } }).harness.events);

async function outcome(page: Page, name: string, timeout = 120_000): Promise<HarnessEvent> {
  await expect.poll(async () => (await events(page)).find((e) => e.name === name && e.type !== 'progress'), { timeout, interval: 200 }).toBeTruthy();
  const event = (await events(page)).find((e) => e.name === name && e.type !== 'progress')!;
  expect(event, event.message).toMatchObject({ type: 'success' });
  return event;
}

/** Our own API: poll the manifest with the upload token until the pipeline is done. */
async function waitReady(id: string, token: string): Promise<{ state: string; size: number }> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${server.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const manifest = (await res.json()) as { state: string; size: number };
    if (['ready', 'rejected', 'failed'].includes(manifest.state)) return manifest;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`upload ${id} did not finish`);
}

async function downloaded(location: string): Promise<string> {
  const res = await fetch(location);
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

const jsonOf = async <T>(response: Promise<PwResponse>): Promise<T> => (await response).json() as Promise<T>;

describe('Uppy (@uppy/aws-s3, Companion mode) in Chromium', () => {
  it('a 3 MiB file goes through the POST-form path: identical bytes at location, ready in our API', async () => {
    const { page, requests } = await openPage();
    const params = jsonOf<{ url: string; fields: { key: string; token: string } }>(page.waitForResponse((r) => r.url().includes('/s3/params')));
    await page.evaluate(async () => {
      const h = (window as unknown as { harness: { add(u: string, n: string, t: string): Promise<string>; upload(): void } }).harness;
      await h.add('/small.pdf', 'small.pdf', 'application/pdf');
      h.upload();
    });
    const { fields, url } = await params;
    expect(url).toBe(`${server.url}/media`);
    const success = await outcome(page, 'small.pdf');
    expect(success.location).toBe(`${server.url}/media/${fields.key}`);
    expect(success.key).toBe(fields.key);
    expect(requests).toEqual(['GET /s3/params', 'POST /media']);

    const manifest = await waitReady(fields.key, fields.token);
    expect(manifest).toMatchObject({ state: 'ready', size: small.length });
    expect(await downloaded(success.location!)).toBe(sha256(small));
    await page.close();
  });

  it('a 30 MiB file goes multipart (5 MiB chunks), pauses and resumes: only missing parts re-sent, identical bytes, ready', async () => {
    const { page, requests } = await openPage(5);
    // Hold part PUTs after the first two, so the pause lands mid-upload.
    const passed: number[] = [];
    const held: Route[] = [];
    let open = false;
    await page.route(`${server.url}/api/uploads/*/parts/*`, async (route) => {
      const n = Number(new URL(route.request().url()).pathname.split('/').pop());
      if (open || passed.length < 2) {
        passed.push(n);
        return route.continue().catch(() => undefined);
      }
      held.push(route);
    });
    const created = jsonOf<{ key: string; uploadId: string }>(page.waitForResponse((r) => r.url().endsWith('/s3/multipart') && r.request().method() === 'POST'));
    const fileId = await page.evaluate(async () => {
      const h = (window as unknown as { harness: { add(u: string, n: string, t: string): Promise<string>; upload(): void } }).harness;
      const id = await h.add('/large.pdf', 'large.pdf', 'application/pdf');
      h.upload();
      return id;
    });
    const { key, uploadId } = await created;
    const [id, token] = uploadId.split('~') as [string, string];
    expect(id).toBe(key);

    await expect.poll(() => held.length, { timeout: 60_000 }).toBeGreaterThan(0);
    const paused = await page.evaluate((f) => (window as unknown as { harness: { pauseResume(id: string): boolean } }).harness.pauseResume(f), fileId);
    expect(paused).toBe(true);
    // The held request was aborted by the pause; letting it go now reaches nothing.
    for (const route of held.splice(0)) await route.continue().catch(() => undefined);
    const server1 = await (await fetch(`${server.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } })).json() as { confirmedParts: number; state: string };
    expect(server1).toMatchObject({ state: 'uploading', confirmedParts: 2 });
    const before = requests.length;

    open = true;
    expect(await page.evaluate((f) => (window as unknown as { harness: { pauseResume(id: string): boolean } }).harness.pauseResume(f), fileId)).toBe(false);
    const success = await outcome(page, 'large.pdf');
    expect(success.location).toBe(`${server.url}/media/${id}`);
    expect((await events(page)).filter((e) => e.type === 'error')).toEqual([]);

    // After the resume: ListParts, then only parts 3…7 (30 MiB + a bit in 5 MiB parts), then complete.
    const after = requests.slice(before);
    expect(after[0]).toBe(`GET /s3/multipart/${uploadId}`);
    expect(passed.slice(0, 2)).toEqual([1, 2]);
    expect(passed.slice(2).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7]);
    expect(after.filter((r) => r.startsWith('PUT ')).map((r) => Number(r.split('/').pop()))).toEqual([3, 4, 5, 6, 7]);
    expect(after.at(-1)).toMatch(/^POST \/s3\/multipart\/.+\/complete$/);

    const manifest = await waitReady(id, token);
    expect(manifest).toMatchObject({ state: 'ready', size: large.length });
    expect(await downloaded(success.location!)).toBe(sha256(large));
    await page.close();
  });

  it('pausing mid-part over a slow link and resuming at once, four times: no error, identical bytes, ready', async () => {
    const { page } = await openPage(5);
    const aborted: string[] = [];
    page.on('requestfailed', (request) => {
      if (request.method() === 'PUT') aborted.push(new URL(request.url()).pathname);
    });
    // 4 MiB/s up: a 5 MiB part takes over a second, so the pauses land inside parts.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * MiB });
    const created = jsonOf<{ uploadId: string }>(page.waitForResponse((r) => r.url().endsWith('/s3/multipart') && r.request().method() === 'POST'));
    const fileId = await page.evaluate(async () => {
      const h = (window as unknown as { harness: { add(u: string, n: string, t: string): Promise<string>; upload(): void } }).harness;
      const id = await h.add('/large.pdf', 'large.pdf', 'application/pdf');
      h.upload();
      return id;
    });
    const toggle = () => page.evaluate((f) => (window as unknown as { harness: { pauseResume(id: string): boolean } }).harness.pauseResume(f), fileId);
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1700));
      expect(await toggle()).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(await toggle()).toBe(false);
    }
    const success = await outcome(page, 'large.pdf');
    expect((await events(page)).filter((e) => e.type === 'error')).toEqual([]);
    expect(aborted.length).toBeGreaterThan(0);
    const [id, token] = (await created).uploadId.split('~') as [string, string];
    expect(await waitReady(id, token)).toMatchObject({ state: 'ready', size: large.length });
    expect(await downloaded(success.location!)).toBe(sha256(large));
    await page.close();
  });
});
