/**
 * @module Authentication for the native API: who may create uploads (a bearer JWT, or anonymous
 * in the explicit development mode) and who may act on one (its signed upload token).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { loadConfig, requireKeyRing } from '../config';
import { verifyCapability, type CapabilityClaims, type VerifyFailure } from '../domain/capability';
import { AppError } from '../domain/errors';
import type { Env } from '../env';
import type { AppEnv } from './app-env';
import { verifyCreatorToken } from './creator-token';

function bearer(c: Context): string | undefined {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export interface PrincipalOptions {
  /** Where else the JWT may come from, for clients that cannot set headers (Uppy's Companion mode). */
  token?: (c: Context<AppEnv>) => string | undefined;
}

/** The principal of development mode's anonymous uploads (DEV_ALLOW_ANONYMOUS_UPLOADS). */
export const DEV_ANONYMOUS = 'anonymous';

/**
 * The owner id of a JWT `sub`: the sub itself, except that a sub which could be mistaken for the
 * development principal ("anonymous") or for an escaped sub (starting with "~") gets a "~" in
 * front. Injective, and never DEV_ANONYMOUS: a token naming itself "anonymous" is a principal of
 * its own, with its own quota and rate limits.
 */
export const ownerOfSub = (sub: string): string => (sub === DEV_ANONYMOUS || sub.startsWith('~') ? `~${sub}` : sub);

/** Sets `owner` from a valid creator JWT (`sub`, `exp`) and `grant` from its claims, or DEV_ANONYMOUS when dev mode allows it. */
export function requirePrincipal(options: PrincipalOptions = {}): MiddlewareHandler<AppEnv> {
  return async function requirePrincipal(c, next) {
    const config = loadConfig(c.env);
    const token = bearer(c) ?? options.token?.(c);
    if (!token) {
      if (!config.allowAnonymous) {
        if (!config.jwtSecret && !config.jwks) {
          throw new AppError('ERR_NOT_CONFIGURED', 'Uploads are not configured: set the AUTH_JWT_SECRET secret.');
        }
        throw new AppError('ERR_UNAUTHORIZED', 'Creating an upload needs "Authorization: Bearer <JWT>".');
      }
      c.set('owner', DEV_ANONYMOUS);
      return next();
    }
    // jose: HS256 (AUTH_JWT_SECRET) or the identity provider's keys (AUTH_JWKS_URL); the token may carry an upload grant.
    const creator = await verifyCreatorToken(config, token);
    c.set('owner', ownerOfSub(creator.owner));
    c.set('grant', creator.grant);
    return next();
  };
}

const FAILURES: Record<VerifyFailure, AppError> = {
  malformed: new AppError('ERR_TOKEN_INVALID', 'The upload token is malformed.'),
  'unknown-key': new AppError('ERR_TOKEN_INVALID', 'The upload token was signed with a key this server does not accept.'),
  'bad-signature': new AppError('ERR_TOKEN_INVALID', 'The upload token signature does not verify.'),
  expired: new AppError('ERR_TOKEN_EXPIRED', 'The upload token has expired.'),
  'wrong-upload': new AppError('ERR_TOKEN_SCOPE', 'The upload token is for another upload.'),
};

/** Verifies the upload token (`Authorization: Bearer` or `?token=`) for `uploadId`. */
export async function requireCapability(c: Context<AppEnv>, uploadId: string): Promise<CapabilityClaims> {
  const token = bearer(c) ?? c.req.query('token');
  if (!token) throw new AppError('ERR_UNAUTHORIZED', 'Send the upload token as "Authorization: Bearer <token>" or ?token=.');
  const claims = await checkCapability(c.env, token, uploadId);
  c.set('tokenOwner', claims.sub);
  return claims;
}

/** Verifies an upload token however it arrived (the S3-style adapter carries it in its upload id or a form field). */
export async function checkCapability(env: Env, token: string, uploadId: string): Promise<CapabilityClaims> {
  const result = await verifyCapability(requireKeyRing(loadConfig(env)), token, uploadId);
  if (!result.ok) throw FAILURES[result.reason];
  return result.claims;
}
