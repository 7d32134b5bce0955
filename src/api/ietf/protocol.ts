/**
 * @module Wire details of the IETF resumable-upload draft at its current interop version, pure:
 * the version, structured-field items (RFC 9651) for Upload-Offset/-Length/-Complete, the
 * Upload-Limit dictionary, and the problem types (RFC 9457).
 */

/**
 * "The current interop version is 8." (draft-ietf-httpbis-resumable-upload, Draft Version
 * Identification; the same from draft -09 through the editor's copy read for this adapter.)
 * Older interop versions (3–6, as tus-js-client speaks them) stay with the tus handlers.
 */
export const CURRENT_INTEROP_VERSION = '8';

/** "The `Upload-Draft-Interop-Version` field value is an Integer." */
export function isCurrentDraft(headers: Headers): boolean {
  return sfInteger(headers.get('upload-draft-interop-version')) === Number(CURRENT_INTEROP_VERSION);
}

/** The bare item of a structured-field Item, parameters dropped. */
const bareItem = (value: string | null): string | null => (value === null ? null : value.split(';')[0]!.trim());

/**
 * A non-negative sf-integer (at most 15 digits), or null. "Its value is a non-negative Integer …
 * Other values MUST cause the entire header field to be ignored": so a bad value reads as absent.
 */
export function sfInteger(value: string | null): number | null {
  const item = bareItem(value);
  return item !== null && /^[0-9]{1,15}$/.test(item) ? Number(item) : null;
}

/** An sf-boolean (`?1` / `?0`), or null when absent or not a Boolean ("… MUST cause the entire header field to be ignored"). */
export function sfBoolean(value: string | null): boolean | null {
  const item = bareItem(value);
  return item === '?1' ? true : item === '?0' ? false : null;
}

export const sfBooleanText = (value: boolean): string => (value ? '?1' : '?0');

export interface UploadLimits {
  'max-size': number;
  'min-size': number;
  'max-append-size': number;
  'min-append-size': number;
  'max-age'?: number;
}

/** `Upload-Limit` is a Dictionary of Integers: `max-size=…, min-size=…, …`. */
export function serializeLimits(limits: UploadLimits): string {
  return Object.entries(limits)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${Math.max(0, Math.floor(value as number))}`)
    .join(', ');
}

export const PROBLEM_TYPES = {
  mismatchingOffset: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
  completedUpload: 'https://iana.org/assignments/http-problem-types#completed-upload',
  inconsistentLength: 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
} as const;

/** The file name from `Content-Disposition` (`filename*=UTF-8''…` preferred over `filename="…"`), or null. */
export function dispositionFilename(header: string | null): string | null {
  if (!header || header.length > 2048) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // fall through to the plain form
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(header);
  if (quoted) return quoted[1]!.replace(/\\(.)/g, '$1');
  const token = /filename\s*=\s*([^;\s]+)/.exec(header);
  return token ? token[1]! : null;
}
