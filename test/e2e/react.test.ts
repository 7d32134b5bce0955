/**
 * The React hooks in Chromium: the README's React example and a StrictMode harness, bundled by
 * esbuild in the test (development build, so StrictMode double-runs effects) and importing
 * `edge-upload-pipeline/react` through package.json `exports`, as an app would. Served from
 * another origin than the Worker.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, type AppDir } from './app-bundle';
import { launchBrowser } from './browser';
import { startDevServer, type DevServer } from './dev-server';
import { pdf, png } from './fixtures';
import { gateParts, readmeExample, startSite, type Site } from './page-helpers';

const MiB = 1024 * 1024;
let server: DevServer;
let site: Site;
let browser: Browser;
let app: AppDir;

/** A StrictMode app: useUpload(File) starts one upload; useUploader's list can be unmounted mid-upload. */
const HARNESS = `
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useUpload, useUploader, type Upload } from 'edge-upload-pipeline/react';
import 'edge-upload-pipeline/element';

const endpoint = ENDPOINT;

function Single({ file }: { file: File }) {
  const { state, progress } = useUpload(file, { uploaderOptions: { endpoint } });
  return <p data-testid="single" data-state={state}>{progress.confirmedBytes}</p>;
}

function Row({ upload }: { upload: Upload }) {
  const { state } = useUpload(upload);
  return <li data-name={upload.name} data-state={state}>{state}</li>;
}

function Many() {
  const { uploads, add } = useUploader({ endpoint });
  (window as any).manyUploads = uploads;
  return (
    <div>
      <input type="file" multiple aria-label="many" onChange={(e) => add(e.target.files)} />
      <ul>{uploads.map((u) => <Row key={u.localId} upload={u} />)}</ul>
    </div>
  );
}

function Harness() {
  const [readyName, setReadyName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [showMany, setShowMany] = useState(true);
  (window as any).hideMany = () => setShowMany(false);
  return (
    <main>
      <input type="file" aria-label="single" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      {file && <Single file={file} />}
      {showMany ? <Many /> : <p data-testid="gone">gone</p>}
      <upload-dropzone endpoint={endpoint} onupload-ready={(e: CustomEvent) => setReadyName(e.detail.upload.name)} />
      <p data-testid="dz-ready">{readyName}</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><Harness /></StrictMode>);
`;

const html = (script: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>react</title></head><body><div id="root"></div><script type="module" src="${script}"></script></body></html>`;

function bundle(name: string, source: string): Promise<string> {
  return app.bundle(`${name}.tsx`, source, {
    jsx: 'automatic',
    // React's development build: StrictMode mounts, unmounts and mounts again.
    define: { 'process.env.NODE_ENV': '"development"' },
  });
}

beforeAll(async () => {
  app = appDir('react-app-');
  site = await startSite();
  [server, browser] = await Promise.all([
    startDevServer({ vars: { MAX_FILE_SIZE: String(64 * MiB), CORS_ORIGINS: site.origin } }),
    launchBrowser(),
  ]);
  const [readme, harness] = await Promise.all([
    bundle('readme', readmeExample('react').replace("'http://localhost:8787'", JSON.stringify(server.url))),
    bundle('harness', HARNESS.replace('ENDPOINT', JSON.stringify(server.url))),
  ]);
  site.script('/readme.js', readme);
  site.page('/readme', html('/readme.js'));
  site.script('/harness.js', harness);
  site.page('/harness', html('/harness.js'));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await site?.close();
  app?.remove();
});

function file(name: string, bytes: Buffer): string {
  return app.write(name, bytes);
}

/**
 * Console errors that come from the server, not from React or the hooks: the site has no favicon,
 * and the Worker's events endpoint does not yet answer WebSocket/SSE requests from another origin
 * (the client falls back to polling, so uploads still finish; reported to the API's owner).
 */
function serverSideNoise(text: string): boolean {
  return text.startsWith('Failed to load resource') || (/\/api\/uploads\/[0-9a-f]+\/events/.test(text) && /WebSocket|CORS/.test(text));
}

async function open(path: string): Promise<{ page: Page; requests: { method: string; path: string; body: string }[]; errors: string[] }> {
  const page = await browser.newPage();
  const requests: { method: string; path: string; body: string }[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push({ method: r.method(), path: new URL(r.url()).pathname, body: r.method() === 'POST' ? (r.postData() ?? '') : '' }));
  page.on('console', (m) => m.type() === 'error' && !serverSideNoise(m.text()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.origin}${path}`);
  return { page, requests, errors };
}

describe('React hooks in Chromium (React 19, StrictMode)', () => {
  it('README React example: two files reach ready, each created once', async () => {
    const { page, requests, errors } = await open('/readme');
    await page.setInputFiles('input[type=file]', [file('react.pdf', pdf(6 * MiB, 41)), file('react.png', png(320, 200))]);
    for (const name of ['react.pdf', 'react.png']) await page.locator(`li[data-name="${name}"][data-state="ready"]`).waitFor({ timeout: 60_000 });
    expect(await page.locator('li[data-name="react.png"] img').getAttribute('src')).toMatch(/^blob:/);
    expect(await page.locator('li[data-name="react.pdf"] a').getAttribute('href')).toMatch(new RegExp(`^${server.url}/media/`));
    expect(requests.filter((r) => r.method === 'POST' && r.path === '/api/uploads')).toHaveLength(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('useUpload(file) under StrictMode starts exactly one upload', async () => {
    const { page, requests, errors } = await open('/harness');
    await page.setInputFiles('input[aria-label=single]', file('strict.pdf', pdf(6 * MiB, 42)));
    await page.locator('[data-testid=single][data-state=ready]').waitFor({ timeout: 60_000 });
    const creates = requests.filter((r) => r.method === 'POST' && r.path === '/api/uploads' && r.body.includes('"strict.pdf"'));
    expect(creates).toHaveLength(1);
    expect(requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(errors).toEqual([]);
    console.log('proved: StrictMode mounted useUpload(file) twice; one create, no delete, ready');
    await page.close();
  });

  it('<upload-dropzone> in React 19 without a wrapper: attributes and upload-* events as props', async () => {
    const { page, errors } = await open('/harness');
    await page.setInputFiles('upload-dropzone #file-input', file('element.png', png(120, 80)));
    await expect.poll(() => page.getByTestId('dz-ready').textContent(), { timeout: 60_000 }).toBe('element.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('unmounting useUploader mid-upload cancels it on the server and leaves no listener', async () => {
    const { page, requests, errors } = await open('/harness');
    const gate = await gateParts(page, 1);
    await page.setInputFiles('input[aria-label=many]', file('unmount.pdf', pdf(20 * MiB, 43)));
    await page.locator('li[data-name="unmount.pdf"][data-state="uploading"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => gate.held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await page.evaluate(() => {
      const w = window as unknown as { manyUploads: { localId: string }[]; kept: unknown; hideMany: () => void };
      w.kept = w.manyUploads[0];
      w.hideMany();
    });
    await page.getByTestId('gone').waitFor();
    const id = await page.evaluate(async () => {
      const upload = (window as unknown as { kept: { id: string; done: Promise<string> } }).kept;
      await upload.done;
      return upload.id;
    });
    const after = await page.evaluate(() => {
      const upload = (window as unknown as { kept: { state: string; listenerCount(): number } }).kept;
      return { state: upload.state, listeners: upload.listenerCount() };
    });
    expect(after).toEqual({ state: 'cancelled', listeners: 0 });
    expect(requests.some((r) => r.method === 'DELETE' && r.path === `/api/uploads/${id}`)).toBe(true);
    const putsAtUnmount = requests.filter((r) => r.method === 'PUT').length;
    await gate.release();
    await page.waitForLoadState('networkidle');
    expect(requests.filter((r) => r.method === 'PUT').length).toBe(putsAtUnmount);
    expect(errors).toEqual([]);
    console.log('proved: unmount mid-upload → cancelled, DELETE sent, 0 listeners left, no part sent after');
    await page.close();
  });
});
