/**
 * @module The native HTTP API as the browser (or Node) client sees it: typed calls, and failures
 * turned into `ApiError` values the retry policy can classify. Nothing else talks HTTP.
 */
import type { DerivativeInfo, Manifest, PartReceipt, UploadResult, UploadState } from '../contracts/messages';
import type { RequestFailure } from './retry-policy';

export interface ServerConfig {
  maxFileSize: number;
  allowedTypes: string[];
  partSize: { min: number; max: number; default: number };
  maxParts: number;
  /** Whether parts may be sent straight to R2 (presigned URLs). */
  directUploads?: boolean;
  /** How many unfinished uploads an owner may have at once (the server's quota). */
  maxActiveUploads?: number;
}

import type { PresignedPart } from '../contracts/messages';

export type { PresignedPart };
/** What POST /api/uploads takes from the client. */
export interface CreateBody {
  name: string;
  size: number;
  type: string;
  partSize?: number;
  sha256?: string;
  metadata?: Record<string, string>;
  direct?: boolean;
}

export interface CreatedUpload {
  id: string;
  key: string;
  state: UploadState;
  size: number;
  partSize: number;
  partCount: number;
  expiresAt: string;
  uploadToken: string;
  urls: { self: string; parts: string; complete: string; events: string };
  /** With `direct: true` on a server that offers it: the first parts' URLs. */
  direct?: { parts: PresignedPart[] };
}

export class ApiError extends Error implements RequestFailure {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  /** Origin (and optional path prefix) of the upload service; '' for same-origin. */
  endpoint: string;
  /** Supplies the app's bearer JWT for creating uploads (not needed in dev mode). */
  getAuthToken?: () => string | undefined | Promise<string | undefined>;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  url(path: string): string {
    return `${this.endpoint}${path}`;
  }

  config(): Promise<ServerConfig> {
    return this.request('GET', '/api/config');
  }

  async create(body: CreateBody): Promise<CreatedUpload> {
    const auth = await this.options.getAuthToken?.();
    return this.request('POST', '/api/uploads', {
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify(body),
    });
  }

  async manifest(id: string, token: string, signal?: AbortSignal): Promise<Manifest> {
    return this.resolveManifest(await this.request<Manifest>('GET', `/api/uploads/${id}`, { headers: bearer(token), signal }));
  }

  /**
   * The server names files by path (`/media/…`): made absolute against the endpoint, so links
   * work on a page of another origin. Absolute URLs are left alone (safe to apply twice).
   */
  absolute(path: string): string {
    return !this.endpoint || /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : `${this.endpoint}${path}`;
  }

  resolveDerivative(derivative: DerivativeInfo): DerivativeInfo {
    return { ...derivative, url: this.absolute(derivative.url) };
  }

  resolveResult(result: UploadResult): UploadResult {
    return { ...result, url: this.absolute(result.url), ...(result.derivatives ? { derivatives: result.derivatives.map((d) => this.resolveDerivative(d)) } : {}) };
  }

  resolveManifest(manifest: Manifest): Manifest {
    return manifest.result ? { ...manifest, result: this.resolveResult(manifest.result) } : manifest;
  }

  putPart(id: string, token: string, partNumber: number, body: Blob, signal?: AbortSignal): Promise<PartReceipt> {
    return this.request('PUT', `/api/uploads/${id}/parts/${partNumber}`, { headers: bearer(token), body, signal });
  }

  /** Direct mode: presigned URLs for parts `from`…`to` in one request. */
  presignParts(id: string, token: string, from: number, to: number): Promise<{ parts: PresignedPart[] }> {
    return this.request('POST', `/api/uploads/${id}/parts/presign`, {
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ from, to }),
    });
  }

  /** Direct mode: PUTs a part straight to R2 and answers R2's ETag. */
  async putDirect(url: string, body: Blob, signal?: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method: 'PUT', body, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw new ApiError(0, `The network request failed: ${(error as Error).message}`);
    }
    await response.arrayBuffer().catch(() => undefined);
    const etag = response.headers.get('etag');
    // R2 answers S3 XML, not our JSON: 403 is an expired or refused URL, worth a fresh one (retryable).
    if (!response.ok || !etag) throw new ApiError(response.status === 403 ? 503 : response.status || 502, `R2 refused part upload (${response.status}).`);
    return etag;
  }

  /** Direct mode: records the ETags of parts sent to R2, many in one request. */
  reportEtags(id: string, token: string, parts: { partNumber: number; etag: string }[]): Promise<{ parts: PartReceipt[] }> {
    return this.request('PUT', `/api/uploads/${id}/parts/etags`, {
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ parts }),
    });
  }

  complete(id: string, token: string): Promise<{ state: UploadState }> {
    return this.request('POST', `/api/uploads/${id}/complete`, { headers: bearer(token) });
  }

  abort(id: string, token: string): Promise<{ state: UploadState }> {
    return this.request('DELETE', `/api/uploads/${id}`, { headers: bearer(token) });
  }

  /** Absolute ws(s):// URL of the events stream (browsers cannot set headers on a WebSocket). */
  eventsUrl(id: string, token: string, protocol: 'ws' | 'http'): string {
    const base = new URL(this.url(`/api/uploads/${id}/events`), globalThis.location?.href);
    if (protocol === 'ws') base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.searchParams.set('token', token);
    return base.toString();
  }

  private async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), { ...init, method });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason ?? error;
      throw new ApiError(0, `The network request failed: ${(error as Error).message}`);
    }
    if (response.ok) return (await response.json()) as T;
    let code: string | undefined;
    let message = `${method} ${path} failed with ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not our JSON (a proxy's error page): keep the generic message.
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new ApiError(response.status, message, code, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
