/**
 * @module The component's attributes, read and checked: a bad value is reported once in the
 * console (per attribute and value) and the default is used, so a typo never breaks the page.
 */
import { isAcceptPattern, parseAccept } from '../accept';
import { parseSize } from '../size-value';
import { DEFAULT_MAX_ACTIVE_UPLOADS } from '../uploader';

export interface DropzoneSettings {
  endpoint: string;
  accept: string[] | undefined;
  maxSize: number | undefined;
  multiple: boolean;
  authToken: string | undefined;
  locale: string | undefined;
  capture: 'user' | 'environment' | undefined;
  /** Use the File System Access picker where there is one, keeping handles to resume later. */
  keepHandles: boolean;
  /** Keep uploading when the element is removed from the page (by default removal cancels). */
  keepUploads: boolean;
  /** Uploads open on the server at once (the Uploader's default when unset); the rest wait. */
  maxActiveUploads: number | undefined;
}

export const OBSERVED_ATTRIBUTES = ['endpoint', 'accept', 'max-size', 'multiple', 'auth-token', 'locale', 'capture', 'keep-handles', 'keep-uploads', 'max-active-uploads'] as const;

const warned = new Set<string>();

function warnOnce(tag: string, name: string, value: string, why: string): void {
  const key = `${tag}|${name}|${value}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`<${tag}>: ignoring ${name}="${value}": ${why}`);
}

export function readSettings(element: Element): DropzoneSettings {
  const tag = element.localName;
  const get = (name: string) => element.getAttribute(name);
  const settings: DropzoneSettings = {
    endpoint: '',
    accept: undefined,
    maxSize: undefined,
    multiple: element.hasAttribute('multiple'),
    authToken: get('auth-token') || undefined,
    locale: undefined,
    capture: undefined,
    keepHandles: element.hasAttribute('keep-handles'),
    keepUploads: element.hasAttribute('keep-uploads'),
    maxActiveUploads: undefined,
  };

  const endpoint = get('endpoint');
  if (endpoint) {
    try {
      const url = new URL(endpoint, location.href);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      settings.endpoint = endpoint;
    } catch {
      warnOnce(tag, 'endpoint', endpoint, 'not an http(s) URL; using this page’s origin');
    }
  }

  const accept = get('accept');
  if (accept !== null) {
    const patterns = parseAccept(accept);
    const bad = patterns.filter((p) => !isAcceptPattern(p));
    if (bad.length) warnOnce(tag, 'accept', accept, `not MIME types or .extensions: ${bad.join(', ')}`);
    const good = patterns.filter(isAcceptPattern);
    settings.accept = good.length ? good : undefined;
  }

  const maxSize = get('max-size');
  if (maxSize !== null) {
    settings.maxSize = parseSize(maxSize);
    if (settings.maxSize === undefined) warnOnce(tag, 'max-size', maxSize, 'not a positive size (bytes, or e.g. "10 MB"); using the server’s limit');
  }

  const locale = get('locale');
  if (locale) {
    try {
      settings.locale = Intl.getCanonicalLocales(locale)[0];
    } catch {
      warnOnce(tag, 'locale', locale, 'not a language tag; using the page’s language');
    }
  }

  const maxActive = get('max-active-uploads');
  if (maxActive !== null) {
    const n = Number(maxActive);
    if (/^\s*\d+\s*$/.test(maxActive) && n >= 1 && n <= 1000) settings.maxActiveUploads = n;
    else warnOnce(tag, 'max-active-uploads', maxActive, `not a whole number from 1 to 1000; using the default (${DEFAULT_MAX_ACTIVE_UPLOADS})`);
  }

  const capture = get('capture');
  if (capture !== null) {
    if (capture === 'user' || capture === 'environment') settings.capture = capture;
    else if (capture !== '') warnOnce(tag, 'capture', capture, 'expected "user" or "environment"');
    else settings.capture = 'environment';
  }
  return settings;
}
