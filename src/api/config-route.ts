/** @module `GET /api/config`: the limits and allowlist clients check before any upload request. */
import { Hono } from 'hono';
import { loadConfig } from '../config';
import type { AppEnv } from './app-env';

export const configRoute = new Hono<AppEnv>();

configRoute.get('/', (c) => {
  const config = loadConfig(c.env);
  c.header('Cache-Control', 'public, max-age=60');
  return c.json({
    maxFileSize: config.maxFileSize,
    allowedTypes: config.allowedTypes,
    partSize: { min: config.partLimits.min, max: config.partLimits.max, default: config.partLimits.default },
    maxParts: config.partLimits.maxParts,
    uploadTtlSeconds: config.uploadTtlSeconds,
    anonymousUploads: config.allowAnonymous,
    directUploads: config.directUploads !== undefined,
  });
});
