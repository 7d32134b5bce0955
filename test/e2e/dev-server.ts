/**
 * Starts `wrangler dev` (real workerd, local R2/DO/Queues) on a free loopback port with its own
 * persistence directory, exactly as a developer runs `npm run dev`; stops it (or kills it -9).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface DevServer {
  url: string;
  port: number;
  persistDir: string;
  /** Output so far, for diagnostics. */
  log(): string;
  /** Graceful stop; removes the persistence directory unless `keepState`. */
  stop(keepState?: boolean): Promise<void>;
  /** SIGKILL the whole process tree (wrangler and workerd), like a crash. */
  crash(): Promise<void>;
}

export interface DevServerOptions {
  persistDir?: string;
  port?: number;
  vars?: Record<string, string>;
  /** Another wrangler config (e.g. the benchmarks' bench-only Worker); the project's wrangler.toml otherwise. */
  config?: string;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output()}`);
    try {
      const res = await fetch(`${url}/api/config`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become ready:\n${output()}`);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), 'uploads-e2e-'));
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const config = options.config ? ['--config', options.config] : [];
  // The same command `npm run dev` runs (D1 migrations, then wrangler dev), with the project's Node first on PATH.
  const child = spawn(
    join(root, 'node_modules/.bin/node'),
    [join(root, 'scripts/dev.mjs'), '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistDir, ...config, ...vars],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // Already gone.
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  try {
    await waitUntilReady(url, child, () => output);
  } catch (error) {
    await signal('SIGKILL');
    throw error;
  }
  return {
    url,
    port,
    persistDir,
    log: () => output,
    async stop(keepState = false) {
      await signal('SIGTERM');
      await signal('SIGKILL');
      if (!keepState && !options.persistDir) rmSync(persistDir, { recursive: true, force: true });
    },
    crash: () => signal('SIGKILL'),
  };
}
