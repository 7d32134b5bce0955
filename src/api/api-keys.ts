/**
 * @module Server-to-server authentication: `Authorization: Bearer <API key>`, one of API_KEYS
 * (several accepted, so keys rotate). Never from a browser: a request that carries `Origin` or
 * `Sec-Fetch-Site` (which browsers add and servers do not) is refused even with a valid key, so a
 * key pasted into a page is useless there. Keys are compared through SHA-256 digests in constant time.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { loadConfig } from '../config';
import { AppError } from '../domain/errors';
import type { AppEnv } from './app-env';
import { requirePrincipal } from './auth';

declare module 'hono' {
  interface ContextVariableMap {
    /** True when the request was authenticated by an API key (the app's backend). */
    apiKey: boolean;
  }
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text));
}

function bearerToken(c: Context): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  return match?.[1];
}

/** True when `token` is one of the configured API keys. */
export async function isApiKey(keys: readonly string[], token: string): Promise<boolean> {
  const presented = await digest(token);
  let match = false;
  // Every key is compared (no early exit), each in constant time.
  for (const key of keys) if (crypto.subtle.timingSafeEqual(presented, await digest(key))) match = true;
  return match;
}

/** Whether the request came from a browser: browsers send these on every fetch, servers do not. */
export function fromBrowser(c: Context): boolean {
  return c.req.header('origin') !== undefined || c.req.header('sec-fetch-site') !== undefined;
}

/**
 * Authenticates an API key if the request presents one: true when it did, false when the bearer
 * token is something else (e.g. a creator JWT). Throws when a key comes from a browser.
 */
export async function apiKeyPresented(c: Context<AppEnv>): Promise<boolean> {
  const token = bearerToken(c);
  const keys = loadConfig(c.env).apiKeys;
  if (!token || keys.length === 0 || !(await isApiKey(keys, token))) return false;
  if (fromBrowser(c)) throw new AppError('ERR_API_KEY_FROM_BROWSER', 'API keys are for server-to-server calls; this request came from a browser.');
  c.set('apiKey', true);
  return true;
}

/** Requires an API key (the app's backend). */
export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async function requireApiKey(c, next) {
    if (loadConfig(c.env).apiKeys.length === 0) throw new AppError('ERR_NOT_CONFIGURED', 'Server-to-server calls are not configured: set the API_KEYS secret.');
    if (!bearerToken(c)) throw new AppError('ERR_UNAUTHORIZED', 'Send an API key as "Authorization: Bearer <key>".');
    if (!(await apiKeyPresented(c))) throw new AppError('ERR_API_KEY_INVALID', 'The API key is not one this server accepts.');
    return next();
  };
}

/** The app's backend (an API key) or a creator (a creator JWT, or anonymous in dev mode), for routes both may call. */
export function requireAppOrCreator(): MiddlewareHandler<AppEnv> {
  const creator = requirePrincipal();
  return async function requireAppOrCreator(c, next) {
    if (await apiKeyPresented(c)) return next();
    c.set('apiKey', false);
    return creator(c, next);
  };
}
