/**
 * @module The client's entry point: `new Uploader({ endpoint })`, then `uploader.add(file)`.
 * Holds what uploads share: the API client, the server's config, the resume store.
 */
import { ApiClient, type ApiClientOptions, type ServerConfig } from './api-client';
import type { NetworkHints } from './concurrency';
import { Upload, type UploadOptions } from './upload';
import { UploadSlots } from './upload-slots';
import { defaultUploadStore, type StoredUpload, type UploadStore } from './upload-store';
import { localizer, type Localizer, type LocalizerOptions } from './i18n/localizer';

export interface UploaderOptions extends Partial<ApiClientOptions>, LocalizerOptions {
  /** Where resumable manifests are kept; IndexedDB in browsers, memory in Node by default. */
  store?: UploadStore;
  /** Defaults for every upload added. */
  defaults?: UploadOptions;
  /**
   * Uploads open on the server at once (default 20, and never more than the server's quota of
   * unfinished uploads, `maxActiveUploads` in /api/config); the others wait as `idle`, in order.
   */
  maxActiveUploads?: number;
}

/** Like Uppy's `limit` for tus: enough to hide round trips of small files, few enough to finish files one by one. */
export const DEFAULT_MAX_ACTIVE_UPLOADS = 20;

function networkHints(): NetworkHints {
  if (typeof navigator === 'undefined') return {};
  const connection = (navigator as Navigator & { connection?: { effectiveType?: string; saveData?: boolean } }).connection;
  return {
    hardwareConcurrency: navigator.hardwareConcurrency,
    ...(connection?.effectiveType ? { effectiveType: connection.effectiveType } : {}),
    ...(connection?.saveData ? { saveData: true } : {}),
  };
}

export class Uploader {
  readonly api: ApiClient;
  readonly store: UploadStore;
  /** The language of every message (reasons included); `locale` and `strings` choose it. */
  readonly l10n: Localizer;
  private configPromise: Promise<ServerConfig> | undefined;
  private serverQuota = Infinity;
  private readonly slots: UploadSlots;
  private readonly openFingerprints = new Set<string>();

  constructor(private readonly options: UploaderOptions = {}) {
    const { maxActiveUploads = DEFAULT_MAX_ACTIVE_UPLOADS } = options;
    if (!Number.isInteger(maxActiveUploads) || maxActiveUploads < 1) throw new RangeError(`maxActiveUploads must be a whole number ≥ 1, not ${maxActiveUploads}`);
    this.slots = new UploadSlots(() => Math.min(maxActiveUploads, this.serverQuota));
    this.api = new ApiClient({ endpoint: options.endpoint ?? '', getAuthToken: options.getAuthToken, fetch: options.fetch });
    this.store = options.store ?? defaultUploadStore();
    this.l10n = localizer({ locale: options.locale, strings: options.strings });
  }

  /** The server's limits and allowlist, fetched once. */
  config(): Promise<ServerConfig> {
    this.configPromise ??= this.api.config().then(
      (config) => {
        if (config.maxActiveUploads && config.maxActiveUploads >= 1) this.serverQuota = config.maxActiveUploads;
        return config;
      },
      (error) => {
        this.configPromise = undefined;
        throw error;
      },
    );
    return this.configPromise;
  }

  /** Starts uploading `file` (resuming it if this browser uploaded part of it before). */
  add(file: Blob & { name?: string; lastModified?: number }, options: UploadOptions = {}): Upload {
    const context = { api: this.api, store: this.store, config: () => this.config(), hints: networkHints(), l10n: this.l10n, slots: this.slots, openFingerprints: this.openFingerprints };
    const upload = new Upload(file, context, {
      ...this.options.defaults,
      ...options,
    });
    queueMicrotask(() => void upload.start());
    return upload;
  }

  /** Unfinished uploads this browser knows of (select the same file again to resume). */
  pending(): Promise<StoredUpload[]> {
    return this.store.list();
  }

  /** Forgets an unfinished upload and aborts it on the server. */
  async discard(record: StoredUpload): Promise<void> {
    await this.api.abort(record.uploadId, record.uploadToken).catch(() => undefined);
    await this.store.delete(record.fingerprint);
  }
}
