/**
 * Issue 18, item 1, in a real Chromium against `wrangler dev`: the page is loaded from origin A
 * (the Worker), reads /api/config (cacheable for 60 s), and then a page on origin B, same site
 * (127.0.0.1, another port, listed in CORS_ORIGINS), calls the same URL within the cache window.
 * Chromium's HTTP cache is keyed by site, so B's request meets A's cached answer; without
 * `Vary: Origin` that answer (no Access-Control-Allow-Origin) is reused and the call is blocked.
 */
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser';
import { freePort, startDevServer, type DevServer } from './dev-server';

let server: DevServer;
let otherOrigin: Server;
let originB: string;
let browser: Browser;

beforeAll(async () => {
  const portB = await freePort();
  originB = `http://127.0.0.1:${portB}`;
  // Origin B: a blank page, the app that embeds the uploader.
  otherOrigin = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>origin B</title><p>another app on the same site</p>');
  });
  await new Promise<void>((done) => otherOrigin.listen(portB, '127.0.0.1', done));
  server = await startDevServer({ vars: { CORS_ORIGINS: originB } });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise<void>((done) => (otherOrigin ? otherOrigin.close(() => done()) : done()));
});

describe('CORS answers and the browser cache', () => {
  it('a second allowed origin on the same site reads /api/config right after the first cached it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const configUrl = `${server.url}/api/config`;

    await page.goto(`${server.url}/`);
    const first = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, cacheControl: res.headers.get('cache-control'), body: await res.json() };
    }, configUrl);
    expect(first.status).toBe(200);
    expect(first.cacheControl).toMatch(/max-age=60/);

    await page.goto(`${originB}/`);
    const second = await page.evaluate(async (url) => {
      try {
        const res = await fetch(url);
        return { ok: true, status: res.status, body: await res.json() };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    }, configUrl);
    expect(second, 'the cross-origin call from B').toMatchObject({ ok: true, status: 200 });
    expect((second as { body: unknown }).body).toEqual(first.body);
    await context.close();
  });
});
