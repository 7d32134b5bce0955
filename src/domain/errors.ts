/**
 * @module Stable error codes and their HTTP statuses, declared once (as tusd does), plus the
 * plain-value error shape that crosses Durable Object RPC (no `instanceof` across isolates).
 */

export const ERROR_STATUS = {
  ERR_BAD_REQUEST: 400,
  ERR_INVALID_JSON: 400,
  ERR_VALIDATION: 400,
  ERR_EMPTY_FILE: 400,
  ERR_PART_NUMBER: 400,
  ERR_PART_SIZE: 400,
  ERR_PART_LIST: 400,
  ERR_DIGEST_INVALID: 400,
  ERR_CHECKSUM_ALGORITHM: 400,
  ERR_DIGEST_MISMATCH: 400,
  /** IETF resumable uploads: an append to an upload that is already complete (problem type completed-upload). */
  ERR_UPLOAD_COMPLETED: 400,
  /** IETF resumable uploads: length indicators disagree, or the bytes pass the length (inconsistent-upload-length). */
  ERR_INCONSISTENT_LENGTH: 400,
  /** Import from a URL: the URL is not one the server will fetch (scheme, host), or carries credentials. */
  ERR_IMPORT_URL_NOT_ALLOWED: 400,
  ERR_IMPORT_CREDENTIALS: 400,
  /** More than 5 redirects, or a redirect to a URL that is not allowed. */
  ERR_IMPORT_REDIRECTS: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_TOKEN_INVALID: 401,
  ERR_TOKEN_EXPIRED: 401,
  /** A creator JWT without `exp`: it would never expire. */
  ERR_TOKEN_NO_EXPIRY: 401,
  ERR_API_KEY_INVALID: 401,
  ERR_TOKEN_SCOPE: 403,
  /** An API key sent by a browser (Origin or Sec-Fetch-Site present): keys are for servers only. */
  ERR_API_KEY_FROM_BROWSER: 403,
  /** A creator token asked for another owner's files. */
  ERR_OWNER_SCOPE: 403,
  /** A private file asked for without a signed URL, or with one that is altered, for another file, or expired. */
  ERR_MEDIA_PRIVATE: 403,
  /** Scoped upload grants (creator-JWT claims): malformed or unenforceable, or the upload is outside them. */
  ERR_GRANT_INVALID: 403,
  ERR_GRANT_TYPE: 403,
  ERR_GRANT_SIZE: 403,
  ERR_GRANT_FILES: 403,
  ERR_MEDIA_SIGNATURE_INVALID: 403,
  ERR_MEDIA_SIGNATURE_EXPIRED: 403,
  /** A list cursor that was altered, or is used with other filters than it was made for. */
  ERR_CURSOR_INVALID: 400,
  ERR_ORIGIN_NOT_ALLOWED: 403,
  ERR_QUOTA_STORAGE: 403,
  ERR_NOT_FOUND: 404,
  ERR_UPLOAD_NOT_FOUND: 404,
  ERR_DELIVERY_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UPLOAD_STATE: 409,
  ERR_PART_IN_FLIGHT: 409,
  ERR_PARTS_MISSING: 409,
  ERR_NOT_READY: 409,
  ERR_SIZE_UNKNOWN: 409,
  ERR_OFFSET_MISMATCH: 409,
  /** A redelivery was asked while the delivery is still being attempted. */
  ERR_DELIVERY_PENDING: 409,
  ERR_UPLOAD_GONE: 410,
  ERR_LENGTH_REQUIRED: 411,
  ERR_PRECONDITION_FAILED: 412,
  ERR_TUS_VERSION: 412,
  ERR_FILE_TOO_LARGE: 413,
  /** The source's declared or observed size is over the file size limit or the owner's storage quota. */
  ERR_IMPORT_TOO_LARGE: 413,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_PART_TOO_LARGE: 413,
  ERR_TYPE_NOT_ALLOWED: 415,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_RANGE_NOT_SATISFIABLE: 416,
  /** The source answered with an error status (e.g. 404). */
  ERR_IMPORT_SOURCE_STATUS: 422,
  /** The source cannot continue where the import stopped (no Range support, or it changed). */
  ERR_IMPORT_NOT_RESUMABLE: 409,
  ERR_UPLOAD_LOCKED: 423,
  ERR_RATE_LIMITED: 429,
  ERR_TOO_MANY_SUBSCRIBERS: 429,
  /** tus checksum extension: the body does not match Upload-Checksum. */
  ERR_CHECKSUM_MISMATCH: 460,
  ERR_QUOTA_ACTIVE_UPLOADS: 429,
  ERR_INTERNAL: 500,
  ERR_STORAGE: 502,
  /** The source could not be reached, or broke the connection. */
  ERR_IMPORT_UNREACHABLE: 502,
  /** The source sent fewer bytes than it declared (Content-Length) and could not be resumed. */
  ERR_IMPORT_TRUNCATED: 502,
  /** The import took longer than IMPORT_TIMEOUT_SECONDS. */
  ERR_IMPORT_TIMEOUT: 504,
  ERR_NOT_CONFIGURED: 503,
  /** `GET /api/health`: a setting or binding the service needs is missing or not answering. */
  ERR_UNHEALTHY: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Why an upload ended `rejected` or `failed`: not HTTP answers but the `reason` of the manifest and
 * of `state` events (`"<CODE>: <message>"`), so a client can say what to do about it.
 */
export const REASON_CODES = {
  /** rejected: the bytes are not the declared type, or the type is not allowed. */
  ERR_TYPE_MISMATCH: 'rejected',
  /** rejected: a scanner found malware (or an executable or script posing as media). */
  ERR_MALWARE_FOUND: 'rejected',
  /** rejected: an image ends before its format says it should. */
  ERR_IMAGE_TRUNCATED: 'rejected',
  /** rejected: an image that cannot be decoded. */
  ERR_IMAGE_CORRUPT: 'rejected',
  /** rejected: the SHA-256 the client declared at creation does not match the bytes (also tus's 460 above). */
  ERR_CHECKSUM_MISMATCH: 'rejected',
  /** rejected: the assembled object is gone from storage. */
  ERR_OBJECT_MISSING: 'rejected',
  /** rejected: the parts add up to another size than the one declared (e.g. a direct-to-R2 part larger than planned). */
  ERR_SIZE_MISMATCH: 'rejected',
  /** rejected: a video container whose index is missing or whose media data ends early. */
  ERR_VIDEO_TRUNCATED: 'rejected',
  /** rejected: a video container that cannot be parsed. */
  ERR_VIDEO_CORRUPT: 'rejected',
  /** failed: R2 would not assemble the parts after every attempt. */
  ERR_ASSEMBLY_FAILED: 'failed',
  /** failed: processing failed after every retry (dead-letter queue). */
  ERR_PROCESSING_FAILED: 'failed',
  /** failed: processing never reported back, even after being queued again. */
  ERR_PROCESSING_TIMEOUT: 'failed',
} as const;

export type ReasonCode = keyof typeof REASON_CODES;

/** The wire and RPC shape of an error: what clients see under `error`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** What an error answer's JSON body is: the error, plus the request's id to quote when reporting it. */
export interface ErrorPayload {
  error: ErrorBody & { requestId?: string };
}

/** The one renderer of error bodies: every error answer of the API is built here. */
export function errorPayload(error: ErrorBody, requestId?: string): ErrorPayload {
  return { error: requestId ? { ...error, requestId } : error };
}

/** An error that knows its stable code; rendered to JSON by the one error handler. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/** A result that can cross RPC as a plain value. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>): { ok: false; error: ErrorBody } => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});

/** Turns an RPC result back into a value, or throws the matching AppError at the edge. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new AppError(result.error.code, result.error.message, result.error.details);
}
