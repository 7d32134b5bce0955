/**
 * `<upload-dropzone>` without wrappers in Vue 3 and Svelte 5, in Chromium against `wrangler dev`:
 * each app is bundled by esbuild in the test and imports `edge-upload-pipeline/element` through
 * package.json `exports`. Attributes are bound from framework state (changing the state changes
 * the component), and `upload-ready` is heard with the framework's own event syntax (Vue's
 * `@upload-ready`, Svelte 5's `onupload-ready`) and lands in framework state.
 */
import { compile } from 'svelte/compiler';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, type AppDir } from './app-bundle';
import { launchBrowser } from './browser';
import { startDevServer, type DevServer } from './dev-server';
import type { UploadDropzone } from '../../src/client/element/upload-dropzone';
import { png } from './fixtures';
import { startSite, type Site } from './page-helpers';

const MiB = 1024 * 1024;
let server: DevServer;
let site: Site;
let browser: Browser;
let app: AppDir;

/**
 * Vue 3 with its template compiler (what a Vue SFC compiles to at build time, here at run time),
 * told that `upload-dropzone` is a custom element rather than an unknown Vue component.
 */
const VUE_APP = `
import { createApp, ref } from 'vue';
import 'edge-upload-pipeline/element';

const app = createApp({
  setup() {
    const endpoint = ref(ENDPOINT);
    const locale = ref('en');
    const maxSize = ref('10 MB');
    const readyName = ref('');
    const readyCount = ref(0);
    function onReady(event) {
      readyName.value = event.detail.upload.name;
      readyCount.value += 1;
    }
    return { endpoint, locale, maxSize, readyName, readyCount, onReady };
  },
  template: \`
    <main>
      <button type="button" data-testid="german" @click="locale = 'de'">Deutsch</button>
      <upload-dropzone :endpoint="endpoint" :locale="locale" :max-size="maxSize" multiple @upload-ready="onReady"></upload-dropzone>
      <p data-testid="ready" :data-count="readyCount">{{ readyName }}</p>
    </main>\`,
});
app.config.compilerOptions.isCustomElement = (tag) => tag === 'upload-dropzone';
app.mount('#root');
`;

/** A Svelte 5 component (runes), compiled with svelte/compiler by the test, then bundled. */
const SVELTE_COMPONENT = `
<script>
  import 'edge-upload-pipeline/element';
  let endpoint = $state(ENDPOINT);
  let locale = $state('en');
  let maxSize = $state('10 MB');
  let readyName = $state('');
  let readyCount = $state(0);
  function onReady(event) {
    readyName = event.detail.upload.name;
    readyCount += 1;
  }
</script>

<main>
  <button type="button" data-testid="german" onclick={() => (locale = 'de')}>Deutsch</button>
  <upload-dropzone {endpoint} {locale} max-size={maxSize} multiple onupload-ready={onReady}></upload-dropzone>
  <p data-testid="ready" data-count={readyCount}>{readyName}</p>
</main>
`;

const SVELTE_MAIN = `
import { mount } from 'svelte';
import App from './App.svelte.js';
mount(App, { target: document.getElementById('root') });
`;

const html = (title: string, script: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><div id="root"></div><script type="module" src="${script}"></script></body></html>`;

beforeAll(async () => {
  app = appDir('framework-apps-');
  site = await startSite();
  [server, browser] = await Promise.all([
    startDevServer({ vars: { MAX_FILE_SIZE: String(64 * MiB), CORS_ORIGINS: site.origin } }),
    launchBrowser(),
  ]);
  const endpoint = JSON.stringify(server.url);

  const vue = await app.bundle('vue-main.js', VUE_APP.replace('ENDPOINT', endpoint), {
    // The build of Vue that includes the template compiler; the flags an app's bundler config sets.
    alias: { vue: 'vue/dist/vue.esm-bundler.js' },
    define: { __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false', 'process.env.NODE_ENV': '"production"' },
  });
  site.script('/vue.js', vue);
  site.page('/vue', html('vue', '/vue.js'));

  const compiled = compile(SVELTE_COMPONENT.replace('ENDPOINT', endpoint), { filename: 'App.svelte', generate: 'client', runes: true });
  for (const warning of compiled.warnings) console.warn(`svelte: ${warning.message}`);
  app.write('App.svelte.js', compiled.js.code);
  const svelte = await app.bundle('svelte-main.js', SVELTE_MAIN, { conditions: ['svelte', 'browser'] });
  site.script('/svelte.js', svelte);
  site.page('/svelte', html('svelte', '/svelte.js'));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await site?.close();
  app?.remove();
});

/** Console errors other than the site's missing favicon and the events channel's fallback to polling (see react.test.ts). */
function isNoise(text: string): boolean {
  return text.startsWith('Failed to load resource') || (/\/api\/uploads\/[0-9a-f]+\/events/.test(text) && /WebSocket|CORS/.test(text));
}

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && !isNoise(m.text()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.origin}${path}`);
  return { page, errors };
}

const shadowText = (page: Page, selector: string) =>
  page.evaluate((s) => document.querySelector('upload-dropzone')!.shadowRoot!.querySelector(s)!.textContent ?? '', selector);

describe('<upload-dropzone> in Vue 3 and Svelte 5, no wrapper', () => {
  for (const framework of ['vue', 'svelte'] as const) {
    it(`${framework}: attributes follow framework state; @upload-ready / onupload-ready reaches framework state`, async () => {
      const { page, errors } = await open(`/${framework}`);
      const dropzone = page.locator('upload-dropzone');
      // Bound from state: the endpoint (limits come from that Worker) and max-size (10 MB < the Worker's 64 MiB).
      expect(await dropzone.getAttribute('endpoint')).toBe(server.url);
      await expect.poll(() => shadowText(page, '#limits')).toMatch(/up to 10 MB each/);
      expect(await shadowText(page, '#choose')).toBe('choose files');

      await page.setInputFiles('upload-dropzone #file-input', [app.write(`${framework}-a.png`, png(120, 80)), app.write(`${framework}-b.png`, png(80, 120))]);
      await expect.poll(() => page.getByTestId('ready').getAttribute('data-count'), { timeout: 60_000 }).toBe('2');
      expect(await page.getByTestId('ready').textContent()).toMatch(new RegExp(`^${framework}-[ab]\\.png$`));
      const states = await page.evaluate(() => document.querySelector<UploadDropzone>('upload-dropzone')!.uploads.map((u) => u.state));
      expect(states).toEqual(['ready', 'ready']);

      // Changing framework state changes the component: the locale attribute re-renders it in German.
      await page.getByTestId('german').click();
      expect(await dropzone.getAttribute('locale')).toBe('de');
      await expect.poll(() => shadowText(page, '#choose')).toBe('Dateien auswählen');
      expect(errors).toEqual([]);
      console.log(`proved: ${framework} bound endpoint/max-size/locale from state and heard upload-ready twice into its state`);
      await page.close();
    });
  }
});
