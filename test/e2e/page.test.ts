/**
 * The upload page in a real Chromium against `wrangler dev`: drop, previews, validation before
 * the network, pause + reload + resume sending only missing parts, offline and back, a bar that
 * never moves backwards. Prints what it proved.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser';
import { startDevServer, type DevServer } from './dev-server';
import { pdf, png, sha256 } from './fixtures';
import { gateParts } from './page-helpers';

const MiB = 1024 * 1024;
const artifacts = resolve(import.meta.dirname, '../../test-artifacts');
let server: DevServer;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'uploads-files-'));
  [server, browser] = await Promise.all([startDevServer({ vars: { MAX_FILE_SIZE: String(64 * MiB) } }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function openPage(context?: BrowserContext): Promise<{ page: Page; requests: string[] }> {
  const page = await (context ?? browser).newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
  await page.goto(server.url);
  // The page is the <upload-dropzone> component: its parts live in its (open) shadow root.
  await page.waitForFunction(() => {
    const limits = document.querySelector('upload-dropzone')?.shadowRoot?.querySelector('#limits')?.textContent;
    return !!limits && !limits.startsWith('Loading');
  });
  return { page, requests };
}

const card = (page: Page, name: string) => page.locator(`.card[data-name="${name}"]`);

async function waitForCardState(page: Page, name: string, state: string, timeout = 60_000): Promise<void> {
  await card(page, name).and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });
}

/** Records every value the card's progress bar shows, in the page, from now on. */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: Record<string, number[]> = {};
    (window as unknown as { progressLog: typeof log }).progressLog = log;
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        const bar = m.target as HTMLElement;
        const name = bar.closest<HTMLElement>('.card')?.dataset.name ?? '?';
        (log[name] ??= []).push(Number(bar.getAttribute('aria-valuenow')));
      }
    }).observe(document.querySelector('upload-dropzone')!.shadowRoot!, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
}

const progressLog = (page: Page) => page.evaluate(() => (window as unknown as { progressLog: Record<string, number[]> }).progressLog);

async function downloaded(page: Page, name: string): Promise<string> {
  const href = await card(page, name).getByTestId('file-link').getAttribute('href');
  const res = await fetch(new URL(href!, server.url));
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

describe('upload page in Chromium', () => {
  it('dropped files show previews, reach ready, and download byte-identical', async () => {
    const { page } = await openPage();
    await recordProgress(page);
    const image = png(640, 480);
    const doc = pdf(6 * MiB + 123, 3);
    const dataTransfer = await page.evaluateHandle(
      (files) => {
        const dt = new DataTransfer();
        for (const f of files) {
          const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
          dt.items.add(new File([bytes], f.name, { type: f.type }));
        }
        return dt;
      },
      [
        { name: 'photo.png', type: 'image/png', b64: image.toString('base64') },
        { name: 'report.pdf', type: 'application/pdf', b64: doc.toString('base64') },
      ],
    );
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });

    // Instant preview for the image (an object URL), a type icon for the PDF.
    await expect.poll(() => card(page, 'photo.png').locator('.preview img').getAttribute('src')).toMatch(/^blob:/);
    expect(await card(page, 'report.pdf').locator('.type-icon').textContent()).toBe('PDF');

    await waitForCardState(page, 'photo.png', 'ready');
    await waitForCardState(page, 'report.pdf', 'ready');
    expect(await downloaded(page, 'photo.png')).toBe(sha256(image));
    expect(await downloaded(page, 'report.pdf')).toBe(sha256(doc));

    const log = await progressLog(page);
    for (const values of Object.values(log)) {
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    }
    expect(log['report.pdf']?.at(-1)).toBe(doc.length);
    console.log(`proved: 2 dropped files reached ready with identical bytes; bar values seen: ${JSON.stringify(Object.fromEntries(Object.entries(log).map(([k, v]) => [k, v.length])))}, never decreasing`);

    // Dismissing a card revokes its preview URL.
    const src = (await card(page, 'photo.png').locator('.preview img').getAttribute('src'))!;
    await card(page, 'photo.png').getByRole('button', { name: /Dismiss/ }).click();
    const stillLoads = await page.evaluate((url) => fetch(url).then(() => true, () => false), src);
    expect(stillLoads).toBe(false);
    await page.close();
  });

  it('refuses a disallowed type and an oversize file before any request to /api/uploads', async () => {
    const { page, requests } = await openPage();
    const text = file('notes.txt', Buffer.from('just some text\n'));
    const huge = file('huge.pdf', Buffer.alloc(0));
    truncateSync(huge, 65 * MiB);
    const spoofed = file('fake.png', pdf(5000, 9));
    await page.setInputFiles('#file-input', [text, huge, spoofed]);
    for (const name of ['notes.txt', 'huge.pdf', 'fake.png']) await waitForCardState(page, name, 'rejected');
    expect(await card(page, 'notes.txt').locator('.message').textContent()).toMatch(/accepted are/);
    expect(await card(page, 'huge.pdf').locator('.message').textContent()).toMatch(/the limit is 67\.1 MB/);
    expect(await card(page, 'fake.png').locator('.message').textContent()).toMatch(/looks like application\/pdf/);
    expect(requests.filter((r) => r.includes('/api/uploads'))).toEqual([]);
    console.log('proved: disallowed type, oversize and spoofed files refused with no request to /api/uploads');
    await page.close();
  });

  it('pause, reload, select the file again: only the missing parts are sent, bytes identical', async () => {
    const context = await browser.newContext();
    const big = pdf(40 * MiB + 5, 21);
    const path = file('big.pdf', big);
    let { page } = await openPage(context);
    await recordProgress(page);
    const gate = await gateParts(page, 2);
    await page.setInputFiles('#file-input', path);
    await expect.poll(() => card(page, 'big.pdf').getByRole('progressbar').getAttribute('aria-valuenow'), { timeout: 30_000 }).toBe(String(16 * MiB));
    await expect.poll(() => gate.held.length).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, 'upload-page-mid-upload.png'), fullPage: true });
    await card(page, 'big.pdf').getByRole('button', { name: /Pause/ }).click();
    await waitForCardState(page, 'big.pdf', 'paused');
    expect(await progressLog(page).then((l) => l['big.pdf']!.every((v, i, a) => i === 0 || v >= a[i - 1]!))).toBe(true);
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    await page.reload();
    const afterReload: string[] = [];
    page.on('request', (r) => r.method() === 'PUT' && afterReload.push(new URL(r.url()).pathname));
    await page.locator('#pending .pending-item[data-name="big.pdf"]').waitFor();
    // What the server holds now, from the manifest the page kept in IndexedDB. (A request held by the
    // gate may still reach the server as the page unloads, so this is read, not assumed.)
    const record = await page.evaluate(
      () =>
        new Promise<{ uploadId: string; uploadToken: string }>((resolve, reject) => {
          const open = indexedDB.open('edge-uploads');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('uploads').objectStore('uploads').getAll();
            all.onsuccess = () => resolve(all.result[0]);
          };
        }),
    );
    const before = (await (
      await fetch(`${server.url}/api/uploads/${record.uploadId}`, { headers: { authorization: `Bearer ${record.uploadToken}` } })
    ).json()) as { missingParts: number[] };
    expect(before.missingParts.length).toBeGreaterThan(0);
    expect(before.missingParts).not.toContain(1);
    expect(before.missingParts).not.toContain(2);
    await page.setInputFiles('#file-input', path);
    await waitForCardState(page, 'big.pdf', 'ready');
    // Distinct part numbers: a retried PUT of a missing part is still only a missing part.
    const partNumbers = [...new Set(afterReload.map((p) => Number(p.split('/').pop())))].sort((a, b) => a - b);
    expect(partNumbers).toEqual(before.missingParts);
    expect(await downloaded(page, 'big.pdf')).toBe(sha256(big));
    await expect.poll(() => page.locator('#pending-section').isHidden()).toBe(true);
    console.log(`proved: after pause + reload only the missing parts ${partNumbers.join(',')} of 6 were sent; bytes identical`);
    await context.close();
  });

  it('going offline mid-upload waits, and finishes once back online', async () => {
    const context = await browser.newContext();
    const doc = pdf(30 * MiB + 7, 22);
    const path = file('offline.pdf', doc);
    const { page } = await openPage(context);
    const states: string[] = [];
    await page.exposeFunction('reportState', (s: string) => states.push(s));
    await page.evaluate(() => {
      new MutationObserver(() => {
        const root = document.querySelector('upload-dropzone')!.shadowRoot!;
        const state = root.querySelector<HTMLElement>('.card[data-name="offline.pdf"]')?.dataset.state;
        if (state) (window as unknown as { reportState: (s: string) => void }).reportState(state);
      }).observe(document.querySelector('upload-dropzone')!.shadowRoot!, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
    });
    const gate = await gateParts(page, 1);
    await page.setInputFiles('#file-input', path);
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await context.setOffline(true);
    await waitForCardState(page, 'offline.pdf', 'paused');
    expect(await card(page, 'offline.pdf').locator('.message').textContent()).toMatch(/Offline/);
    await gate.release();
    await context.setOffline(false);
    await waitForCardState(page, 'offline.pdf', 'ready');
    expect(await downloaded(page, 'offline.pdf')).toBe(sha256(doc));
    expect(states).toContain('paused');
    console.log(`proved: offline → ${states.filter((s, i) => s !== states[i - 1]).join(' → ')}; bytes identical`);
    await context.close();
  });

  it('keeps manifests in IndexedDB with a versioned schema and expiry', async () => {
    const { page } = await openPage();
    // The embeddable bundle, loaded as another site would load it.
    // A string, so the test bundler leaves the browser's import() alone.
    await page.evaluate("import('/client/uploader.js').then((lib) => { window.uploaderLib = lib; })");
    await page.waitForFunction(() => 'uploaderLib' in window);
    const result = await page.evaluate(async () => {
      type Lib = { IndexedDbUploadStore: new () => { put(r: object): Promise<void>; get(f: string): Promise<unknown>; delete(f: string): Promise<void>; list(): Promise<{ fingerprint: string }[]> } };
      const { IndexedDbUploadStore } = (window as unknown as { uploaderLib: Lib }).uploaderLib;
      const store = new IndexedDbUploadStore();
      const base = { uploadId: 'u', uploadToken: 't', name: 'n', size: 1, type: 'application/pdf', partSize: 1, partCount: 1, createdAt: Date.now() };
      await store.put({ ...base, fingerprint: 'live', expiresAt: Date.now() + 60_000 });
      await store.put({ ...base, fingerprint: 'old', expiresAt: Date.now() - 1 });
      const listed = (await store.list()).map((r) => r.fingerprint);
      const old = await store.get('old');
      await store.delete('live');
      const version = await new Promise<number>((resolve) => {
        const req = indexedDB.open('edge-uploads');
        req.onsuccess = () => {
          resolve(req.result.version);
          req.result.close();
        };
      });
      return { listed, old: old ?? null, afterDelete: await store.get('live'), version };
    });
    expect(result).toEqual({ listed: ['live'], old: null, afterDelete: undefined, version: 1 });
    await page.close();
  });

  it('serves the page with security headers', async () => {
    const res = await fetch(server.url);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('works on a phone-width screen', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
    const { page } = await openPage(context);
    await page.setInputFiles('#file-input', file('phone.png', png(300, 200)));
    await waitForCardState(page, 'phone.png', 'ready');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(artifacts, 'upload-page-phone.png'), fullPage: true });
    await context.close();
  });
});
