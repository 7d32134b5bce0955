/**
 * @module HTTP conditional requests (RFC 9110 §13): entity-tag lists, weak and strong comparison,
 * the order preconditions are evaluated in, and If-Range. Pure: no runtime imports. Members that
 * are not entity-tags match nothing (a garbage If-None-Match is simply no match, never an error).
 */

export interface Validators {
  /** The current representation's entity-tag, quoted (e.g. `"abc"`). */
  etag: string;
  lastModified: Date;
}

interface EntityTag {
  weak: boolean;
  /** The quoted opaque tag. */
  opaque: string;
}

const TAG = /^(W\/)?("[\x21\x23-\x7e\x80-\xff]*")$/;

function parseTag(text: string): EntityTag | null {
  const match = TAG.exec(text.trim());
  return match ? { weak: match[1] !== undefined, opaque: match[2]! } : null;
}

/**
 * `*`, or the entity-tags of a comma-separated list. An opaque tag may itself hold commas, so the
 * list is scanned tag by tag rather than split; whatever is not an entity-tag is skipped.
 */
export function parseEntityTags(value: string): '*' | EntityTag[] {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  const scanner = /\s*(?:(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)|[^,]*(?:,|$))/gy;
  for (let match = scanner.exec(value); match && match[0] !== ''; match = scanner.exec(value)) {
    if (match[2]) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    if (scanner.lastIndex >= value.length) break;
  }
  return tags;
}

/** Strong comparison: both strong and the same opaque tag. */
const strongMatch = (a: EntityTag, b: EntityTag) => !a.weak && !b.weak && a.opaque === b.opaque;
/** Weak comparison: the same opaque tag, weak or not. */
const weakMatch = (a: EntityTag, b: EntityTag) => a.opaque === b.opaque;

/** An HTTP-date as a time in whole seconds, or null when the value is not one (then ignored). */
function httpDateSeconds(value: string | null): number | null {
  if (value === null || !/^[A-Za-z]{3},? /.test(value.trim())) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : Math.floor(time / 1000);
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

export type Precondition = 'proceed' | 'not-modified' | 'failed';

/** RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since. */
export function evaluatePreconditions(headers: Headers, method: string, current: Validators): Precondition {
  const currentTag = parseTag(current.etag);
  const ifMatch = headers.get('if-match');
  if (ifMatch !== null) {
    const tags = parseEntityTags(ifMatch);
    if (tags !== '*' && !(currentTag && tags.some((t) => strongMatch(t, currentTag)))) return 'failed';
  } else {
    const since = httpDateSeconds(headers.get('if-unmodified-since'));
    if (since !== null && seconds(current.lastModified) > since) return 'failed';
  }
  const safe = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const tags = parseEntityTags(ifNoneMatch);
    if (tags === '*' || (currentTag && tags.some((t) => weakMatch(t, currentTag)))) return safe ? 'not-modified' : 'failed';
  } else if (safe) {
    const since = httpDateSeconds(headers.get('if-modified-since'));
    if (since !== null && seconds(current.lastModified) <= since) return 'not-modified';
  }
  return 'proceed';
}

/**
 * RFC 9110 §13.1.5: whether a Range request's If-Range still holds. An entity-tag must match
 * strongly (a weak one never does); a date must equal Last-Modified exactly; anything else
 * fails. When it fails the Range is ignored and the whole representation is sent.
 */
export function ifRangeHolds(ifRange: string | null, current: Validators): boolean {
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const tag = parseTag(value);
    const currentTag = parseTag(current.etag);
    return tag !== null && currentTag !== null && strongMatch(tag, currentTag);
  }
  const date = httpDateSeconds(value);
  return date !== null && date === seconds(current.lastModified);
}
