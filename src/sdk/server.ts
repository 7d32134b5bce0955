/**
 * @module The server SDK for the app's backend (Node ≥ 20 with a TypeScript-aware loader or bundler,
 * and Workers): mint upload grants (creator JWTs), verify webhooks, manage files through the files
 * API with an API key, and mint signed media URLs for private files offline. Web Crypto, `jose` and
 * `standardwebhooks` only: no Node or Workers APIs.
 */
import { SignJWT } from 'jose';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { KeyRing } from '../domain/capability';
import { mediaPath, signMediaPath } from '../domain/media-signature';
import type { Grant } from '../domain/grant';
import type { FileEntry } from '../files/file-entry';
import type { UploadEventName, UploadEventSubject, UploadState, Visibility } from '../contracts/messages';
import type { DeliveryView } from '../webhooks/delivery-view';

export type { DeliveryView, FileEntry, UploadEventName, UploadEventSubject, UploadState, Visibility };
export { WebhookVerificationError };

// ---- upload grants ------------------------------------------------------------------------------

export interface UploadGrantOptions extends Omit<Grant, 'jti'> {
  /** AUTH_JWT_SECRET of the upload service (HS256). */
  secret: string;
  /** Your user's id: the owner of what they upload. */
  subject: string;
  /** Seconds the grant is valid; 10 minutes by default. */
  expiresIn?: number;
  /** The token's id; generated when `maxFiles` needs one. */
  jti?: string;
}

/** A creator JWT for one of your users, optionally narrowed (types, size, number of files, metadata, visibility). */
export async function createUploadGrant(options: UploadGrantOptions): Promise<string> {
  const { secret, subject, expiresIn = 600, jti, ...grant } = options;
  const claims: Record<string, unknown> = Object.fromEntries(Object.entries(grant).filter(([, v]) => v !== undefined));
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn);
  const id = jti ?? (grant.maxFiles !== undefined ? crypto.randomUUID() : undefined);
  if (id) jwt.setJti(id);
  return jwt.sign(new TextEncoder().encode(secret));
}

// ---- webhooks -----------------------------------------------------------------------------------

/** A webhook's body: `{ type, timestamp, data: { upload } }`. */
export interface UploadWebhookEvent {
  type: UploadEventName;
  timestamp: string;
  data: { upload: UploadEventSubject };
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function headerRecord(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/**
 * Verifies a webhook (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`) on
 * the raw body, exactly as received, and returns the event. Throws `WebhookVerificationError` for a
 * forged or altered body, a wrong secret, or a timestamp more than 5 minutes away. Pass several
 * secrets while rotating. Deliveries are at least once: deduplicate by `webhook-id`.
 */
export function verifyWebhook(body: string, headers: HeaderBag, secret: string | readonly string[]): UploadWebhookEvent {
  const record = headerRecord(headers);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  let failure: unknown = new WebhookVerificationError('No secret to verify with');
  for (const s of secrets) {
    try {
      return new Webhook(s).verify(body, record) as UploadWebhookEvent;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

// ---- signed media URLs --------------------------------------------------------------------------

export interface SignedMediaUrlOptions {
  /** Where the upload service is reachable, e.g. https://uploads.example.com. */
  baseUrl: string;
  /** MEDIA_URL_KEYS of the upload service ("id:secret,id:secret"). */
  keys: string;
  /** Which key signs (MEDIA_URL_SIGNING_KEY); the first otherwise. */
  signingKey?: string;
  id: string;
  variant?: string;
  /** Seconds; 1 hour by default. */
  expiresIn?: number;
}

/** The same URL `POST /api/files/:id/url` answers, minted offline. */
export async function signedMediaUrl(options: SignedMediaUrlOptions): Promise<{ url: string; expiresAt: string }> {
  const exp = Math.floor(Date.now() / 1000) + (options.expiresIn ?? 3600);
  const path = mediaPath(options.id, options.variant);
  const query = await signMediaPath(KeyRing.parse(options.keys, options.signingKey), path, exp);
  return { url: `${options.baseUrl.replace(/\/+$/, '')}${path}?${query}`, expiresAt: new Date(exp * 1000).toISOString() };
}

// ---- the files API ------------------------------------------------------------------------------

export class UploadsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UploadsApiError';
  }
}

export interface ServerClientOptions {
  baseUrl: string;
  /** One of the service's API_KEYS. Never ship it to a browser: the service refuses keys from browsers. */
  apiKey: string;
  /** A fetch to use instead of the global one (tests, service bindings). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface FileListQuery {
  owner?: string;
  state?: UploadState | UploadState[];
  /** "image/png" or "image/*". */
  type?: string;
  limit?: number;
  cursor?: string;
}

export interface FileChanges {
  name?: string;
  metadata?: Record<string, string>;
  visibility?: Visibility;
}

export function createServerClient(options: ServerClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (json as { error?: { code: string; message: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new UploadsApiError(res.status, error?.code ?? 'ERR_HTTP', error?.message ?? `HTTP ${res.status}`, error?.details);
    }
    return json as T;
  }

  const id = (value: string) => encodeURIComponent(value);

  const files = {
    /** One page, newest first; pass `nextCursor` back as `cursor` for the next. */
    list(query: FileListQuery = {}): Promise<{ files: FileEntry[]; nextCursor: string | null }> {
      const params = new URLSearchParams();
      if (query.owner !== undefined) params.set('owner', query.owner);
      if (query.state !== undefined) params.set('state', ([] as UploadState[]).concat(query.state).join(','));
      if (query.type !== undefined) params.set('type', query.type);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.cursor !== undefined) params.set('cursor', query.cursor);
      const qs = params.toString();
      return call('GET', `/api/files${qs ? `?${qs}` : ''}`);
    },
    /** Every matching file, page by page. */
    async *all(query: Omit<FileListQuery, 'cursor'> = {}): AsyncGenerator<FileEntry> {
      let cursor: string | undefined;
      do {
        const page = await files.list({ ...query, cursor });
        yield* page.files;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
    get: (fileId: string): Promise<FileEntry> => call('GET', `/api/files/${id(fileId)}`),
    update: (fileId: string, changes: FileChanges): Promise<FileEntry> => call('PATCH', `/api/files/${id(fileId)}`, changes),
    delete: (fileId: string): Promise<{ id: string; state: UploadState }> => call('DELETE', `/api/files/${id(fileId)}`),
    /** A signed URL from the service (or mint one offline with `signedMediaUrl`). */
    signedUrl: (fileId: string, opts: { variant?: string; expiresIn?: number } = {}): Promise<{ url: string; expiresAt: string }> =>
      call('POST', `/api/files/${id(fileId)}/url`, opts),
  };

  const webhooks = {
    deliveries: (uploadId: string): Promise<{ deliveries: DeliveryView[] }> => call('GET', `/api/webhooks/deliveries?uploadId=${id(uploadId)}`),
    redeliver: (deliveryId: string): Promise<DeliveryView> => call('POST', `/api/webhooks/deliveries/${id(deliveryId)}/redeliver`),
  };

  return { files, webhooks };
}
