/**
 * Issue 7's load run (too long for `npm test`): against its own `wrangler dev`, 100 concurrent
 * small uploads plus 4 concurrent large ones (256 MiB by default) with the project's client
 * library, while 200 WebSocket subscribers watch one of the large uploads. Checks every file's
 * bytes, counts 5xx answers (must be 0) and checks all 200 subscribers saw the final state.
 *
 *   npm run bench:load -- [--small 100] [--large 4] [--large-mib 256] [--subscribers 200]
 *
 * Exits non-zero when anything was lost or wrong, so it can gate a release.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryUploadStore, Uploader, type Upload } from '../src/client/index';
import { startDevServer } from '../test/e2e/dev-server';
import { randomBytes } from '../test/e2e/fixtures';

const MiB = 1024 * 1024;
const { values: args } = parseArgs({
  options: {
    small: { type: 'string', default: '100' },
    large: { type: 'string', default: '4' },
    'large-mib': { type: 'string', default: '256' },
    subscribers: { type: 'string', default: '200' },
  },
});
const SMALL = Number(args.small);
const LARGE = Number(args.large);
const LARGE_BYTES = Number(args['large-mib']) * MiB;
const SUBSCRIBERS = Number(args.subscribers);

/** Writes a seeded PDF-looking file of `size` bytes in 8 MiB slices; returns its SHA-256. */
async function makeFile(path: string, size: number, seed: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let offset = 0, i = 0; offset < size; offset += 8 * MiB, i++) {
    const chunk = randomBytes(Math.min(8 * MiB, size - offset), seed * 1000 + i);
    if (offset === 0) Buffer.from('%PDF-1.7\n').copy(chunk);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

async function sha256Of(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url} → ${res.status}`);
  const hash = createHash('sha256');
  for await (const chunk of res.body) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'uploads-load-'));
  // 104 unfinished uploads at once from one (dev) owner: above the default quota of 100.
  const server = await startDevServer({ vars: { QUOTA_MAX_ACTIVE_UPLOADS: '1000' } });
  const statuses = new Map<number, number>();
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return res;
  };
  const sockets: WebSocket[] = [];
  try {
    console.log(`inputs: ${SMALL} × 64 KiB … 2 MiB, ${LARGE} × ${LARGE_BYTES / MiB} MiB (seeded)`);
    const small = await Promise.all(
      Array.from({ length: SMALL }, async (_, i) => {
        const path = join(dir, `small-${i}.pdf`);
        return { path, size: 64 * 1024 + ((i * 19_999) % (2 * MiB)), sha256: '' };
      }),
    );
    for (const [i, file] of small.entries()) file.sha256 = await makeFile(file.path, file.size, i + 1);
    const large = [];
    for (let i = 0; i < LARGE; i++) {
      const path = join(dir, `large-${i}.pdf`);
      large.push({ path, size: LARGE_BYTES, sha256: await makeFile(path, LARGE_BYTES, 10_000 + i) });
    }

    const uploader = new Uploader({ endpoint: server.url, fetch: counting, store: new MemoryUploadStore() });
    const started = Date.now();
    const watched: { ready: number; states: Set<string> } = { ready: 0, states: new Set() };
    const add = async (file: { path: string; size: number }, name: string): Promise<Upload> =>
      uploader.add(await openAsBlob(file.path, { type: 'application/pdf' }), { name, type: 'application/pdf' });

    const largeUploads = await Promise.all(large.map((file, i) => add(file, `large-${i}.pdf`)));
    // 200 subscribers on the first large upload, as soon as it has an id.
    const first = largeUploads[0]!;
    await new Promise<void>((resolve) => {
      const poll = () => ((first as unknown as { token: string }).token ? resolve() : setTimeout(poll, 20));
      poll();
    });
    const token = (first as unknown as { token: string }).token;
    await Promise.all(
      Array.from({ length: SUBSCRIBERS }, () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/uploads/${first.id}/events?token=${encodeURIComponent(token)}`);
          sockets.push(ws);
          let sawReady = false;
          ws.addEventListener('open', () => resolve());
          ws.addEventListener('error', () => reject(new Error('subscriber failed to connect')));
          ws.addEventListener('message', (event) => {
            const message = JSON.parse(String(event.data)) as { type: string; state?: string; manifest?: { state: string } };
            const state = message.type === 'state' ? message.state : message.type === 'snapshot' ? message.manifest?.state : undefined;
            if (state) watched.states.add(state);
            if (state === 'ready' && !sawReady) {
              sawReady = true;
              watched.ready += 1;
            }
          });
        }),
      ),
    );
    const smallUploads = await Promise.all(small.map((file, i) => add(file, `small-${i}.pdf`)));
    const all = [...largeUploads, ...smallUploads];
    const finals = await Promise.all(all.map((u) => u.done));
    const seconds = (Date.now() - started) / 1000;
    for (let i = 0; i < 100 && watched.ready < SUBSCRIBERS; i++) await new Promise((r) => setTimeout(r, 100));

    let wrong = 0;
    const files = [...large, ...small];
    for (const [i, upload] of all.entries()) {
      const url = new URL(upload.manifest?.result?.url ?? `/media/${upload.id}`, server.url).toString();
      if (finals[i] !== 'ready' || (await sha256Of(url)) !== files[i]!.sha256) wrong += 1;
    }
    const fiveXX = [...statuses].filter(([s]) => s >= 500).reduce((sum, [, n]) => sum + n, 0);
    const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
    console.log(
      [
        `uploads: ${all.length} (${SMALL} small + ${LARGE} large), ${(totalBytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s ` +
          `(${(totalBytes / MiB / seconds).toFixed(1)} MiB/s aggregate)`,
        `ready with identical bytes: ${all.length - wrong}/${all.length}; wrong or lost: ${wrong}`,
        `HTTP answers by status: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}; 5xx: ${fiveXX}`,
        `subscribers that saw "ready": ${watched.ready}/${SUBSCRIBERS} (states seen: ${[...watched.states].join(', ')})`,
      ].join('\n'),
    );
    if (wrong > 0 || fiveXX > 0 || watched.ready < SUBSCRIBERS) process.exitCode = 1;
  } finally {
    for (const ws of sockets) ws.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => process.exit(130));
await main();
