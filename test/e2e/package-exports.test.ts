/**
 * The package's client entry points as built by `npm run build:client` (dist/, through
 * package.json `exports`): a plain Node script, no bundler and no TypeScript loader, imports
 * `edge-upload-pipeline/client` and uploads to `wrangler dev`; a TypeScript app resolves the
 * declarations of `/client`, `/element` and `/react` through the same `exports`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, type AppDir } from './app-bundle';
import { pdf, sha256 } from './fixtures';
import { useDevServer } from './use-dev-server';

const root = resolve(import.meta.dirname, '../..');
const MiB = 1024 * 1024;
const server = useDevServer();
let app: AppDir;

/** What an app written in plain JavaScript does with the library in Node. */
const NODE_SCRIPT = `
import { readFile } from 'node:fs/promises';
import { MemoryUploadStore, Uploader } from 'edge-upload-pipeline/client';

const [endpoint, path] = process.argv.slice(2);
const bytes = await readFile(path);
const uploader = new Uploader({ endpoint, store: new MemoryUploadStore() });
const upload = uploader.add(new Blob([bytes], { type: 'application/pdf' }), { name: 'plain-node.pdf' });
const states = [];
upload.on('state', ({ state }) => states.at(-1) !== state && states.push(state));
const final = await upload.done;
console.log(JSON.stringify({ final, states, url: upload.manifest?.result?.url ?? null }));
`;

/** A TypeScript app typechecked against the declarations the package exports. */
const TS_APP = `
import { Uploader, type ClientState, type UploadProgress } from 'edge-upload-pipeline/client';
import { UploadDropzone, type UploadEventDetail } from 'edge-upload-pipeline/element';
import { useUploader } from 'edge-upload-pipeline/react';

const uploader: Uploader = new Uploader({ endpoint: 'https://uploads.example' });
const state: ClientState = uploader.add(new Blob(['x'])).state;
const percent = (p: UploadProgress): number => p.confirmedBytes / p.totalBytes;
const onReady = (detail: UploadEventDetail): string => detail.upload.name;
const hook: typeof useUploader = useUploader;
export { state, percent, onReady, hook, UploadDropzone };
// @ts-expect-error: not part of the package's surface
import { nothing } from 'edge-upload-pipeline/client';
`;

beforeAll(() => {
  // npm test builds dist/ (npm run build:client) before the tests; a lone run needs it too.
  if (!existsSync(join(root, 'dist/client.js'))) throw new Error('dist/ is missing: run `npm run build:client` first');
  app = appDir('package-exports-');
});

afterAll(() => app?.remove());

describe('package exports (dist/)', () => {
  it('a plain Node script imports edge-upload-pipeline/client and uploads a file to ready', async () => {
    const bytes = pdf(7 * MiB, 71);
    const script = app.write('upload.mjs', NODE_SCRIPT);
    const file = app.write('plain-node.pdf', bytes);
    // The project's Node (22), as an app would run it: no loader, no flags.
    const run = spawnSync(join(root, 'node_modules/.bin/node'), [script, server().url, file], { cwd: app.dir, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { final: string; states: string[]; url: string };
    expect(result.final).toBe('ready');
    expect(result.states).toEqual(['validating', 'uploading', 'processing', 'ready']);
    const stored = await fetch(new URL(result.url, server().url));
    expect(sha256(new Uint8Array(await stored.arrayBuffer()))).toBe(sha256(bytes));
    // Resolved through exports to the built file, not to the TypeScript sources.
    const resolved = spawnSync(join(root, 'node_modules/.bin/node'), ['--input-type=module', '-e', "console.log(import.meta.resolve('edge-upload-pipeline/client'))"], { cwd: app.dir, encoding: 'utf8' });
    expect(resolved.stdout.trim()).toMatch(/\/dist\/client\.js$/);
    console.log('proved: node upload.mjs (import from edge-upload-pipeline/client → dist/client.js) uploaded 7 MiB to ready, bytes identical');
  });

  it('a TypeScript app typechecks against the exported declarations of /client, /element and /react', () => {
    app.write('app.ts', TS_APP);
    app.write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2023', 'dom'], strict: true, noEmit: true, skipLibCheck: false, types: [] },
        files: ['app.ts'],
      }),
    );
    // React's types come from the repository's node_modules, as a React app would have them.
    for (const name of ['@types', 'react']) symlinkSync(join(root, 'node_modules', name), join(app.dir, 'node_modules', name), 'dir');
    const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', app.dir], { cwd: app.dir, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expect(readFileSync(join(root, 'package.json'), 'utf8')).toContain('"./client": { "types": "./dist/types/client/index.d.ts"');
  });
});
