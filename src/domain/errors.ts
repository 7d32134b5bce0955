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
  /** A list cursor that was altered, or is used with other filters than it was made for. */
  ERR_CURSOR_INVALID: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_TOKEN_INVALID: 401,
  ERR_TOKEN_EXPIRED: 401,
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
  ERR_FORBIDDEN: 403,
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
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_PART_TOO_LARGE: 413,
  ERR_TYPE_NOT_ALLOWED: 415,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_RANGE_NOT_SATISFIABLE: 416,
  ERR_UPLOAD_LOCKED: 423,
  ERR_RATE_LIMITED: 429,
  /** tus checksum extension: the body does not match Upload-Checksum. */
  ERR_CHECKSUM_MISMATCH: 460,
  ERR_QUOTA_ACTIVE_UPLOADS: 429,
  ERR_INTERNAL: 500,
  ERR_STORAGE: 502,
  ERR_NOT_CONFIGURED: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The wire and RPC shape of an error: what clients see under `error`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
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
