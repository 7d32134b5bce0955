/**
 * `<upload-dropzone>` in Chromium against `wrangler dev`: the README's script-tag example on
 * another origin driven by keyboard only, axe-core in every state at phone and desktop widths,
 * each shipped language (screenshots in test-artifacts/), bad attributes, a file changed on disk,
 * paste, and resizeImages on a 12 MP photo. Prints what it proved.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sign } from 'hono/jwt';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ar } from '../../src/client/i18n/strings-ar';
import { de } from '../../src/client/i18n/strings-de';
import { en, type Strings } from '../../src/client/i18n/strings-en';
import type { UploadDropzone } from '../../src/client/element/upload-dropzone';
import { launchBrowser } from './browser';
import { startDevServer, type DevServer } from './dev-server';
import { pdf, png, randomBytes } from './fixtures';
import { axeViolations, focusedLabel, gateParts, readmeExample, startSite, tabTo, type Site } from './page-helpers';

const MiB = 1024 * 1024;
const artifacts = resolve(import.meta.dirname, '../../test-artifacts');
const PHONE = { width: 320, height: 640 };
const DESKTOP = { width: 1280, height: 800 };
let server: DevServer;
let site: Site;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'dropzone-files-'));
  site = await startSite();
  [server, browser] = await Promise.all([
    startDevServer({ vars: { MAX_FILE_SIZE: String(64 * MiB), CORS_ORIGINS: site.origin } }),
    launchBrowser(),
  ]);
  // The README's examples, pointed at this test's Worker.
  site.page('/', readmeExample('script-tag').replace('http://localhost:8787', server.url));
  site.page(
    '/library',
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>library</title></head><body><main><input type="file" multiple aria-label="Files"><script type="module" src="/library.js"></script></main></body></html>`,
  );
  site.script('/library.js', readmeExample('library').replace('http://localhost:8787', server.url));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: Buffer | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const card = (page: Page, name: string) => page.locator(`.card[data-name="${name}"]`);

async function waitForCardState(page: Page, name: string, state: string, timeout = 60_000): Promise<void> {
  await card(page, name).and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });
}

async function limitsLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const text = document.querySelector('upload-dropzone')?.shadowRoot?.querySelector('#limits')?.textContent ?? '';
    return text !== '' && !/…$/.test(text);
  });
}

/** The README's script-tag example, its limits loaded, with the console's warnings collected. */
async function exampleWithWarnings(): Promise<{ page: Page; warnings: string[] }> {
  const page = await browser.newPage();
  const warnings: string[] = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(site.origin);
  await limitsLoaded(page);
  return { page, warnings };
}

const announced = (page: Page) => page.evaluate(() => document.querySelector('upload-dropzone')!.shadowRoot!.querySelector('[role=status]')!.textContent);

describe('<upload-dropzone> in Chromium', () => {
  it('README script-tag example on another origin, keyboard only: two files, one cancelled, focus kept', async () => {
    const page = await browser.newPage();
    const logs: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    // Listening before the page loads: Playwright turns on file-chooser interception asynchronously.
    const chooser = page.waitForEvent('filechooser', { timeout: 60_000 });
    await page.goto(site.origin);
    await limitsLoaded(page);
    expect(await page.locator('#limits').textContent()).toMatch(/up to 50 MB each/);
    const gate = await gateParts(page, 0);
    // Everything the polite live region says, in order.
    await page.evaluate(() => {
      const region = document.querySelector('upload-dropzone')!.shadowRoot!.querySelector('[role=status]')!;
      const said: string[] = [];
      (window as unknown as { said: string[] }).said = said;
      new MutationObserver(() => region.textContent && said.push(region.textContent)).observe(region, { childList: true, subtree: true, characterData: true });
    });

    await page.keyboard.press('Tab');
    expect(await focusedLabel(page)).toBe('choose files');
    await page.keyboard.press('Enter');
    await (await chooser).setFiles([file('keep.pdf', pdf(7 * MiB, 31)), file('drop.pdf', pdf(7 * MiB, 32))]);
    await waitForCardState(page, 'keep.pdf', 'uploading');
    await waitForCardState(page, 'drop.pdf', 'uploading');
    await expect.poll(() => gate.held.length).toBeGreaterThan(0);

    await tabTo(page, 'Cancel drop.pdf');
    await page.keyboard.press('Space');
    await waitForCardState(page, 'drop.pdf', 'cancelled');
    // The cancelled card's Dismiss button took the Cancel button's focus; the change was announced.
    expect(await focusedLabel(page)).toBe('Dismiss drop.pdf');
    await expect.poll(() => announced(page)).toBe('drop.pdf: Cancelled.');
    const dropId = await page.evaluate(() => document.querySelector<UploadDropzone>('upload-dropzone')!.uploads.find((u) => u.name === 'drop.pdf')!.id);
    expect(requests).toContain(`DELETE /api/uploads/${dropId}`);

    await gate.release();
    await waitForCardState(page, 'keep.pdf', 'ready');
    // The finished file's URL is absolute (the Worker's origin), so it works on this other origin.
    await expect.poll(() => logs.find((l) => l.startsWith('ready: keep.pdf'))).toMatch(new RegExp(`^ready: keep\\.pdf ${server.url}/media/`));

    // State changes were announced, progress ticks were not.
    const said = await page.evaluate(() => (window as unknown as { said: string[] }).said);
    expect(said).toEqual(expect.arrayContaining(['keep.pdf: Uploading.', 'drop.pdf: Uploading.', 'drop.pdf: Cancelled.', 'keep.pdf: Ready.']));
    for (const text of said) expect(text).toMatch(/^(keep|drop)\.pdf: (Uploading|Processing|Cancelled|Ready)\.$/);

    // Dismissing moves focus to the card that is left, never to <body>.
    await tabTo(page, 'Dismiss drop.pdf');
    await page.keyboard.press('Enter');
    await expect.poll(() => card(page, 'drop.pdf').count()).toBe(0);
    expect(await focusedLabel(page)).toBe('Dismiss keep.pdf');
    console.log('proved: README component page on another origin, keyboard only: picker by Enter, cancel by Space, focus kept on cancel and removal, upload-ready fired');
    await page.close();
  });

  it('an invalid attribute warns once in the console and the default is used', async () => {
    const { page, warnings } = await exampleWithWarnings();
    await page.evaluate(() => {
      const dz = document.querySelector('upload-dropzone')!;
      dz.setAttribute('max-size', 'lots');
      dz.setAttribute('max-size', '1 MB');
      dz.setAttribute('max-size', 'lots');
      dz.setAttribute('accept', 'pictures');
      dz.setAttribute('capture', 'sideways');
    });
    await expect.poll(() => page.locator('#limits').textContent()).toMatch(/up to 67\.1 MB each/);
    expect(warnings.filter((w) => w.includes('max-size="lots"'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('accept="pictures"'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('capture="sideways"'))).toHaveLength(1);
    expect(warnings).toHaveLength(3);
    await page.setInputFiles('#file-input', file('after-warnings.png', png(64, 48)));
    await waitForCardState(page, 'after-warnings.png', 'ready');
    await page.close();
  });

  it('the getAuthToken property supplies the bearer token for each upload, over the auth-token attribute', async () => {
    const secret = /^AUTH_JWT_SECRET=(.*)$/m.exec(readFileSync(resolve(import.meta.dirname, '../../dev.env'), 'utf8'))![1]!;
    const jwt = await sign({ sub: 'component-user', exp: Math.floor(Date.now() / 1000) + 600 }, secret, 'HS256');
    const page = await browser.newPage();
    const auth: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/uploads' && auth.push(r.headers()['authorization'] ?? ''));
    await page.goto(site.origin);
    await limitsLoaded(page);
    await page.evaluate((token) => {
      const dz = document.querySelector<UploadDropzone>('upload-dropzone')!;
      dz.setAttribute('auth-token', 'not-this-one');
      let calls = 0;
      dz.getAuthToken = async () => {
        calls += 1;
        (window as unknown as { tokenCalls: number }).tokenCalls = calls;
        return token;
      };
    }, jwt);
    await page.setInputFiles('#file-input', [file('auth-a.png', png(40, 30)), file('auth-b.png', png(30, 40))]);
    await waitForCardState(page, 'auth-a.png', 'ready');
    await waitForCardState(page, 'auth-b.png', 'ready');
    expect(auth).toEqual([`Bearer ${jwt}`, `Bearer ${jwt}`]);
    expect(await page.evaluate(() => (window as unknown as { tokenCalls: number }).tokenCalls)).toBe(2);
    await page.close();
  });

  it('cancel() right after add() in the browser: no create, no part (issue 18)', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await page.goto(`${site.origin}/library`);
    const state = await page.evaluate(async (endpoint) => {
      // A string, so the test bundler leaves the browser's import() alone.
      const lib = (await (0, eval)("import('/client/uploader.js')")) as typeof import('../../src/client/index');
      const bytes = new Uint8Array(6 * 1024 * 1024);
      bytes.set(new TextEncoder().encode('%PDF-1.7\n')); // a file the client would accept and send
      const upload = new lib.Uploader({ endpoint }).add(new File([bytes], 'now.pdf', { type: 'application/pdf' }));
      void upload.cancel();
      const final = await upload.done;
      // Give a wrongly scheduled start every chance to send something.
      await new Promise((r) => setTimeout(r, 500));
      return { final, state: upload.state };
    }, server.url);
    expect(state).toEqual({ final: 'cancelled', state: 'cancelled' });
    expect(requests.filter((r) => r.includes('/api/uploads'))).toEqual([]);
    await page.close();
  });

  it('README library example runs', async () => {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`${site.origin}/library`);
    await page.setInputFiles('input[type=file]', file('library.pdf', pdf(300_000, 33)));
    await expect.poll(() => logs.some((l) => l.startsWith('library.pdf ready')), { timeout: 60_000 }).toBe(true);
    expect(logs).toContain('library.pdf 300000/300000');
    await page.close();
  });

  for (const [label, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`axe-core finds 0 violations in every state at ${label} width (${viewport.width}px), no sideways scrolling`, async () => {
      // Axe is injected as a script: CSP is bypassed for the scanner only.
      const context = await browser.newContext({ viewport, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(server.url);
      await limitsLoaded(page);
      const found: Record<string, unknown[]> = {};
      const scan = async (state: string) => {
        const violations = await axeViolations(page);
        if (violations.length) found[state] = violations;
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      };
      await scan('empty');
      if (label === 'phone') {
        // prefers-reduced-motion: the drop zone and the bars stop animating.
        await page.emulateMedia({ reducedMotion: 'reduce' });
        const transition = await page.evaluate(() => getComputedStyle(document.querySelector('upload-dropzone')!.shadowRoot!.querySelector('#drop-zone')!).transitionDuration);
        expect(transition).toBe('0s');
      }

      const gate = await gateParts(page, 0);
      await page.setInputFiles('#file-input', file('big.pdf', pdf(12 * MiB, 34)));
      await waitForCardState(page, 'big.pdf', 'uploading');
      await scan('uploading');
      await card(page, 'big.pdf').getByRole('button', { name: 'Pause big.pdf' }).click();
      await waitForCardState(page, 'big.pdf', 'paused');
      await scan('paused');

      await page.setInputFiles('#file-input', file('notes.txt', Buffer.from('plain text\n')));
      await waitForCardState(page, 'notes.txt', 'rejected');
      await scan('rejected');

      // The server refuses this one (as it would a forbidden principal): the card fails with its message.
      await page.route('**/api/uploads', (route) =>
        route.request().method() === 'POST' && (route.request().postData() ?? '').includes('"broken.pdf"')
          ? route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'ERR_FORBIDDEN', message: 'Uploads are not allowed for this account.' } }) })
          : route.continue(),
      );
      await page.setInputFiles('#file-input', file('broken.pdf', pdf(20_000, 35)));
      await waitForCardState(page, 'broken.pdf', 'failed');
      expect(await card(page, 'broken.pdf').locator('.message').textContent()).toBe('Uploads are not allowed for this account.');
      await scan('failed');

      await gate.release();
      await page.setInputFiles('#file-input', file('photo.png', png(640, 480)));
      await waitForCardState(page, 'photo.png', 'ready');
      await card(page, 'photo.png').locator('img.derivative').first().waitFor();
      await scan('ready with derivatives');
      await page.screenshot({ path: join(artifacts, `dropzone-states-${label}.png`), fullPage: true });

      expect(found).toEqual({});
      console.log(`proved: 0 axe violations at ${viewport.width}px in states empty, uploading, paused, rejected, failed, ready with derivatives`);
      await context.close();
    });
  }

  it('at 200 % zoom (1280 px window: 640 CSS px at 2 device pixels per px) it reflows without sideways scrolling, works by keyboard, 0 axe violations', async () => {
    // Chromium's own page zoom halves the CSS viewport and doubles devicePixelRatio; this is that, set directly.
    const context = await browser.newContext({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2, bypassCSP: true });
    const page = await context.newPage();
    const chooser = page.waitForEvent('filechooser', { timeout: 60_000 });
    await page.goto(server.url);
    await limitsLoaded(page);
    expect(await page.evaluate(() => [window.innerWidth, window.devicePixelRatio])).toEqual([640, 2]);
    // The page's keep-handles asks for the File System Access picker, which Playwright cannot answer.
    await page.evaluate(() => document.querySelector('upload-dropzone')!.removeAttribute('keep-handles'));
    const found: Record<string, unknown[]> = {};
    const check = async (state: string) => {
      const violations = await axeViolations(page);
      if (violations.length) found[state] = violations;
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      // Nothing of the component sticks out sideways (the visually hidden live region aside), so nothing is clipped.
      const outside = await page.evaluate(() =>
        [...document.querySelector('upload-dropzone')!.shadowRoot!.querySelectorAll<HTMLElement>('*:not(.sr-only):not(.sr-only *)')]
          .filter((e) => e.getClientRects().length && (e.getBoundingClientRect().left < 0 || e.getBoundingClientRect().right > window.innerWidth + 0.5))
          .map((e) => e.className || e.localName),
      );
      expect(outside, state).toEqual([]);
    };
    await check('empty');

    const gate = await gateParts(page, 0);
    await page.keyboard.press('Tab');
    expect(await focusedLabel(page)).toBe('choose files');
    await page.keyboard.press('Enter');
    await (await chooser).setFiles(file('zoomed-with-a-rather-long-file-name-for-reflow.pdf', pdf(7 * MiB, 40)));
    const name = 'zoomed-with-a-rather-long-file-name-for-reflow.pdf';
    await waitForCardState(page, name, 'uploading');
    await check('uploading');
    await tabTo(page, `Pause ${name}`);
    await page.keyboard.press('Enter');
    await waitForCardState(page, name, 'paused');
    expect(await focusedLabel(page)).toBe(`Resume ${name}`);
    await check('paused');
    await gate.release();
    await page.keyboard.press('Enter');
    await waitForCardState(page, name, 'ready');
    expect(await focusedLabel(page)).toBe(`Dismiss ${name}`);
    await check('ready');
    await page.screenshot({ path: join(artifacts, 'dropzone-zoom-200.png'), fullPage: true });
    expect(found).toEqual({});
    console.log('proved: 640 CSS px at 2× (200 % zoom of 1280 px): no sideways scrolling or clipped part, picker/pause/resume by keyboard, 0 axe violations in empty, uploading, paused, ready');
    await context.close();
  });

  const LOCALES: [string, Partial<Strings>][] = [['en', en], ['de', de], ['ar', ar]];
  it('renders each shipped language (Arabic right to left) at phone and desktop widths, screenshots saved', async () => {
    for (const [lang, table] of LOCALES) {
      const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(`${server.url}/?lang=${lang}`);
      await limitsLoaded(page);
      await page.setInputFiles('#file-input', [file('notes.txt', Buffer.from('plain text\n')), file(`photo-${lang}.png`, png(320, 240))]);
      await waitForCardState(page, 'notes.txt', 'rejected');
      await waitForCardState(page, `photo-${lang}.png`, 'ready');

      const seen = await page.evaluate(() => {
        const root = document.querySelector('upload-dropzone')!.shadowRoot!;
        const wrapper = root.querySelector('.root') as HTMLElement;
        const rect = (s: string) => root.querySelector(`.card[data-state=ready] ${s}`)!.getBoundingClientRect();
        return {
          htmlDir: document.documentElement.dir,
          dir: wrapper.dir,
          direction: getComputedStyle(wrapper).direction,
          title: document.querySelector('h1')!.textContent,
          choose: root.querySelector('#choose')!.textContent,
          badge: root.querySelector('.card[data-state=ready] .badge')!.textContent,
          size: root.querySelector('.card[data-state=ready] .size')!.textContent!,
          rejected: root.querySelector('.card[data-state=rejected] .message')!.textContent!,
          previewLeft: rect('.preview').left,
          nameLeft: rect('.name').left,
        };
      });
      expect(seen.title).toBe(table['page.title']);
      expect(seen.choose).toBe(table['zone.choose']);
      expect(seen.badge).toBe(table['state.ready']);
      expect(seen.rejected).toContain('notes.txt');
      expect(seen.rejected).toContain(table['reason.typeNotAllowed']!.split('{kinds}')[0]!.split('{type}')[1]!.trim().slice(0, 6));
      if (lang === 'ar') {
        expect([seen.htmlDir, seen.dir, seen.direction]).toEqual(['rtl', 'rtl', 'rtl']);
        // Mirrored: the preview sits at the right of the name; size units in Arabic (Intl).
        expect(seen.previewLeft).toBeGreaterThan(seen.nameLeft);
        expect(seen.size).toMatch(/[\u0600-\u06FF]/);
      } else {
        expect([seen.htmlDir, seen.dir, seen.direction]).toEqual(['ltr', 'ltr', 'ltr']);
        expect(seen.previewLeft).toBeLessThan(seen.nameLeft);
      }
      await page.screenshot({ path: join(artifacts, `dropzone-${lang}-desktop.png`), fullPage: true });
      await page.setViewportSize(PHONE);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(artifacts, `dropzone-${lang}-phone.png`), fullPage: true });
      expect(await axeViolations(page)).toEqual([]);
      await context.close();
    }
    console.log('proved: en, de, ar rendered from the string table (ar right to left, Intl units in Arabic); screenshots in test-artifacts/dropzone-<lang>-<width>.png');
  });

  it('a file changed on disk while uploading pauses with a reason instead of sending other bytes', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await limitsLoaded(page);
    const path = file('changing.pdf', pdf(30 * MiB, 36));
    const gate = await gateParts(page, 1);
    await page.setInputFiles('#file-input', path);
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    writeFileSync(path, pdf(30 * MiB + 1, 37));
    await gate.release();
    await waitForCardState(page, 'changing.pdf', 'paused');
    expect(await card(page, 'changing.pdf').locator('.message').textContent()).toBe('“changing.pdf” changed or is no longer readable; select it again to continue.');
    console.log('proved: a file changed on disk mid-upload pauses the upload with a reason');
    await page.close();
  });

  it('a folder dropped in Chromium: every allowed file inside (nested too) uploads, the rest are refused with a reason', async () => {
    const folder = join(dir, 'holiday');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    writeFileSync(join(folder, 'beach.png'), png(160, 120));
    writeFileSync(join(folder, 'tickets.pdf'), pdf(40_000, 39));
    writeFileSync(join(folder, 'notes.txt'), 'packing list\n');
    writeFileSync(join(folder, 'nested', 'sunset.png'), png(120, 160));
    const page = await browser.newPage();
    await page.goto(server.url);
    await limitsLoaded(page);
    // A real directory drag, as the OS hands it to Chromium (Playwright cannot drop directories).
    const box = (await page.locator('#drop-zone').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const data = { items: [], files: [folder], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, x: box.x + box.width / 2, y: box.y + box.height / 2, data });
    }
    for (const name of ['beach.png', 'tickets.pdf', 'sunset.png']) await waitForCardState(page, name, 'ready');
    await waitForCardState(page, 'notes.txt', 'rejected');
    expect(await card(page, 'notes.txt').locator('.message').textContent()).toMatch(/^“notes\.txt” is a text\/plain file; accepted are /);
    expect(await page.locator('.card').count()).toBe(4);
    console.log('proved: a dropped folder tree uploaded its 3 allowed files and refused notes.txt with a reason');
    await page.close();
  });

  it('removed from the page mid-upload: cancelled on the server, no listener left, nothing sent after; a move is not a removal', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await page.goto(site.origin);
    await limitsLoaded(page);
    const gate = await gateParts(page, 1);
    await page.setInputFiles('#file-input', file('removed.pdf', pdf(20 * MiB, 44)));
    await waitForCardState(page, 'removed.pdf', 'uploading');
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    // Moved elsewhere in the page (as a framework reordering a list does): it keeps uploading.
    const afterMove = await page.evaluate(async () => {
      const dz = document.querySelector<UploadDropzone>('upload-dropzone')!;
      const w = window as unknown as { kept: UploadDropzone['uploads'][number] };
      w.kept = dz.uploads[0]!;
      document.body.prepend(dz);
      await new Promise((r) => setTimeout(r, 0));
      return w.kept.state;
    });
    expect(afterMove).toBe('uploading');
    const result = await page.evaluate(async () => {
      const upload = (window as unknown as { kept: UploadDropzone['uploads'][number] }).kept;
      document.querySelector('upload-dropzone')!.remove();
      const final = await upload.done;
      return { final, id: upload.id, listeners: upload.listenerCount() };
    });
    expect(result).toMatchObject({ final: 'cancelled', listeners: 0 });
    expect(requests).toContain(`DELETE /api/uploads/${result.id}`);
    const putsAtRemoval = requests.filter((r) => r.startsWith('PUT ')).length;
    await gate.release();
    await page.waitForLoadState('networkidle');
    expect(requests.filter((r) => r.startsWith('PUT ')).length).toBe(putsAtRemoval);
    console.log('proved: a move keeps uploading; removal → cancelled, DELETE sent, 0 listeners, no part sent after');
    await page.close();
  });

  it('keep-uploads: removed from the page, its upload still finishes', async () => {
    const page = await browser.newPage();
    await page.goto(site.origin);
    await limitsLoaded(page);
    await page.evaluate(() => document.querySelector('upload-dropzone')!.setAttribute('keep-uploads', ''));
    const gate = await gateParts(page, 1);
    await page.setInputFiles('#file-input', file('kept.pdf', pdf(12 * MiB, 45)));
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await page.evaluate(() => {
      const dz = document.querySelector<UploadDropzone>('upload-dropzone')!;
      (window as unknown as { kept: UploadDropzone['uploads'][number] }).kept = dz.uploads[0]!;
      dz.remove();
    });
    await gate.release();
    const result = await page.evaluate(async () => {
      const upload = (window as unknown as { kept: UploadDropzone['uploads'][number] }).kept;
      return { final: await upload.done, listeners: upload.listenerCount() };
    });
    expect(result).toEqual({ final: 'ready', listeners: 0 });
    await page.close();
  });

  it('max-active-uploads="1": the other files show "Waiting" until the first is done, then all are ready', async () => {
    const { page, warnings } = await exampleWithWarnings();
    await page.evaluate(() => {
      const dz = document.querySelector('upload-dropzone')!;
      dz.setAttribute('max-active-uploads', 'many');
      dz.setAttribute('max-active-uploads', '1');
    });
    expect(warnings.filter((w) => w.includes('max-active-uploads="many"'))).toHaveLength(1);
    const gate = await gateParts(page, 0);
    const names = ['one-at-a-time-1.pdf', 'one-at-a-time-2.pdf', 'one-at-a-time-3.pdf'];
    await page.setInputFiles('#file-input', names.map((name, i) => file(name, pdf(300_000 + i, 46 + i))));
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBe(1);
    // One file is on the wire; the two others wait, and say so.
    const waiting = page.locator('.card[data-state="idle"]');
    await expect.poll(() => waiting.count()).toBe(2);
    for (const text of await waiting.allTextContents()) expect(text).toContain(en['state.idle']);
    await gate.release();
    for (const name of names) await waitForCardState(page, name, 'ready');
    await page.close();
  });

  it('server errors and network failures are worded from the string table (German here); an unknown code keeps the server’s message', async () => {
    const page = await browser.newPage();
    await page.goto(site.origin);
    await limitsLoaded(page);
    await page.evaluate(() => document.querySelector('upload-dropzone')!.setAttribute('locale', 'de'));
    // No answer at all (the connection drops) for one file; a proxy's HTML error page for another.
    await page.route('**/api/uploads', (route) => {
      const body = route.request().postData() ?? '';
      if (route.request().method() !== 'POST') return route.continue();
      if (body.includes('"offline.png"')) return route.abort('internetdisconnected');
      if (body.includes('"proxy.png"')) return route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad Gateway</h1>' });
      if (body.includes('"newer.png"')) return route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'ERR_FROM_A_NEWER_SERVER', message: 'A reason this client has no words for.' } }) });
      return route.continue();
    });
    await page.setInputFiles('#file-input', [file('offline.png', png(40, 30)), file('proxy.png', png(30, 40)), file('newer.png', png(20, 20))]);
    for (const name of ['offline.png', 'proxy.png', 'newer.png']) await waitForCardState(page, name, 'failed');
    expect(await card(page, 'newer.png').locator('.message').textContent()).toBe('A reason this client has no words for.');
    expect(await card(page, 'offline.png').locator('.message').textContent()).toBe(de['reason.network']);
    expect(await card(page, 'proxy.png').locator('.message').textContent()).toBe(de['reason.httpStatus']!.replace('{status}', '502'));

    // The real Worker refuses a bearer that is not a JWT (ERR_UNAUTHORIZED, its message in English).
    await page.evaluate(() => document.querySelector('upload-dropzone')!.setAttribute('auth-token', 'not-a-jwt'));
    await page.setInputFiles('#file-input', file('badtoken.png', png(50, 20)));
    await waitForCardState(page, 'badtoken.png', 'failed');
    expect(await card(page, 'badtoken.png').locator('.message').textContent()).toBe(de['reason.ERR_UNAUTHORIZED']);
    await expect.poll(() => announced(page)).toBe(`badtoken.png: ${de['state.failed']}. ${de['reason.ERR_UNAUTHORIZED']}`);
    const codes = await page.evaluate(() => document.querySelector<UploadDropzone>('upload-dropzone')!.uploads.map((u) => `${u.name} ${u.reasonCode}`));
    expect(codes.sort()).toEqual(['badtoken.png ERR_UNAUTHORIZED', 'newer.png ERR_FROM_A_NEWER_SERVER', 'offline.png HTTP_0', 'proxy.png HTTP_502']);
    console.log('proved: an unknown code keeps the server’s message; no answer, a foreign 502 page and the Worker’s ERR_UNAUTHORIZED shown in German from the table; reason codes unchanged');
    await page.close();
  });

  it('pasting an image into the dropzone uploads it', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await limitsLoaded(page);
    const image = png(200, 100);
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      const dz = document.querySelector('upload-dropzone')!;
      dz.shadowRoot!.querySelector<HTMLButtonElement>('#choose')!.focus();
      dz.shadowRoot!.querySelector('#choose')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, composed: true }));
    }, image.toString('base64'));
    const pasted = page.locator('.card[data-name^="pasted-"]');
    await pasted.and(page.locator('[data-state="ready"]')).waitFor({ timeout: 60_000 });
    expect(await pasted.getAttribute('data-name')).toMatch(/^pasted-\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.png$/);
    await page.close();
  });

  it('resizeImages: a 12 MP photo goes up smaller, upright (EXIF orientation), within the bounds, in a worker', async () => {
    // 4000×3000 stored pixels with EXIF orientation 6 (shown rotated 90° clockwise: 3000×4000).
    // Stored left half red, right half blue, so upright the top is red and the bottom blue.
    const width = 4000;
    const height = 3000;
    const raw = Buffer.alloc(width * height * 3);
    const noise = randomBytes(width * height * 3, 38);
    for (let i = 0; i < width * height; i++) {
      const left = i % width < width / 2;
      raw[i * 3] = left ? 200 + (noise[i * 3]! % 56) : noise[i * 3]! % 40;
      raw[i * 3 + 1] = noise[i * 3 + 1]! % 40;
      raw[i * 3 + 2] = left ? noise[i * 3 + 2]! % 40 : 200 + (noise[i * 3 + 2]! % 56);
    }
    const original = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer();
    const path = file('photo-12mp.jpg', original);

    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('requestfinished', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(site.origin);
    await limitsLoaded(page);
    await page.evaluate(() => {
      document.querySelector<UploadDropzone>('upload-dropzone')!.resizeImages = { maxWidth: 2000, maxHeight: 2000, quality: 0.8 };
    });
    await page.setInputFiles('#file-input', path);
    await waitForCardState(page, 'photo-12mp.jpg', 'ready', 120_000);
    expect(requests).toContain('/client/resize-worker.js');
    expect(await card(page, 'photo-12mp.jpg').locator('.size').textContent()).toMatch(/^Resized before upload: .+ MB → .+ (kB|MB)$/);

    const url = await card(page, 'photo-12mp.jpg').getByTestId('file-link').getAttribute('href');
    const uploaded = Buffer.from(await (await fetch(new URL(url!, server.url))).arrayBuffer());
    const meta = await sharp(uploaded).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([1500, 2000]);
    expect(meta.orientation ?? 1).toBe(1);
    expect(meta.exif).toBeUndefined();
    expect(uploaded.length).toBeLessThan(original.length);
    const pixel = async (x: number, y: number) => [...(await sharp(uploaded).extract({ left: x, top: y, width: 1, height: 1 }).raw().toBuffer())];
    const [top, bottom] = [await pixel(750, 100), await pixel(750, 1900)];
    expect(top[0]!).toBeGreaterThan(top[2]!); // red on top
    expect(bottom[2]!).toBeGreaterThan(bottom[0]!); // blue at the bottom
    console.log(`proved: 12 MP photo (${original.length} bytes, EXIF orientation 6) uploaded as ${meta.width}×${meta.height}, ${uploaded.length} bytes, upright, no EXIF, resized in the worker`);
    await page.close();
  });
});
