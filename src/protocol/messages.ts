/**
 * @module Shapes shared between senders and receivers: the upload manifest, the events stream
 * (WebSocket / SSE) messages and the queue messages. One discriminated union per channel,
 * imported by the session, the routes, the consumers and the browser client alike.
 */

export const UPLOAD_STATES = [
  'created',
  'uploading',
  'assembling',
  'validating',
  'processing',
  'ready',
  'aborted',
  'expired',
  'rejected',
  'failed',
] as const;

export type UploadState = (typeof UPLOAD_STATES)[number];

/** States after which nothing more happens to an upload. */
export const TERMINAL_STATES: readonly UploadState[] = ['ready', 'aborted', 'expired', 'rejected', 'failed'];

/** States in which parts are accepted. */
export const ACCEPTING_STATES: readonly UploadState[] = ['created', 'uploading'];

export interface PartInfo {
  partNumber: number;
  size: number;
}

/** One image derivative, servable at `url` (`/media/:id/:variant`). */
export interface DerivativeInfo {
  variant: string;
  url: string;
  width: number;
  height: number;
  type: string;
  bytes: number;
}

export interface UploadResult {
  /** Where the finished file is served. */
  url: string;
  /** Type seen in the bytes. */
  detectedType: string | null;
  /** SHA-256 (hex) of the whole object, when it was computed. */
  sha256?: string;
  /** Which scanners passed the file. */
  scannedBy?: string;
  /** True when identical bytes were already stored for this owner and are shared. */
  deduplicated?: boolean;
  /** Image derivatives (thumbnail, display size). */
  derivatives?: DerivativeInfo[];
  /** Why no derivatives were made for an image (e.g. too many pixels for the engine). */
  derivativesSkipped?: string;
  /** A tus partial upload: complete, waiting to be concatenated; never served. */
  partial?: boolean;
}

/** The authoritative state of an upload (`GET /api/uploads/:id`, and the events `snapshot`). */
export interface Manifest {
  id: string;
  state: UploadState;
  reason?: string;
  name: string;
  type: string;
  /** Null until the size is known (tus Upload-Defer-Length, S3-style multipart until completion). */
  size: number | null;
  partSize: number;
  partCount: number | null;
  confirmedBytes: number;
  confirmedParts: number;
  parts: PartInfo[];
  missingParts: number[];
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  metadata?: Record<string, string>;
  result?: UploadResult;
}

/** The answer to a confirmed part (`PUT /api/uploads/:id/parts/:n`). */
export interface PartReceipt {
  partNumber: number;
  size: number;
  etag: string;
  confirmedBytes: number;
  confirmedParts: number;
}

export interface ProgressFields {
  confirmedBytes: number;
  confirmedParts: number;
  size: number | null;
  partCount: number | null;
}

/** Messages on `GET /api/uploads/:id/events` (WebSocket frames or SSE `data:` lines). */
export type EventMessage =
  | { type: 'snapshot'; manifest: Manifest }
  | ({ type: 'progress' } & ProgressFields)
  | { type: 'state'; state: UploadState; reason?: string; result?: UploadResult }
  | { type: 'derivative'; derivative: DerivativeInfo };

/** Messages on the processing queue: typed and versioned, so consumers can evolve. */
export type ProcessMessage = {
  type: 'upload.assembled';
  v: 1;
  uploadId: string;
  key: string;
  declaredType: string;
  size: number;
  sha256?: string;
};

/** Messages on the cleanup queue: release what an expired or aborted upload held in R2. */
export type CleanupMessage = {
  type: 'upload.expired';
  v: 1;
  uploadId: string;
  key: string;
  r2UploadId: string;
};

/** What happened to an upload, as the app's backend hears it (webhooks, the files index). */
export const UPLOAD_EVENTS = [
  'upload.created',
  'upload.ready',
  'upload.rejected',
  'upload.failed',
  'upload.expired',
  'upload.deleted',
  /** Name, metadata or visibility changed through the files API. */
  'upload.updated',
] as const;
export type UploadEventName = (typeof UPLOAD_EVENTS)[number];

export type Visibility = 'public' | 'private';

/**
 * The upload as events describe it: the manifest without its per-part lists (a queue message is at
 * most 128 KB; counts stay), plus who owns it, how it is served and, once ready, where.
 */
export type UploadEventSubject = Omit<Manifest, 'parts' | 'missingParts'> & {
  owner: string;
  visibility: Visibility;
  metadata: Record<string, string>;
  /** Once ready: the original's and each derivative's path (absolute when PUBLIC_BASE_URL is set). */
  urls?: { original: string; derivatives?: Record<string, string> };
};

/** Messages on the events queue: one per lifecycle event of an upload, fanned out by its consumer. */
export type UploadEventMessage = {
  type: 'upload.event';
  v: 1;
  /** Stable across re-sends (`${uploadId}:${event}`, plus `:${updatedAt}` for upload.updated): the consumer's deduplication key. */
  eventId: string;
  event: UploadEventName;
  uploadId: string;
  /** Milliseconds since the epoch. */
  occurredAt: number;
  upload: UploadEventSubject;
};

/** One webhook delivery (one event to one endpoint); the body and the log are in D1. */
export type WebhookDeliveryMessage = {
  type: 'webhook.delivery';
  v: 1;
  deliveryId: string;
};

export type EventsQueueMessage = UploadEventMessage | WebhookDeliveryMessage;

export type QueueMessage = ProcessMessage | CleanupMessage | EventsQueueMessage;
