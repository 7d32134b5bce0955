/**
 * @module Renders errors of the IETF draft adapter as RFC 9457 problem details
 * (`application/problem+json`), with the draft's problem types where one applies. The body also
 * keeps this API's `error: { code, message }` member (an extension member), so clients of either
 * convention read the same answer.
 */
import { HTTPException } from 'hono/http-exception';
import { AppError, ERROR_STATUS, type ErrorCode } from '../../domain/errors';
import { PROBLEM_TYPES } from './protocol';

const TITLES: Partial<Record<ErrorCode, { type: string; title: string }>> = {
  ERR_OFFSET_MISMATCH: { type: PROBLEM_TYPES.mismatchingOffset, title: 'offset from request does not match offset of resource' },
  ERR_UPLOAD_COMPLETED: { type: PROBLEM_TYPES.completedUpload, title: 'upload is already completed' },
  ERR_INCONSISTENT_LENGTH: { type: PROBLEM_TYPES.inconsistentLength, title: 'inconsistent length values for upload' },
};

/** Status phrases for `about:blank` problems ("the title SHOULD be the same as the recommended HTTP status phrase"). */
const PHRASES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 423: 'Locked', 429: 'Too Many Requests', 460: 'Checksum Mismatch', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable',
};

export function problemResponse(error: unknown, headers: Record<string, string> = {}): Response {
  let app: AppError;
  if (error instanceof AppError) app = error;
  else if (error instanceof HTTPException) app = new AppError(error.status === 404 ? 'ERR_NOT_FOUND' : 'ERR_BAD_REQUEST', error.message || 'Bad request.');
  else {
    console.error('unhandled error (IETF draft adapter)', error);
    app = new AppError('ERR_INTERNAL', 'Something went wrong on our side; try again.');
  }
  const status = ERROR_STATUS[app.code];
  const known = TITLES[app.code];
  const body: Record<string, unknown> = {
    type: known?.type ?? 'about:blank',
    title: known?.title ?? PHRASES[status] ?? 'Error',
    status,
    detail: app.message,
    error: app.toBody(),
  };
  // "A response using this problem type SHOULD populate both members" (mismatching-upload-offset).
  if (app.code === 'ERR_OFFSET_MISMATCH') {
    if (typeof app.details?.expectedOffset === 'number') body['expected-offset'] = app.details.expectedOffset;
    if (typeof app.details?.providedOffset === 'number') body['provided-offset'] = app.details.providedOffset;
  }
  const out = new Headers({ 'Content-Type': 'application/problem+json', ...app.headers, ...headers });
  return new Response(JSON.stringify(body), { status, headers: out });
}
