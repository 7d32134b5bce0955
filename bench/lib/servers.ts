/**
 * The servers a benchmark run starts, and their clean-up: the project's Worker and the bench-only
 * ceiling Worker (each through the test harness's `wrangler dev` on a free loopback port with a
 * fresh persistence directory), and the @tus/server peer in its own Node process. Every server is
 * registered so that an error, SIGINT or SIGTERM stops them all.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startDevServer } from '../../test/e2e/dev-server';
import { findRootByCmdline, type ProcessGroup, workerdGroups } from './procs';

export const root = resolve(import.meta.dirname, '../..');

export interface BenchServer {
  name: string;
  url: string;
  /** Process groups to meter (CPU, memory) while this server works. */
  groups: ProcessGroup[];
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<BenchServer>();
const scratch = new Set<string>();

/** A temporary directory removed by cleanup(). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

export async function cleanup(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

let handlersInstalled = false;
/** Stops every server on Ctrl-C / SIGTERM before exiting. */
export function installSignalHandlers(beforeExit?: () => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping servers…`);
      try {
        beforeExit?.();
      } catch (error) {
        console.error(error);
      }
      void cleanup().finally(() => process.exit(130));
    });
  }
}

async function wranglerServer(name: string, config: string): Promise<BenchServer> {
  // wrangler resolves `--env-file dev.env` next to the config: the snapshot has a copy.
  const dev = await startDevServer({ config });
  let rootPid: number | undefined;
  const rootOf = () => (rootPid ??= findRootByCmdline(dev.persistDir));
  const server: BenchServer = {
    name,
    url: dev.url,
    groups: workerdGroups(rootOf, dev.port),
    log: dev.log,
    async stop() {
      running.delete(server);
      await dev.stop();
    },
  };
  running.add(server);
  if (!server.groups[0]!.pids().length) {
    await server.stop();
    throw new Error(`${name}: no workerd process found under wrangler dev`);
  }
  return server;
}

/** What a snapshot of the Worker needs; node_modules is linked, not copied. */
const SNAPSHOT = ['src', 'public', 'scripts', 'migrations', 'bench/ceiling', 'bench/profile', 'wrangler.toml', 'dev.env', 'package.json', 'tsconfig.json'];
let snapshotDir: string | undefined;

/**
 * A copy of the Worker's sources as they were when the run started. `wrangler dev` watches its
 * sources and restarts the Worker on every change; serving from a snapshot keeps a long run on one
 * version of the code even while someone edits src/. The snapshot's path is in the JSON.
 */
export function snapshot(): string {
  if (snapshotDir) return snapshotDir;
  const dir = scratchDir('upload-bench-tree-');
  for (const entry of SNAPSHOT) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  snapshotDir = dir;
  return dir;
}

/** The project's Worker as `npm run dev` runs it (same command, config, dev.env), from the snapshot. */
export const startPipeline = () => wranglerServer('pipeline', join(snapshot(), 'wrangler.toml'));

/** The bench-only Worker of bench/ceiling/ (one streaming put() into an R2 binding). */
export const ceilingConfig = () => join(snapshot(), 'bench/ceiling/wrangler.toml');
export const startCeiling = () => wranglerServer('ceiling', ceilingConfig());

/**
 * The ceiling Worker behind wrangler's static-assets router, as the project's Worker is (its
 * wrangler.toml has [assets] with run_worker_first): every request, body included, then passes
 * through the router Worker first. Locally that router runs in the same workerd and its CPU is
 * counted; in production it is Cloudflare's, not the Worker's.
 */
export function ceilingWithAssetsConfig(): string {
  const dir = snapshot();
  const config = join(dir, 'bench/ceiling/wrangler.assets.toml');
  writeFileSync(config, `${readFileSync(ceilingConfig(), 'utf8')}\n[assets]\ndirectory = "${join(dir, 'public')}"\nrun_worker_first = true\n`);
  return config;
}
export const startCeilingWithAssets = () => wranglerServer('ceiling+assets', ceilingWithAssetsConfig());

/**
 * The project's Worker with timed bindings (bench/profile/worker.js): the project's wrangler.toml
 * with only `name` and `main` changed, written beside it in the snapshot, so bindings never drift.
 */
export function startProfiled(): Promise<BenchServer> {
  const dir = snapshot();
  let toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8');
  for (const [pattern, line] of [
    [/^name\s*=.*$/m, 'name = "bench-profile"'],
    [/^main\s*=.*$/m, 'main = "bench/profile/worker.js"'],
  ] as const) {
    if (!pattern.test(toml)) throw new Error(`bench profile: wrangler.toml has no line matching ${pattern}`);
    toml = toml.replace(pattern, line);
  }
  const config = join(dir, 'wrangler.bench-profile.toml');
  writeFileSync(config, toml);
  return wranglerServer('profile', config);
}

/** @tus/server + @tus/file-store in a child Node process (the project's Node, via tsx). */
export async function startTus(): Promise<BenchServer & { dir: string }> {
  const port = await freePort();
  const dir = scratchDir('upload-bench-tus-');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/peer/tus-server.ts')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const server = {
    name: 'tus',
    url: `http://127.0.0.1:${port}`,
    dir,
    groups: [{ name: 'tus', pids: () => (child.exitCode === null ? [child.pid!] : []) }],
    log: () => output,
    async stop() {
      running.delete(server);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!stopped) child.kill('SIGKILL');
    },
  };
  running.add(server);
  const deadline = Date.now() + 30_000;
  while (!output.includes('listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`@tus/server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}
