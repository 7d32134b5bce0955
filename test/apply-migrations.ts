/** @module Vitest setup file (runs in workerd before each test file): applies migrations/ to the D1 binding, as `npm run dev` does. */
import { applyD1Migrations, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: D1Migration[] }).TEST_MIGRATIONS);
