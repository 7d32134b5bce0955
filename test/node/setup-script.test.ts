/**
 * `npm run setup -- --dry-run` prints the wrangler commands that create what wrangler.toml needs:
 * checked here against wrangler.toml as wrangler itself reads it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';

const root = resolve(import.meta.dirname, '../..');

describe('npm run setup --dry-run', () => {
  it('creates every bucket, queue, dead-letter queue and database in wrangler.toml, sets every secret it lists, and deploys', () => {
    const printed = execFileSync(join(root, 'node_modules/.bin/node'), ['scripts/setup.mjs', '--dry-run'], { cwd: root, encoding: 'utf8' });
    const commands = printed.split('\n').filter((l) => l.startsWith('wrangler ')).map((l) => l.replace(/\s+#.*$/, ''));
    const config = unstable_readConfig({ config: join(root, 'wrangler.toml') }, { hideWarnings: true });
    const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8');

    const expected: string[] = [];
    for (const bucket of config.r2_buckets) expected.push(`wrangler r2 bucket create ${bucket.bucket_name}`);
    const queues = new Set([
      ...(config.queues.producers ?? []).map((p: { queue: string }) => p.queue),
      ...(config.queues.consumers ?? []).flatMap((c: { queue: string; dead_letter_queue?: string }) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])]),
    ]);
    expect(queues).toContain('upload-events-dlq');
    for (const queue of queues) expected.push(`wrangler queues create ${queue}`);
    for (const db of config.d1_databases) expected.push(`wrangler d1 create ${db.database_name}`, `wrangler d1 migrations apply ${db.binding} --remote`);
    const secrets = [...toml.matchAll(/^#\s{3}([A-Z][A-Z0-9_]+)\s/gm)].map((m) => m[1]!);
    expect(secrets).toEqual(expect.arrayContaining(['AUTH_JWT_SECRET', 'UPLOAD_TOKEN_KEYS', 'WEBHOOK_SECRET', 'API_KEYS', 'MEDIA_URL_KEYS']));
    for (const name of secrets) expected.push(`wrangler secret put ${name}`);
    expected.push('wrangler deploy', 'wrangler r2 bucket lifecycle set edge-uploads --file lifecycle/r2-lifecycle.json');

    expect([...commands].sort()).toEqual([...expected].sort());
    // Nothing is created twice; secrets go to the deployed Worker.
    expect(new Set(commands).size).toBe(commands.length);
    expect(commands.indexOf('wrangler deploy')).toBeLessThan(commands.indexOf('wrangler secret put AUTH_JWT_SECRET'));
    // Migrations run after the database exists.
    expect(commands.indexOf('wrangler d1 create edge-uploads')).toBeLessThan(commands.indexOf('wrangler d1 migrations apply DB --remote'));
  });
});
