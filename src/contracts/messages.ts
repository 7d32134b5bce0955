/**
 * @module Shapes shared between senders and receivers: the upload manifest, the events stream
 * (WebSocket / SSE) messages and the queue messages. One discriminated union per channel,
 * imported by the session, the routes, the consumers and the browser client alike.
 */

import type { UploadState } from './upload-states';

export { UPLOAD_STATES, type UploadState } from './upload-states';

export interface PartInfo {
  partNumber: number;
  size: number;
}

/** What a page paints before the image arrives. */
export interface Placeholder {
  /** ThumbHash (evanw.github.io/thumbhash), base64: decode with `thumbHashToDataURL`. */
  thumbhash: string;
  /** Dominant colour, `#rrggbb`. */
  color: string;
}

/** One encoding of a derivative. */
export interface DerivativeFormat {
  type: string;
  bytes: number;
}

/** One image derivative, servable at `url` (`/media/:id/:variant`). */
export interface DerivativeInfo {
  variant: string;
  url: string;
  width: number;
  height: number;
  /** The JPEG's type (the fallback every browser reads). */
  type: string;
  /** The JPEG's size in bytes. */
  bytes: number;
  /** Every format stored for this variant (JPEG first); `url` serves the best the request's `Accept` takes. */
  formats?: DerivativeFormat[];
  /** On the smallest derivative: the image's placeholder, so a `derivative` event carries it. */
  placeholder?: Placeholder;
}

/**
 * What a video's container says (ISO-BMFF or Matroska), read with a few ranged reads before the
 * upload is ready. Sizes are the display size, after rotation.
 */
export interface MediaMetadata {
  /** Container family as read from the file: `mp4`, `quicktime`, `webm` or `matroska`. */
  container: 'mp4' | 'quicktime' | 'webm' | 'matroska';
  /** Seconds; null when the container does not say (e.g. a browser recording without a duration). */
  durationSeconds: number | null;
  /** Display width and height in pixels, after rotation (absent without a video track). */
  width?: number;
  height?: number;
  /** Degrees clockwise the decoded frames are turned for display: 0, 90, 180 or 270. */
  rotation: number;
  /** Average frames per second of the video track, when it can be known from the index. */
  frameRate?: number;
  /** RFC 6381 codec strings, video first (`avc1.64001F`, `mp4a.40.2`, `opus` …). */
  codecs: string[];
  /** Whole-file average in bits per second (size × 8 / duration). */
  bitrate?: number;
  hasVideo: boolean;
  hasAudio: boolean;
  /** ISO 8601, when the container records a creation time. */
  createdAt?: string;
  /** True when the metadata comes before the media data (playback can start before the whole file arrives). */
  streamable: boolean;
  /** True for fragmented MP4 (samples in `moof` boxes). */
  fragmented?: boolean;
  /** Things worth knowing that did not stop the upload (ignored empty tracks, unchecked fragments …). */
  notes?: string[];
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
  /** `<img srcset>` of the configured srcset variants (`/media/:id/w640 640w, …`). */
  srcset?: string;
  /** `<img sizes>` to go with `srcset`. */
  sizes?: string;
  /** ThumbHash and dominant colour of the image. */
  placeholder?: Placeholder;
  /** Video and audio container metadata. */
  media?: MediaMetadata;
  /** Why a video's metadata was not read (e.g. an index larger than the read budget); the file is kept. */
  mediaSkipped?: string;
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

/** A presigned URL for one part (direct-to-R2 mode): PUT exactly `size` bytes to it before `expiresAt`. */
export interface PresignedPart {
  partNumber: number;
  method: 'PUT';
  url: string;
  size: number | null;
  expiresAt: string;
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
  /** The request that led to this job (src/observability/request-id.ts), for correlating logs. */
  requestId?: string;
};

/** Messages on the cleanup queue: release what an expired or aborted upload held in R2. */
export type CleanupMessage = {
  type: 'upload.expired';
  v: 1;
  uploadId: string;
  key: string;
  r2UploadId: string;
  /** The request that led to this job, for correlating logs. */
  requestId?: string;
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
  /** The request that caused the event (X-Request-Id), for the logs of its deliveries. */
  requestId?: string;
};

/** One webhook delivery (one event to one endpoint); the body and the log are in D1. */
export type WebhookDeliveryMessage = {
  type: 'webhook.delivery';
  v: 1;
  deliveryId: string;
  requestId?: string;
};

export type EventsQueueMessage = UploadEventMessage | WebhookDeliveryMessage;

/** The processing and cleanup queues (and their dead letters). */
export type PipelineQueueMessage = ProcessMessage | CleanupMessage;

export type QueueMessage = PipelineQueueMessage | EventsQueueMessage;
