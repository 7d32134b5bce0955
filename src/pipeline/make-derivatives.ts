/**
 * @module The transform step: the configured image variants (VARIANTS) as JPEG through the
 * ImageEngine (photon by default) or the Images binding, plus WebP/AVIF through the Images binding
 * where configured, and a placeholder from the smallest; written under deterministic keys so a
 * redelivered job overwrites nothing new. The header is read and the pixel budget checked before
 * the image is loaded or decoded; one image at a time per isolate, since WASM memory never shrinks.
 * Also makes a single variant on first request when the configuration gained one after upload.
 */
import { fitsEngine, widestOutput, type Derivative, type ImageEngine } from '../media/image-engine';
import { deriveWithImagesBinding, encodeWithImagesBinding, IMAGES_MAX_PIXELS, IMAGES_MAX_SIDE } from '../media/images-binding-engine';
import { displaySize, IMAGE_INFO_BYTES, readImageInfo } from '../media/image-info';
import { PhotonEngine, photonPixelCeiling } from '../media/photon-engine';
import { placeholderOf } from '../media/placeholder';
import type { VariantSpec } from '../media/variants';
import type { DerivativeFormat, DerivativeInfo, Placeholder } from '../contracts/messages';
import { derivativeKey } from '../storage/object-keys';
import type { R2Store } from '../storage/r2-store';

/** Types photon decodes; others (AVIF, HEIC) go to the Images binding, video and PDF get none. */
const DECODABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** Inputs larger than this are not loaded into an isolate at all. */
const MAX_INPUT_BYTES = 40 * 1024 * 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export type DerivativesOutcome = { derivatives: DerivativeInfo[]; skipped?: string; corrupt?: string; placeholder?: Placeholder };

/** One stored image and what to make of it. */
export interface DerivativeJob {
  uploadId: string;
  originalKey: string;
  sha256: string;
  detectedType: string;
  size: number;
  store: R2Store;
  variants: VariantSpec[];
  images?: ImagesBinding;
}

let engine: ImageEngine | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** Serialises image work in this isolate. */
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

export async function makeDerivatives(job: DerivativeJob, onDerivative: (derivative: DerivativeInfo) => Promise<void>): Promise<DerivativesOutcome> {
  if (!job.detectedType.startsWith('image/')) return { derivatives: [] };
  // Made before (a redelivered job, or the same bytes uploaded again): reuse, decode nothing.
  const existing = await existingDerivatives(job, job.variants);
  if (existing.every((d) => d !== null)) {
    for (const derivative of existing) await onDerivative(derivative);
    return { derivatives: existing, ...placeholderIn(existing) };
  }
  const made = await makeJpegs(job, job.variants);
  if (!made.ok) return made.outcome;
  const derivatives = await storeDerivatives(job, made.derivatives, onDerivative, true);
  return { derivatives, ...placeholderIn(derivatives) };
}

/**
 * A configured variant the upload does not have yet (the configuration changed after it was
 * processed): made now, under the same guards, and stored for the next request. Null with a
 * reason when it cannot be made.
 */
export async function makeMissingVariant(job: DerivativeJob, spec: VariantSpec): Promise<{ derivative: DerivativeInfo } | { reason: string }> {
  const [existing] = await existingDerivatives(job, [spec]);
  if (existing) return { derivative: existing };
  const made = await makeJpegs(job, [spec]);
  if (!made.ok) return { reason: made.outcome.corrupt ?? made.outcome.skipped ?? 'no derivative made' };
  const [derivative] = await storeDerivatives(job, made.derivatives, async () => undefined, false);
  return derivative ? { derivative } : { reason: 'no derivative made' };
}

const placeholderIn = (derivatives: DerivativeInfo[]) => {
  const placeholder = derivatives.find((d) => d.placeholder)?.placeholder;
  return placeholder ? { placeholder } : {};
};

type Made = { ok: true; derivatives: Derivative[] } | { ok: false; outcome: DerivativesOutcome };

/** JPEGs of `specs`: photon in the isolate when the image fits its budget, else the Images binding. */
async function makeJpegs(job: DerivativeJob, specs: VariantSpec[]): Promise<Made> {
  const { store, originalKey, images, detectedType, size } = job;
  const none = (outcome: Omit<DerivativesOutcome, 'derivatives'>): Made => ({ ok: false, outcome: { derivatives: [], ...outcome } });
  // Beyond the in-isolate engine: the Images binding when configured, else the original alone.
  const elsewhere = async (why: string): Promise<Made> => {
    if (!images) return none({ skipped: `Original kept, no derivatives: ${why}.` });
    const outcome = await deriveWithImagesBinding(images, originalSource(job), specs);
    if (!outcome.ok) return none({ skipped: `Original kept, no derivatives: ${why}; ${outcome.reason}.` });
    return { ok: true, derivatives: outcome.derivatives };
  };

  if (!DECODABLE.has(detectedType)) return elsewhere(`the image engine does not decode ${detectedType}`);
  const head = await store.readHead(originalKey, IMAGE_INFO_BYTES);
  const info = head ? readImageInfo(head) : null;
  if (!info) return none({ skipped: 'The image header could not be read.' });
  // Pixel bombs stop here: nothing is loaded or decoded beyond the header.
  const shown = displaySize(info);
  const fits = fitsEngine(info, photonPixelCeiling(info, size, {}, widestOutput(shown.width, shown.height, specs)));
  if (!fits.ok && (fits.pixels > IMAGES_MAX_PIXELS || Math.max(info.width, info.height) > IMAGES_MAX_SIDE)) {
    return none({ skipped: `Original kept, no derivatives: ${fits.reason}; too large for the Images binding too.` });
  }
  if (!fits.ok) return elsewhere(fits.reason);
  if (size > MAX_INPUT_BYTES) return elsewhere(`the file is larger than ${MAX_INPUT_BYTES} bytes`);

  return oneAtATime(async (): Promise<Made> => {
    const bytes = await store.readAll(originalKey);
    if (!bytes) throw new Error('assembled object vanished during processing');
    engine ??= new PhotonEngine();
    const outcome = await engine.derive(bytes, info, specs);
    // An image that passed the header checks but cannot be decoded is broken: not servable.
    if (!outcome.ok && outcome.reason.startsWith('decode failed')) return none({ corrupt: outcome.reason });
    if (!outcome.ok) return none({ skipped: `Original kept, no derivatives: ${outcome.reason}.` });
    return { ok: true, derivatives: outcome.derivatives };
  });
}

const originalSource = (job: DerivativeJob) => async () => {
  const body = await job.store.getStream(job.originalKey);
  if (!body) throw new Error('assembled object vanished during processing');
  return body;
};

/**
 * Stores each derivative: its other formats first (Images binding), then the JPEG, whose metadata
 * lists the formats stored — so a JPEG found later means its variant is complete. With
 * `withPlaceholder`, the smallest derivative also carries the image's placeholder.
 */
async function storeDerivatives(
  job: DerivativeJob,
  made: Derivative[],
  onDerivative: (derivative: DerivativeInfo) => Promise<void>,
  withPlaceholder: boolean,
): Promise<DerivativeInfo[]> {
  const smallest = made.reduce<Derivative | undefined>((a, d) => (!a || d.width * d.height < a.width * a.height ? d : a), undefined);
  const placeholder = withPlaceholder && smallest ? placeholderOf(smallest.bytes) : null;
  const derivatives: DerivativeInfo[] = [];
  for (const d of made) {
    const spec = job.variants.find((v) => v.variant === d.variant);
    const formats: DerivativeFormat[] = [{ type: d.type, bytes: d.bytes.length }];
    for (const format of spec?.formats ?? []) {
      if (format === d.type || !job.images) continue;
      try {
        const bytes = await encodeWithImagesBinding(job.images, originalSource(job), spec!, format);
        await job.store.put(derivativeKey(job.originalKey, job.sha256, d.variant, format), bytes, format, IMMUTABLE);
        formats.push({ type: format, bytes: bytes.length });
      } catch (error) {
        // A format the binding cannot make for this image: JPEG (and any other) still serve.
        console.warn(`derivative ${d.variant} as ${format}: ${String(error).slice(0, 200)}`);
      }
    }
    const carries = d === smallest && placeholder ? placeholder : undefined;
    await job.store.put(derivativeKey(job.originalKey, job.sha256, d.variant), d.bytes, d.type, IMMUTABLE, {
      width: String(d.width),
      height: String(d.height),
      formats: formats.map((f) => `${f.type}:${f.bytes}`).join(','),
      ...(carries ? { thumbhash: carries.thumbhash, color: carries.color } : {}),
    });
    const derivative: DerivativeInfo = {
      variant: d.variant,
      url: `/media/${job.uploadId}/${d.variant}`,
      width: d.width,
      height: d.height,
      type: d.type,
      bytes: d.bytes.length,
      formats,
      ...(carries ? { placeholder: carries } : {}),
    };
    derivatives.push(derivative);
    await onDerivative(derivative);
  }
  return derivatives;
}

/** Each spec's stored derivative, or null where it is missing. */
async function existingDerivatives(job: DerivativeJob, specs: VariantSpec[]): Promise<(DerivativeInfo | null)[]> {
  const found: (DerivativeInfo | null)[] = [];
  for (const spec of specs) {
    const object = await job.store.head(derivativeKey(job.originalKey, job.sha256, spec.variant));
    const meta = object?.customMetadata ?? {};
    const width = Number(meta.width);
    const height = Number(meta.height);
    if (!object || !(width > 0) || !(height > 0)) {
      found.push(null);
      continue;
    }
    const type = object.httpMetadata?.contentType ?? 'image/jpeg';
    found.push({
      variant: spec.variant,
      url: `/media/${job.uploadId}/${spec.variant}`,
      width,
      height,
      type,
      bytes: object.size,
      formats: meta.formats ? parseFormats(meta.formats) : [{ type, bytes: object.size }],
      ...(meta.thumbhash && meta.color ? { placeholder: { thumbhash: meta.thumbhash, color: meta.color } } : {}),
    });
  }
  return found;
}

/** `image/jpeg:1234,image/webp:987` (the JPEG's metadata) → formats. */
function parseFormats(text: string): DerivativeFormat[] {
  return text.split(',').flatMap((entry) => {
    const [type, bytes] = entry.split(':');
    return type && Number(bytes) > 0 ? [{ type, bytes: Number(bytes) }] : [];
  });
}
