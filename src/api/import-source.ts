/**
 * @module Opens a remote file for import, safely: only https (plain http to loopback only when the
 * development setting allows it), no credentials in the URL, no private or loopback addresses over
 * https, at most 5 redirects each checked like the first URL, and only a 200 (or, when resuming, a
 * 206 that starts exactly where asked) is accepted. Every refusal is an `ERR_IMPORT_…` AppError.
 */
import type { AppConfig } from '../config';
import { AppError } from '../domain/errors';

export const MAX_REDIRECTS = 5;
const MAX_URL_LENGTH = 2048;

/** What the source said about the file before its bytes arrive. */
export interface OpenedSource {
  /** The URL that answered (after redirects). */
  url: string;
  body: ReadableStream<Uint8Array>;
  /** The whole file's size, when the source declares it (Content-Length, or Content-Range's total). */
  size: number | null;
  /** Its media type, without parameters ('' when none). */
  type: string;
  /** A name from Content-Disposition, if any. */
  filename: string | null;
  /** The source said it serves byte ranges (Accept-Ranges: bytes, or it answered a range). */
  acceptsRanges: boolean;
  /** A validator for If-Range: a strong ETag, or Last-Modified. */
  validator: string | null;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  const v4 = IPV4.exec(host);
  return v4 !== null && v4[1] === '127';
}

/** Addresses a server-side fetch must never be pointed at over https (SSRF): private, link-local, unspecified, loopback. */
function isInternal(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host)) return true;
  const v4 = IPV4.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (host.includes(':')) return host === '::' || /^(fc|fd|fe8|fe9|fea|feb)/.test(host) || host.startsWith('::ffff:');
  return host.endsWith('.internal') || host.endsWith('.local');
}

/** The URL, if the server may fetch it; an `ERR_IMPORT_…` AppError saying why not otherwise. */
export function checkSourceUrl(raw: string, config: AppConfig, base?: string): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new AppError('ERR_IMPORT_URL_NOT_ALLOWED', 'sourceUrl is not a valid absolute URL.');
  }
  if (url.href.length > MAX_URL_LENGTH) throw new AppError('ERR_IMPORT_URL_NOT_ALLOWED', `Source URLs are at most ${MAX_URL_LENGTH} characters.`);
  if (url.username || url.password) {
    throw new AppError('ERR_IMPORT_CREDENTIALS', 'The source URL must not carry credentials (user:password@); use a pre-signed URL instead.');
  }
  if (url.protocol === 'https:') {
    if (isInternal(url.hostname) && !(config.imports.allowHttpLoopback && isLoopback(url.hostname))) {
      throw new AppError('ERR_IMPORT_URL_NOT_ALLOWED', `Imports do not read from internal addresses (${url.hostname}).`);
    }
    return url;
  }
  if (url.protocol === 'http:' && config.imports.allowHttpLoopback && isLoopback(url.hostname)) return url;
  throw new AppError(
    'ERR_IMPORT_URL_NOT_ALLOWED',
    url.protocol === 'http:' ? 'Imports read https URLs only.' : `Imports read https URLs only, not ${url.protocol.replace(':', '')}.`,
  );
}

function declaredLength(headers: Headers): number | null {
  const value = headers.get('content-length');
  // A coded body's Content-Length counts coded bytes, not the file's.
  const coding = (headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  return value !== null && /^[0-9]{1,16}$/.test(value.trim()) && coding === 'identity' ? Number(value) : null;
}

function filenameOf(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // fall back to the plain parameter
    }
  }
  return /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;\s]+)/i.exec(header)?.[1] ?? null;
}

export interface OpenOptions {
  signal: AbortSignal;
  /** Resume at this byte (a Range request); 0 reads the whole file. */
  offset?: number;
  /** Sent as If-Range when resuming, so a changed file is never spliced onto the old one. */
  validator?: string | null;
}

/** Fetches the source, following at most MAX_REDIRECTS redirects by hand so each target is checked. */
export async function openSource(raw: string, config: AppConfig, options: OpenOptions): Promise<OpenedSource> {
  const offset = options.offset ?? 0;
  let url = checkSourceUrl(raw, config);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', 'User-Agent': 'edge-upload-pipeline (import)' };
    if (offset > 0) {
      headers.Range = `bytes=${offset}-`;
      if (options.validator) headers['If-Range'] = options.validator;
    }
    let res: Response;
    try {
      res = await fetch(url.toString(), { redirect: 'manual', signal: options.signal, headers });
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason instanceof AppError ? options.signal.reason : new AppError('ERR_IMPORT_TIMEOUT', 'The source did not answer in time.');
      throw new AppError('ERR_IMPORT_UNREACHABLE', `The source could not be reached: ${String(error).slice(0, 200)}`);
    }
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (!location) throw new AppError('ERR_IMPORT_SOURCE_STATUS', `The source answered ${res.status} without a Location.`, { status: res.status });
      if (hop >= MAX_REDIRECTS) throw new AppError('ERR_IMPORT_REDIRECTS', `The source redirected more than ${MAX_REDIRECTS} times.`);
      try {
        url = checkSourceUrl(location, config, url.toString());
      } catch (error) {
        if (error instanceof AppError) throw new AppError('ERR_IMPORT_REDIRECTS', `The source redirected to a URL that is not allowed: ${error.message}`);
        throw error;
      }
      continue;
    }
    if (offset > 0 && res.status === 200) {
      await res.body?.cancel();
      throw new AppError('ERR_IMPORT_NOT_RESUMABLE', `The source sent the whole file again instead of the bytes from ${offset} (no Range support, or the file changed).`);
    }
    if (res.status !== 200 && !(offset > 0 && res.status === 206)) {
      await res.body?.cancel();
      throw new AppError('ERR_IMPORT_SOURCE_STATUS', `The source answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`, { status: res.status });
    }
    if (!res.body) throw new AppError('ERR_IMPORT_SOURCE_STATUS', 'The source answered with no body.', { status: res.status });

    let size = declaredLength(res.headers);
    if (res.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range')?.trim() ?? '');
      if (!range || Number(range[1]) !== offset) {
        await res.body.cancel();
        throw new AppError('ERR_IMPORT_NOT_RESUMABLE', `The source answered a range that does not start at ${offset}.`);
      }
      size = range[3] === '*' ? null : Number(range[3]);
    }
    const etag = res.headers.get('etag');
    return {
      url: url.toString(),
      body: res.body,
      size,
      type: (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase(),
      filename: filenameOf(res.headers.get('content-disposition')),
      acceptsRanges: res.status === 206 || (res.headers.get('accept-ranges') ?? '').toLowerCase().includes('bytes'),
      validator: etag && !etag.startsWith('W/') ? etag : res.headers.get('last-modified'),
    };
  }
}
