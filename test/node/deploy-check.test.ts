/**
 * The deploy check CI runs: `wrangler deploy --dry-run` bundles the Worker exactly as a deploy
 * would (custom build, assets, every binding validated) without an account or network, and the
 * gzipped bundle stays under a budget.
 *
 * Budget: 1.5 MiB gzipped. Cloudflare refuses Workers over 3 MiB gzipped on the Free plan (10 MiB
 * on paid plans); the budget is half of the smallest limit, so growth is noticed (and argued
 * for) long before a deploy could fail. Today's bundle is ~0.8 MiB: ~0.6 MiB of it is photon's
 * WASM, ~0.2 MiB our code, Hono, zod and hash-wasm. The static assets (public/) are uploaded
 * separately and do not count.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const KiB = 1024;
export const BUNDLE_BUDGET_GZIP_BYTES = 1.5 * 1024 * KiB;

describe('wrangler deploy --dry-run', () => {
  it(`bundles offline, and the gzipped Worker stays under ${BUNDLE_BUDGET_GZIP_BYTES / 1024 / KiB} MiB`, () => {
    const outdir = mkdtempSync(join(tmpdir(), 'deploy-dry-run-'));
    try {
      const output = execFileSync(join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
        // Offline: no telemetry, no request.cf download, no prompts.
        env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(output).toContain('--dry-run: exiting now.');
      for (const binding of ['env.UPLOAD_SESSION', 'env.PROCESS_QUEUE', 'env.BUCKET', 'env.METRICS']) expect(output).toContain(binding);

      // What is uploaded: the script and its modules (WASM), not source maps or the README wrangler writes.
      const modules = readdirSync(outdir).filter((name) => !name.endsWith('.map') && name !== 'README.md');
      expect(modules).toContain('index.js');
      const gzipped = modules.reduce((sum, name) => sum + gzipSync(readFileSync(join(outdir, name)), { level: 9 }).length, 0);
      // wrangler's own figure ("Total Upload: … / gzip: … KiB") agrees within rounding and compression level.
      const reported = Number(/gzip: ([\d.]+) KiB/.exec(output)?.[1]) * KiB;
      expect(Math.abs(reported - gzipped) / gzipped).toBeLessThan(0.05);
      console.log(`[deploy] gzipped bundle ${(gzipped / KiB).toFixed(0)} KiB of a ${BUNDLE_BUDGET_GZIP_BYTES / KiB} KiB budget (${modules.join(', ')})`);
      expect(gzipped).toBeLessThan(BUNDLE_BUDGET_GZIP_BYTES);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
