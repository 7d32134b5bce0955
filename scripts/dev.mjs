#!/usr/bin/env node
/**
 * @module `npm run dev`: applies the D1 migrations (migrations/) to the local database that
 * `wrangler dev` will use (the same --persist-to), then runs `wrangler dev --env-file dev.env`
 * with the arguments given. wrangler dev does not apply D1 migrations by itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules/.bin/wrangler');
const args = process.argv.slice(2);

/** The value of `--name value` or `--name=value` among the arguments. */
function option(name) {
  for (const [i, arg] of args.entries()) {
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

const config = option('--config') ?? option('-c');
const persist = option('--persist-to');
// Another config (e.g. a benchmark Worker) may have no D1 database: nothing to migrate then.
const hasD1 = /^\s*\[\[d1_databases\]\]/m.test(readFileSync(resolve(root, config ?? 'wrangler.toml'), 'utf8'));
if (hasD1) {
  const migrate = spawnSync(
    wrangler,
    ['d1', 'migrations', 'apply', 'DB', '--local', ...(persist ? ['--persist-to', persist] : []), ...(config ? ['--config', config] : [])],
    // CI=1: wrangler asks for confirmation on a terminal otherwise.
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CI: '1' } },
  );
  if (migrate.status !== 0) process.exit(migrate.status ?? 1);
}

const child = spawn(wrangler, ['dev', '--env-file', 'dev.env', ...args], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
