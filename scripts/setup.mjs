#!/usr/bin/env node
/**
 * @module `npm run setup [-- --dry-run]`: creates on Cloudflare everything wrangler.toml names —
 * the R2 bucket (and its lifecycle rules), every queue and dead-letter queue, the D1 database (its id
 * written into wrangler.toml, its migrations applied) — and sets the secrets to fresh random values.
 * The resources are read from wrangler.toml through wrangler's own parser, so the list cannot drift;
 * the secrets are those listed in wrangler.toml's "Secrets" comment. `--dry-run` prints the commands.
 * Re-running is safe: a resource that exists already is reported and skipped.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_readConfig } from 'wrangler';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configPath = join(root, 'wrangler.toml');
const dryRun = process.argv.includes('--dry-run');

/** How each secret's first value is made; the names come from wrangler.toml. */
const SECRET_VALUES = {
  AUTH_JWT_SECRET: () => randomBytes(32).toString('base64url'),
  UPLOAD_TOKEN_KEYS: () => `k1:${randomBytes(32).toString('base64url')}`,
  MEDIA_URL_KEYS: () => `m1:${randomBytes(32).toString('base64url')}`,
  API_KEYS: () => `ak_${randomBytes(32).toString('base64url')}`,
  WEBHOOK_SECRET: () => `whsec_${randomBytes(32).toString('base64')}`,
};

/** The secret names listed under "# Secrets" in wrangler.toml (lines like "#   NAME   what it is"). */
export function secretNames(toml) {
  const block = toml.split('\n').filter((line) => /^#\s{3}[A-Z][A-Z0-9_]+\s/.test(line));
  return block.map((line) => line.trim().split(/\s+/)[1]);
}

/** Every command this setup runs, in order, derived from the parsed wrangler config. */
export function planCommands(config, toml) {
  const commands = [];
  for (const bucket of config.r2_buckets ?? []) commands.push(['r2', 'bucket', 'create', bucket.bucket_name]);
  if (existsSync(join(root, 'lifecycle/r2-lifecycle.json'))) {
    for (const bucket of config.r2_buckets ?? []) commands.push(['r2', 'bucket', 'lifecycle', 'set', bucket.bucket_name, '--file', 'lifecycle/r2-lifecycle.json']);
  }
  const queues = new Set();
  for (const p of config.queues?.producers ?? []) queues.add(p.queue);
  for (const c of config.queues?.consumers ?? []) {
    queues.add(c.queue);
    if (c.dead_letter_queue) queues.add(c.dead_letter_queue);
  }
  for (const queue of queues) commands.push(['queues', 'create', queue]);
  for (const db of config.d1_databases ?? []) {
    commands.push(['d1', 'create', db.database_name]);
    commands.push(['d1', 'migrations', 'apply', db.binding, '--remote']);
  }
  // Secrets belong to a deployed Worker: deploy first (it answers ERR_NOT_CONFIGURED until they are set).
  commands.push(['deploy']);
  for (const name of secretNames(toml)) commands.push(['secret', 'put', name]);
  return commands;
}

/** After `d1 create`: put the new database's id into wrangler.toml, so deploys and migrations find it. */
function recordDatabaseId(name, output) {
  const id = /database_id"?\s*[=:]\s*"([0-9a-f-]{36})"/.exec(output)?.[1];
  if (!id) return;
  const toml = readFileSync(configPath, 'utf8');
  if (toml.includes('database_id')) return;
  writeFileSync(configPath, toml.replace(`database_name = "${name}"`, `database_name = "${name}"\ndatabase_id = "${id}"`));
  console.log(`wrote database_id ${id} into wrangler.toml`);
}

function main() {
  const toml = readFileSync(configPath, 'utf8');
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const commands = planCommands(config, toml);
  if (dryRun) {
    for (const args of commands) {
      const note = args[0] === 'secret' ? `   # stdin: a fresh random value${SECRET_VALUES[args[2]] ? '' : ' (set it yourself)'}` : '';
      console.log(`wrangler ${args.join(' ')}${note}`);
    }
    return;
  }
  const generated = [];
  const problems = [];
  for (const args of commands) {
    console.log(`\n$ wrangler ${args.join(' ')}`);
    let input;
    if (args[0] === 'secret') {
      const make = SECRET_VALUES[args[2]];
      if (!make) {
        console.log(`  skipped: set ${args[2]} yourself (wrangler secret put ${args[2]})`);
        continue;
      }
      input = make();
      generated.push(`${args[2]}=${input}`);
    }
    const run = spawnSync(join(root, 'node_modules/.bin/wrangler'), args, { cwd: root, input, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    process.stdout.write(run.stdout ?? '');
    process.stderr.write(run.stderr ?? '');
    const output = `${run.stdout}${run.stderr}`;
    if (args[0] === 'd1' && args[1] === 'create') recordDatabaseId(args[2], output);
    if (run.status !== 0) {
      if (/already exists|already taken|already in use/i.test(output)) console.log('  (exists already: kept)');
      else problems.push(`wrangler ${args.join(' ')}`);
    }
  }
  if (generated.length > 0) {
    console.log('\nSecrets set to these values. Keep them in your app\'s secret store (the SDK needs AUTH_JWT_SECRET, API_KEYS, WEBHOOK_SECRET, MEDIA_URL_KEYS); they are not shown again:');
    for (const line of generated) console.log(`  ${line}`);
  }
  if (problems.length > 0) {
    console.error(`\nThese failed; fix the cause and run npm run setup again:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
