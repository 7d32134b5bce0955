/**
 * The example app's whole loop in a real Chromium, against `wrangler dev`: sign in, upload with the
 * client library under a grant the app minted, the app receives and verifies upload.ready, its list
 * (from the files API) shows the file, a private file opens only through its signed URL, and a forged
 * webhook is refused by the app.
 */
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDevEnv, startExampleApp, type ExampleApp } from '../../examples/app/server';
import { launchBrowser } from './browser';
import { freePort, startDevServer, type DevServer } from './dev-server';
import { pdf } from './fixtures';

const dev = readDevEnv();

let server: DevServer;
let app: ExampleApp;
let browser: Browser;

beforeAll(async () => {
  const appPort = await freePort();
  const appOrigin = `http://127.0.0.1:${appPort}`;
  [server, browser] = await Promise.all([
    startDevServer({
      vars: {
        // As deployed: no anonymous uploads; webhooks to the app; the app's page may call the API.
        DEV_ALLOW_ANONYMOUS_UPLOADS: 'false',
        WEBHOOK_URLS: `${appOrigin}/webhooks`,
        CORS_ORIGINS: appOrigin,
      },
    }),
    launchBrowser(),
  ]);
  app = await startExampleApp({
    port: appPort,
    uploadsUrl: server.url,
    authJwtSecret: dev.AUTH_JWT_SECRET!,
    apiKey: dev.API_KEYS!,
    webhookSecret: dev.WEBHOOK_SECRET!,
    mediaUrlKeys: dev.MEDIA_URL_KEYS!,
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await server?.stop();
});

describe('example app', () => {
  it('sign in, upload a private file, webhook verified, listed, opened only by signed URL', async () => {
    const page = await browser.newPage();
    await page.goto(app.url);
    await page.fill('input[name=name]', 'alice');
    await page.click('button');
    await page.waitForSelector('#file');
    await page.check('#private');
    const bytes = pdf(300_000, 5);
    await page.setInputFiles('#file', { name: 'report.pdf', mimeType: 'application/pdf', buffer: bytes });
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready', undefined, { timeout: 60_000 });

    // The app heard of it through a verified webhook, and its list (the files API) shows it.
    const item = page.locator('#files li[data-state="ready"][data-notified="true"]');
    await item.waitFor({ timeout: 60_000 });
    const id = await item.getAttribute('data-id');
    expect(await item.textContent()).toContain('report.pdf');
    expect(await item.textContent()).toContain('private');
    const ready = [...app.events.values()].find((e) => e.type === 'upload.ready' && e.data.upload.id === id)!;
    expect(ready.data.upload).toMatchObject({ owner: 'alice', visibility: 'private', metadata: { app: 'example' } });

    // Private: the bare media URL is refused; the app's link (a signed URL) opens it.
    const bare = await page.request.get(`${server.url}/media/${id}`);
    expect(bare.status()).toBe(403);
    const opened = await page.request.get(`${app.url}/open/${id}`);
    expect(opened.status()).toBe(200);
    expect(Buffer.from(await opened.body()).equals(bytes)).toBe(true);
    expect(opened.url()).toMatch(/\/media\/[0-9a-f]{32}\?exp=\d+&kid=.+&sig=/);

    // Another user sees nothing of alice's.
    const other = await browser.newPage();
    await other.goto(app.url);
    await other.fill('input[name=name]', 'bob');
    await other.click('button');
    await other.waitForSelector('#file');
    expect(await other.request.get(`${app.url}/open/${id}`).then((r) => r.status())).toBe(404);
    expect(await other.locator('#files li').count()).toBe(0);

    // A forged webhook (signed with another secret) is refused.
    const before = app.refused;
    const body = JSON.stringify({ type: 'upload.ready', timestamp: new Date().toISOString(), data: { upload: { ...ready.data.upload, owner: 'mallory' } } });
    const forged = new Webhook(`whsec_${Buffer.from('not-the-secret-not-the-secret!!').toString('base64')}`).sign('msg_forged', new Date(), body);
    const res = await fetch(`${app.url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': forged },
      body,
    });
    expect(res.status).toBe(400);
    expect(app.refused).toBe(before + 1);
    expect(app.events.has('msg_forged')).toBe(false);
  });
});
