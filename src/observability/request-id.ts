/** @module The id that ties one request's log line, error body, response header and queue work together. */

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * What an incoming id may look like to be kept: long enough to be unique, short and plain enough
 * that it can never smuggle anything into a log line (no spaces, quotes or control characters).
 */
const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Whether `value` can be used as a request id as it is (an incoming header, a queue message field). */
export const isSaneRequestId = (value: string | null | undefined): value is string => typeof value === 'string' && SANE_ID.test(value);

/**
 * The request's id: the caller's `X-Request-Id` when sane (a proxy or app correlating its own
 * logs), else Cloudflare's `cf-ray` (which the dashboard's own logs show), else a new random id.
 */
export function requestIdOf(headers: Headers): string {
  const incoming = headers.get(REQUEST_ID_HEADER);
  if (isSaneRequestId(incoming)) return incoming;
  const ray = headers.get('cf-ray');
  if (isSaneRequestId(ray)) return ray;
  return crypto.randomUUID();
}
