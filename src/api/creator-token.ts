/**
 * @module Verifies the creator JWT that authorises creating uploads, with `jose` (one token library
 * for both kinds): HS256 with the shared AUTH_JWT_SECRET, or RS256/ES256/EdDSA from the app's
 * identity provider (AUTH_JWKS_URL, `iss` and `aud` checked). The JWKS is cached per isolate and
 * fetched again for an unknown `kid`; while the endpoint is down, keys already fetched keep working
 * and unknown ones fail closed. Returns the owner (`sub`) and the token's upload grant, if any.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AppConfig, JwksSettings } from '../config';
import { AppError } from '../domain/errors';
import { grantFromClaims, type Grant } from '../domain/grant';

declare module 'hono' {
  interface ContextVariableMap {
    /** The creator token's upload grant (undefined: no narrower limits than the server's). */
    grant: Grant | undefined;
  }
}

export interface CreatorToken {
  owner: string;
  grant: Grant | undefined;
}

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'];
const encoder = new TextEncoder();

type KeyResolver = ReturnType<typeof createRemoteJWKSet>;
const remoteSets = new Map<string, KeyResolver>();

/** One remote key set per JWKS settings and isolate, so keys are fetched once, not per request. */
function keySet(settings: JwksSettings): (header: Parameters<KeyResolver>[0], token: Parameters<KeyResolver>[1]) => ReturnType<KeyResolver> {
  const id = JSON.stringify(settings);
  let remote = remoteSets.get(id);
  if (!remote) {
    remote = createRemoteJWKSet(new URL(settings.url), {
      cooldownDuration: settings.cooldownSeconds * 1000,
      cacheMaxAge: settings.cacheSeconds * 1000,
      timeoutDuration: 5_000,
    });
    remoteSets.set(id, remote);
  }
  const set = remote;
  return async (header, token) => {
    try {
      return await set(header, token);
    } catch (error) {
      // The endpoint could not be reached to refresh a stale set: the keys we have still verify
      // (an unknown kid still fails, as JWKSNoMatchingKey).
      const cached = set.jwks();
      const unreachable = !(error instanceof errors.JWKSNoMatchingKey) && !(error instanceof errors.JWKSMultipleMatchingKeys);
      if (unreachable && cached) return createLocalJWKSet(cached)(header, token);
      throw error;
    }
  };
}

const unauthorized = (why: string) => new AppError('ERR_UNAUTHORIZED', `The bearer token is not valid: ${why}.`);

export async function verifyCreatorToken(config: AppConfig, token: string): Promise<CreatorToken> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized('not a JWT');
  }
  let payload: JWTPayload;
  try {
    if (alg === 'HS256') {
      if (!config.jwtSecret) throw new AppError('ERR_NOT_CONFIGURED', 'HS256 creator tokens are not configured: set the AUTH_JWT_SECRET secret.');
      ({ payload } = await jwtVerify(token, encoder.encode(config.jwtSecret), { algorithms: ['HS256'] }));
    } else if (alg && ASYMMETRIC.includes(alg) && config.jwks) {
      ({ payload } = await jwtVerify(token, keySet(config.jwks), {
        algorithms: ASYMMETRIC,
        issuer: config.jwks.issuer,
        audience: config.jwks.audience,
      }));
    } else {
      throw unauthorized(`tokens signed with ${alg ?? 'no algorithm'} are not accepted here`);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof errors.JWTExpired) throw unauthorized('expired');
    if (error instanceof errors.JWTClaimValidationFailed) throw unauthorized(`the "${error.claim}" claim does not match`);
    if (error instanceof errors.JWKSNoMatchingKey) throw unauthorized('signed with a key the identity provider does not publish');
    if (error instanceof errors.JOSEError && /JWKS|fetch|timeout/i.test(error.code + error.message)) {
      throw unauthorized('the identity provider\'s keys could not be fetched');
    }
    throw unauthorized('the signature does not verify');
  }
  // jose checks `exp` only when present: a token without one would never expire.
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    throw new AppError('ERR_TOKEN_NO_EXPIRY', 'The bearer token needs an "exp" claim: tokens that allow creating uploads must expire.');
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
    throw new AppError('ERR_UNAUTHORIZED', 'The bearer token needs a "sub" claim naming the owner.');
  }
  const grant = grantFromClaims(payload as Record<string, unknown>, config.allowedTypes);
  if (!grant.ok) throw new AppError(grant.code, grant.message);
  return { owner: payload.sub, grant: grant.grant };
}
