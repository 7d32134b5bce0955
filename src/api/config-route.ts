/**
 * @module `GET /api/config`: the limits and allowlist clients check before any upload request.
 * Called with a creator JWT that carries an upload grant, it answers the grant's narrower limits,
 * so the page and the client refuse early what the server would refuse.
 */
import { Hono } from 'hono';
import { loadConfig } from '../config';
import { narrowMaxFileSize, narrowTypes } from '../domain/grant';
import type { AppEnv } from './app-env';
import { verifyCreatorToken } from './creator-token';

export const configRoute = new Hono<AppEnv>();

configRoute.get('/', async (c) => {
  const config = loadConfig(c.env);
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
  const grant = token ? (await verifyCreatorToken(config, token)).grant : undefined;
  c.header('Cache-Control', token ? 'private, no-store' : 'public, max-age=60');
  c.header('Vary', 'Authorization');
  return c.json({
    maxFileSize: narrowMaxFileSize(config.maxFileSize, grant),
    allowedTypes: narrowTypes(config.allowedTypes, grant),
    partSize: { min: config.partLimits.min, max: config.partLimits.max, default: config.partLimits.default },
    maxParts: config.partLimits.maxParts,
    uploadTtlSeconds: config.uploadTtlSeconds,
    anonymousUploads: config.allowAnonymous,
    directUploads: config.directUploads !== undefined,
    // The per-owner quota of unfinished uploads: the client library opens at most this many at once.
    maxActiveUploads: config.quotas.maxActiveUploads,
    ...(grant ? { grant: { ...(grant.maxFiles ? { maxFiles: grant.maxFiles } : {}), ...(grant.visibility ? { visibility: grant.visibility } : {}) } } : {}),
  });
});
