/**
 * @module Runtime configuration read from the Worker's variables, with defaults, parsed once
 * per environment object. Invalid values fail loudly (ERR_NOT_CONFIGURED) rather than silently.
 */
import { KeyRing } from './domain/capability';
import { AppError } from './domain/errors';
import { MAX_PARTS, MiB, type PartLimits } from './domain/part-plan';
import { DEFAULT_PROCESSING_SLICE_BYTES } from './domain/processing-slice';
import type { QuotaLimits } from './durable/owner-ledger';
import type { Env } from './env';
import { parseVariants, type VariantSpec } from './media/variants';
import type { Visibility } from './contracts/messages';

export const DEFAULT_ALLOWED_TYPES = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
  'video/mp4',
  'video/quicktime',
  'video/webm',
  'application/pdf',
];

export interface AppConfig {
  maxFileSize: number;
  allowedTypes: string[];
  partLimits: PartLimits;
  /** How long an unfinished upload lives after its last confirmed part. */
  uploadTtlSeconds: number;
  /** How long an upload token is valid (default 7 days, R2's own limit for multipart uploads). */
  tokenTtlSeconds: number;
  /** A processing job silent for this long is queued again. */
  processingWatchdogSeconds: number;
  /** Bytes the processing consumer hashes and scans per invocation (see src/pipeline/hash-scan-slice.ts). */
  processingSliceBytes: number;
  quotas: QuotaLimits;
  allowAnonymous: boolean;
  jwtSecret?: string;
  /** Creator JWTs from the app's identity provider (asymmetric keys from a JWKS). */
  jwks?: JwksSettings;
  /** Null when no keys are configured: creating uploads is then refused. */
  keyRing: KeyRing | null;
  keyRingError?: string;
  /** Exact origins allowed for cross-origin browser calls. */
  corsOrigins: string[];
  /** Import from a URL: the total time limit, and whether plain http to loopback is allowed (development). */
  imports: { timeoutSeconds: number; allowHttpLoopback: boolean };
  /** Image variants made for every image (VARIANTS; default thumb, display, w640, w1920). */
  variants: VariantSpec[];
  /** Webhook endpoints and how deliveries are signed and retried (empty `urls`: none are sent). */
  webhooks: WebhookSettings;
  /** Accepted server-to-server API keys (several, so they rotate). */
  apiKeys: string[];
  /** Keys for signed media URLs (private files); null when none are configured. */
  mediaKeys: KeyRing | null;
  mediaKeysError?: string;
  defaultVisibility: Visibility;
  /** Where this service is reachable, for absolute URLs in events; null: paths only. */
  publicBaseUrl: string | null;
  /** Set when parts may go straight to R2's S3 API through presigned URLs. */
  directUploads?: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** The S3-style (Uppy) API hands out presigned R2 part URLs too (S3_DIRECT_PARTS=true). */
  s3DirectParts: boolean;
  /** A clamd daemon to scan with, after the built-in scanner (CLAMD_HOST, CLAMD_PORT). */
  clamd?: { host: string; port: number };
  /** Cache-Control of public originals at /media/:id (ORIGINALS_CACHE_CONTROL). */
  originalsCacheControl: string;
}

export interface WebhookSettings {
  urls: string[];
  /** Standard Webhooks secrets (`whsec_…`); every one signs, so receivers can rotate. */
  secrets: string[];
  maxAttempts: number;
  retryBaseSeconds: number;
  timeoutSeconds: number;
}

const cache = new WeakMap<object, AppConfig>();

function bounded(value: string | undefined, fallback: number, name: string, max: number): number {
  const n = integer(value, fallback, name);
  if (n > max) throw new AppError('ERR_NOT_CONFIGURED', `${name} must be at most ${max}`);
  return n;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}

function webhookSettings(env: Env): WebhookSettings {
  const urls = list(env.WEBHOOK_URLS);
  for (const url of urls) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new AppError('ERR_NOT_CONFIGURED', `WEBHOOK_URLS: "${url.slice(0, 100)}" is not an http(s) URL`);
    }
  }
  const secrets = list(env.WEBHOOK_SECRET);
  for (const secret of secrets) {
    if (!/^whsec_[A-Za-z0-9+/]{24,}={0,2}$/.test(secret)) {
      throw new AppError('ERR_NOT_CONFIGURED', 'WEBHOOK_SECRET must be "whsec_" and at least 18 bytes in base64 (Standard Webhooks)');
    }
  }
  if (urls.length > 0 && secrets.length === 0) throw new AppError('ERR_NOT_CONFIGURED', 'WEBHOOK_URLS is set: set the WEBHOOK_SECRET secret too');
  return {
    urls,
    secrets,
    // The events queue's max_retries (wrangler.toml) must stay above this.
    maxAttempts: bounded(env.WEBHOOK_MAX_ATTEMPTS, 8, 'WEBHOOK_MAX_ATTEMPTS', 20),
    retryBaseSeconds: bounded(env.WEBHOOK_RETRY_BASE_SECONDS, 60, 'WEBHOOK_RETRY_BASE_SECONDS', 3600),
    timeoutSeconds: bounded(env.WEBHOOK_TIMEOUT_SECONDS, 10, 'WEBHOOK_TIMEOUT_SECONDS', 60),
  };
}

export interface JwksSettings {
  url: string;
  issuer: string;
  audience: string;
  cacheSeconds: number;
  cooldownSeconds: number;
}

function jwksSettings(env: Env): JwksSettings {
  const url = env.AUTH_JWKS_URL ?? '';
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new AppError('ERR_NOT_CONFIGURED', 'AUTH_JWKS_URL must be an http(s) URL');
  // Without both checks, any token the provider issues for any other application would be accepted here.
  if (!env.AUTH_ISSUER || !env.AUTH_AUDIENCE) throw new AppError('ERR_NOT_CONFIGURED', 'AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE');
  return {
    url,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    cacheSeconds: bounded(env.AUTH_JWKS_CACHE_SECONDS, 600, 'AUTH_JWKS_CACHE_SECONDS', 86_400),
    cooldownSeconds: bounded(env.AUTH_JWKS_COOLDOWN_SECONDS, 30, 'AUTH_JWKS_COOLDOWN_SECONDS', 3600),
  };
}

function apiKeys(env: Env): string[] {
  const keys = list(env.API_KEYS);
  if (keys.some((key) => key.length < 32)) throw new AppError('ERR_NOT_CONFIGURED', 'API_KEYS: every key must be at least 32 characters');
  return keys;
}

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new AppError('ERR_NOT_CONFIGURED', `${name} must be a positive integer`);
  return n;
}

export function loadConfig(env: Env): AppConfig {
  const cached = cache.get(env);
  if (cached) return cached;

  const partLimits: PartLimits = {
    min: integer(env.PART_SIZE_MIN, 5 * MiB, 'PART_SIZE_MIN'),
    max: integer(env.PART_SIZE_MAX, 64 * MiB, 'PART_SIZE_MAX'),
    default: integer(env.PART_SIZE_DEFAULT, 8 * MiB, 'PART_SIZE_DEFAULT'),
    maxParts: MAX_PARTS,
  };
  let keyRing: KeyRing | null = null;
  let keyRingError: string | undefined;
  if (env.UPLOAD_TOKEN_KEYS) {
    try {
      keyRing = KeyRing.parse(env.UPLOAD_TOKEN_KEYS, env.UPLOAD_TOKEN_SIGNING_KEY);
    } catch (error) {
      keyRingError = (error as Error).message;
    }
  }
  let mediaKeys: KeyRing | null = null;
  let mediaKeysError: string | undefined;
  if (env.MEDIA_URL_KEYS) {
    try {
      mediaKeys = KeyRing.parse(env.MEDIA_URL_KEYS, env.MEDIA_URL_SIGNING_KEY);
    } catch (error) {
      mediaKeysError = `MEDIA_URL_KEYS: ${(error as Error).message}`;
    }
  }
  const visibility = env.DEFAULT_VISIBILITY || 'public';
  if (visibility !== 'public' && visibility !== 'private') throw new AppError('ERR_NOT_CONFIGURED', 'DEFAULT_VISIBILITY must be "public" or "private"');
  const config: AppConfig = {
    maxFileSize: integer(env.MAX_FILE_SIZE, 5 * 1024 * MiB, 'MAX_FILE_SIZE'),
    allowedTypes: env.ALLOWED_TYPES
      ? env.ALLOWED_TYPES.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)
      : DEFAULT_ALLOWED_TYPES,
    partLimits,
    uploadTtlSeconds: integer(env.UPLOAD_TTL_SECONDS, 24 * 3600, 'UPLOAD_TTL_SECONDS'),
    tokenTtlSeconds: integer(env.UPLOAD_TOKEN_TTL_SECONDS, 7 * 24 * 3600, 'UPLOAD_TOKEN_TTL_SECONDS'),
    processingWatchdogSeconds: integer(env.PROCESSING_WATCHDOG_SECONDS, 900, 'PROCESSING_WATCHDOG_SECONDS'),
    processingSliceBytes: integer(env.PROCESSING_SLICE_BYTES, DEFAULT_PROCESSING_SLICE_BYTES, 'PROCESSING_SLICE_BYTES'),
    quotas: {
      maxActiveUploads: integer(env.QUOTA_MAX_ACTIVE_UPLOADS, 100, 'QUOTA_MAX_ACTIVE_UPLOADS'),
      maxStoredBytes: integer(env.QUOTA_MAX_STORED_BYTES, 100 * 1024 * MiB, 'QUOTA_MAX_STORED_BYTES'),
    },
    allowAnonymous: env.DEV_ALLOW_ANONYMOUS_UPLOADS === 'true',
    imports: {
      timeoutSeconds: integer(env.IMPORT_TIMEOUT_SECONDS, 600, 'IMPORT_TIMEOUT_SECONDS'),
      allowHttpLoopback: env.DEV_IMPORT_ALLOW_HTTP_LOOPBACK === 'true',
    },
    variants: parseVariants(env.VARIANTS),
    jwtSecret: env.AUTH_JWT_SECRET || undefined,
    ...(env.AUTH_JWKS_URL ? { jwks: jwksSettings(env) } : {}),
    keyRing,
    keyRingError,
    ...(env.R2_S3_ENDPOINT && env.R2_S3_ACCESS_KEY_ID && env.R2_S3_SECRET_ACCESS_KEY
      ? {
          directUploads: {
            endpoint: env.R2_S3_ENDPOINT,
            bucket: env.R2_BUCKET_NAME || 'edge-uploads',
            accessKeyId: env.R2_S3_ACCESS_KEY_ID,
            secretAccessKey: env.R2_S3_SECRET_ACCESS_KEY,
          },
        }
      : {}),
    s3DirectParts: env.S3_DIRECT_PARTS === 'true',
    ...(env.CLAMD_HOST && env.CLAMD_PORT ? { clamd: { host: env.CLAMD_HOST, port: integer(env.CLAMD_PORT, 3310, 'CLAMD_PORT') } } : {}),
    originalsCacheControl: env.ORIGINALS_CACHE_CONTROL || 'public, max-age=3600',
    webhooks: webhookSettings(env),
    mediaKeys,
    mediaKeysError,
    defaultVisibility: visibility,
    apiKeys: apiKeys(env),
    publicBaseUrl: env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, '') : null,
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter((o) => o !== '' && o !== '*'),
  };
  cache.set(env, config);
  return config;
}

/**
 * Settings that must be right before the Worker serves anything: called once at start-up (src/index.ts),
 * so a deployment with absurd VARIANTS refuses to start with the reason instead of failing per image.
 */
export function assertStartupConfig(env: Pick<Env, 'VARIANTS'>): void {
  parseVariants(env.VARIANTS);
}

/** The key ring, or a clear error when the deployment has no (valid) upload-token keys. */
export function requireKeyRing(config: AppConfig): KeyRing {
  if (config.keyRing) return config.keyRing;
  throw new AppError(
    'ERR_NOT_CONFIGURED',
    config.keyRingError ?? 'Upload tokens are not configured: set the UPLOAD_TOKEN_KEYS secret ("id:secret").',
  );
}

/** The media URL key ring, or a clear error when private files cannot be served here. */
export function requireMediaKeys(config: AppConfig): KeyRing {
  if (config.mediaKeys) return config.mediaKeys;
  throw new AppError('ERR_NOT_CONFIGURED', config.mediaKeysError ?? 'Private files need signed URLs: set the MEDIA_URL_KEYS secret ("id:secret").');
}
