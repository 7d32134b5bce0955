/** @module The Worker's bindings and variables, typed in one place. */
import type { OwnerLedger } from './durable/owner-ledger';
import type { Sweeper } from './durable/sweeper';
import type { UploadSession } from './durable/upload-session';
import type { CleanupMessage, EventsQueueMessage, ProcessMessage } from './contracts/messages';

export interface Env {
  BUCKET: R2Bucket;
  UPLOAD_SESSION: DurableObjectNamespace<UploadSession>;
  OWNER_LEDGER: DurableObjectNamespace<OwnerLedger>;
  SWEEPER: DurableObjectNamespace<Sweeper>;
  PROCESS_QUEUE: Queue<ProcessMessage>;
  CLEANUP_QUEUE: Queue<CleanupMessage>;
  /** Upload lifecycle events and webhook deliveries (src/queues/events-consumer.ts). */
  EVENTS_QUEUE: Queue<EventsQueueMessage>;
  /** D1: the webhook delivery log and the files index across owners (migrations/). */
  DB: D1Database;
  ASSETS?: Fetcher;
  /** Cloudflare Images, for derivatives the in-isolate engine cannot make (optional). */
  IMAGES?: ImagesBinding;
  /** Rate limiters (Workers rate-limiting binding; emulated by wrangler dev). */
  CREATE_LIMIT_OWNER?: RateLimit;
  CREATE_LIMIT_IP?: RateLimit;
  PART_LIMIT?: RateLimit;
  /** Workers Analytics Engine dataset for upload metrics (optional: without it, no metrics are written). */
  METRICS?: AnalyticsEngineDataset;

  /** Limits and allowlist (strings, as wrangler vars are); defaults live in config.ts. */
  MAX_FILE_SIZE?: string;
  ALLOWED_TYPES?: string;
  PART_SIZE_DEFAULT?: string;
  PART_SIZE_MIN?: string;
  PART_SIZE_MAX?: string;
  UPLOAD_TTL_SECONDS?: string;
  UPLOAD_TOKEN_TTL_SECONDS?: string;
  QUOTA_MAX_ACTIVE_UPLOADS?: string;
  QUOTA_MAX_STORED_BYTES?: string;
  /** Comma-separated exact origins allowed to call the API from a browser (besides our own). */
  CORS_ORIGINS?: string;

  /** A ClamAV daemon to scan every upload with (INSTREAM over TCP), in addition to the built-in scanner. */
  CLAMD_HOST?: string;
  CLAMD_PORT?: string;
  /** Seconds after which a processing job that has not reported back is queued again (default 900). */
  PROCESSING_WATCHDOG_SECONDS?: string;
  /** Named image variants, JSON (name → { width, height?, quality?, formats?, srcset? }); see src/media/variants.ts. */
  VARIANTS?: string;
  /** Bytes hashed and scanned per processing invocation (default in config.ts, from the benchmark). */
  PROCESSING_SLICE_BYTES?: string;
  /** Cache-Control for originals served from /media/:id. */
  ORIGINALS_CACHE_CONTROL?: string;

  /**
   * Direct-to-R2 part uploads (presigned SigV4 URLs): the S3 endpoint (https://<account>.r2.cloudflarestorage.com,
   * or "local" for wrangler dev's S3 API on this origin), the bucket's name, and S3 credentials (secrets).
   */
  R2_S3_ENDPOINT?: string;
  R2_BUCKET_NAME?: string;
  R2_S3_ACCESS_KEY_ID?: string;
  R2_S3_SECRET_ACCESS_KEY?: string;
  /** "true": the Uppy/Companion S3 API (/s3) hands out presigned R2 part URLs too (needs the above and a bucket CORS rule). */
  S3_DIRECT_PARTS?: string;

  /** Webhooks: comma-separated endpoint URLs, attempts per delivery (default 8), first retry delay (default 30 s), per-attempt timeout (default 10 s). */
  WEBHOOK_URLS?: string;
  WEBHOOK_MAX_ATTEMPTS?: string;
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  WEBHOOK_TIMEOUT_SECONDS?: string;
  /** Where this service is reachable (https://uploads.example.com), to put absolute media URLs in events. */
  PUBLIC_BASE_URL?: string;
  /** "public" (default) or "private": the visibility of uploads that do not choose one. */
  DEFAULT_VISIBILITY?: string;

  /** Bring your own identity provider: creator JWTs (RS256, ES256, EdDSA) verified against this JWKS, with `iss` and `aud` checked. */
  AUTH_JWKS_URL?: string;
  AUTH_ISSUER?: string;
  AUTH_AUDIENCE?: string;
  /** How long fetched keys are fresh (default 600 s), and the least time between two fetches for unknown key ids (default 30 s). */
  AUTH_JWKS_CACHE_SECONDS?: string;
  AUTH_JWKS_COOLDOWN_SECONDS?: string;

  /** Secrets. */
  /** Standard Webhooks signing secrets "whsec_<base64>", comma-separated to rotate (each signs). */
  WEBHOOK_SECRET?: string;
  /** "id:secret,id:secret" HMAC keys for signed media URLs of private files; the first signs unless MEDIA_URL_SIGNING_KEY names another. */
  MEDIA_URL_KEYS?: string;
  MEDIA_URL_SIGNING_KEY?: string;
  /** Server-to-server API keys, comma-separated (several, so they rotate); each at least 32 characters. */
  API_KEYS?: string;
  AUTH_JWT_SECRET?: string;
  UPLOAD_TOKEN_KEYS?: string;
  UPLOAD_TOKEN_SIGNING_KEY?: string;
  /** "true" lets anyone create uploads (owner "anonymous"): local development only. */
  DEV_ALLOW_ANONYMOUS_UPLOADS?: string;

  /** Import from a URL: total seconds one import may take, across its attempts (default 600). */
  IMPORT_TIMEOUT_SECONDS?: string;
  /** "true" lets imports read plain-http URLs on loopback (127.0.0.0/8, localhost, [::1]): local development only. */
  DEV_IMPORT_ALLOW_HTTP_LOOPBACK?: string;
}

type WorkerEnv = Env;

/** Types `env` from `cloudflare:workers` (used by the tests) as our bindings. */
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import('./index');
      durableNamespaces: 'UploadSession' | 'OwnerLedger' | 'Sweeper';
    }
  }
}
