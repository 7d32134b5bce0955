import { readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** The same development settings `npm run dev` loads (wrangler dev --env-file dev.env). */
function devVars(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(new URL('./dev.env', import.meta.url), 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

/** The D1 schema (migrations/), applied to each test's database by test/apply-migrations.ts. */
const migrations = await readD1Migrations(new URL('./migrations', import.meta.url).pathname);

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]],
    projects: [
      {
        // Worker, Durable Object and Queue code, inside workerd.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { ...devVars(), TEST_MIGRATIONS: migrations },
              // A small part budget so the rate-limit tests reach it quickly: 5 batches of 10 = 50 part
              // requests (requests without CF-Connecting-IP, as the other tests send, skip the IP limit).
              ratelimits: { PART_LIMIT: { namespace_id: '1003', simple: { limit: 5, period: 10 } } },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/node/**', 'test/unit/**'],
          globalSetup: ['./test/setup/clamd.ts', './test/setup/videos.ts'],
          setupFiles: ['./test/apply-migrations.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // Pure logic (the state machine, planning, sniffing, signing): no runtime, plain Node.
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // Real clients (Chromium via Playwright, the client library in Node) against `wrangler dev`.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
