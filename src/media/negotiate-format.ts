/**
 * @module Which stored format of a derivative to serve for a request's `Accept`: AVIF, then WebP,
 * when the client names them (browsers do; `*\/*` does not promise them) and they are stored; JPEG,
 * which every browser reads, otherwise. Pure. Responses vary on `Accept`; the cache keys one entry
 * per format class.
 */
import type { DerivativeFormat } from '../contracts/messages';
import { derivativeKeyAs, DERIVATIVE_EXTENSIONS } from '../storage/object-keys';

/** Best first: smaller files for the same quality. */
const PREFERENCE = ['image/avif', 'image/webp', 'image/jpeg'] as const;
const JPEG = 'image/jpeg';

/** Types named in `Accept` with q > 0, with their q. */
function accepted(accept: string | undefined): Map<string, number> {
  const types = new Map<string, number>();
  for (const part of (accept ?? '').split(',').slice(0, 64)) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    if (!type) continue;
    const qParam = params.find((p) => /^\s*q=/.test(p));
    const q = qParam === undefined ? 1 : Number(/^\s*q=((?:0(?:\.\d{0,3})?)|(?:1(?:\.0{0,3})?))\s*$/.exec(qParam)?.[1] ?? NaN);
    if (Number.isNaN(q)) continue; // a malformed q: the entry is ignored
    types.set(type.trim(), q);
  }
  return types;
}

/** The format to serve among `available` (JPEG when nothing better is both accepted and stored). */
export function negotiateFormat(accept: string | undefined, available: readonly string[]): string {
  const q = accepted(accept);
  let best: string = JPEG;
  let bestQ = 0;
  for (const type of PREFERENCE) {
    if (type === JPEG || !available.includes(type)) continue;
    const quality = q.get(type) ?? 0;
    if (quality > bestQ) [best, bestQ] = [type, quality];
  }
  return best;
}

/** The format class a request would get from a variant stored in every format: the cache key's suffix. */
export const formatClass = (accept: string | undefined): string => negotiateFormat(accept, PREFERENCE);

/** A request for the Cache API: the URL plus the format class, so each format is its own entry. */
export function formatCacheKey(request: Request): Request {
  const url = new URL(request.url);
  url.searchParams.set('format', DERIVATIVE_EXTENSIONS[formatClass(request.headers.get('accept') ?? undefined)]!);
  return new Request(url.toString(), { method: 'GET' });
}

interface Servable {
  key: string;
  type: string;
  name: string;
  size: number;
  derivative?: { formats?: DerivativeFormat[] };
}

/** The same derivative in the format the request should get (key, type, size and file name follow). */
export function chooseFormat<T extends Servable>(info: T, accept: string | undefined): T {
  const formats = info.derivative?.formats ?? [];
  const type = negotiateFormat(accept, formats.map((f) => f.type));
  const format = formats.find((f) => f.type === type);
  if (!format || type === info.type) return info;
  const ext = DERIVATIVE_EXTENSIONS[type]!;
  return { ...info, key: derivativeKeyAs(info.key, type), type, size: format.bytes, name: info.name.replace(/\.[a-z]+$/i, `.${ext}`) };
}
