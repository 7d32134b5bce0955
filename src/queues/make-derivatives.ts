/**
 * @module The transform step: image derivatives through the ImageEngine (photon by default),
 * written under deterministic keys so a redelivered job overwrites nothing new. The header is
 * read and the pixel budget checked before the image is loaded or decoded; one image at a time
 * per isolate, since WASM memory never shrinks.
 */
import { DEFAULT_DERIVATIVES, type Derivative, type ImageEngine } from '../media/image-engine';
import { deriveWithImagesBinding, IMAGES_MAX_PIXELS, IMAGES_MAX_SIDE } from '../media/images-binding-engine';
import { IMAGE_INFO_BYTES, readImageInfo } from '../media/image-info';
import { PhotonEngine, photonPixelCeiling } from '../media/photon-engine';
import { fitsEngine } from '../media/image-engine';
import type { DerivativeInfo } from '../protocol/messages';
import { derivativeKey } from '../storage/object-keys';
import type { R2Store } from '../storage/r2-store';

/** Types photon decodes; others (AVIF, HEIC, video, PDF) get no derivatives. */
const DECODABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** Inputs larger than this are not loaded into an isolate at all. */
const MAX_INPUT_BYTES = 40 * 1024 * 1024;

export type DerivativesOutcome = { derivatives: DerivativeInfo[]; skipped?: string; corrupt?: string };

let engine: ImageEngine | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** Serialises image work in this isolate. */
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

export async function makeDerivatives(
  uploadId: string,
  originalKey: string,
  sha256: string,
  detectedType: string,
  size: number,
  store: R2Store,
  onDerivative: (derivative: DerivativeInfo) => Promise<void>,
  images?: ImagesBinding,
): Promise<DerivativesOutcome> {
  if (!detectedType.startsWith('image/')) return { derivatives: [] };
  // Made before (a redelivered job, or the same bytes uploaded again): reuse, decode nothing.
  const existing = await existingDerivatives(uploadId, originalKey, sha256, store);
  if (existing) {
    for (const derivative of existing) await onDerivative(derivative);
    return { derivatives: existing };
  }
  const store_ = (made: Derivative[]) => storeDerivatives(made, uploadId, originalKey, sha256, store, onDerivative);
  // Beyond the in-isolate engine: the Images binding when configured, else the original alone.
  const elsewhere = async (why: string): Promise<DerivativesOutcome> => {
    if (!images) return { derivatives: [], skipped: `Original kept, no derivatives: ${why}.` };
    const source = async () => {
      const body = await store.getStream(originalKey);
      if (!body) throw new Error('assembled object vanished during processing');
      return body;
    };
    const outcome = await deriveWithImagesBinding(images, source, DEFAULT_DERIVATIVES);
    if (!outcome.ok) return { derivatives: [], skipped: `Original kept, no derivatives: ${why}; ${outcome.reason}.` };
    return { derivatives: await store_(outcome.derivatives) };
  };

  if (!DECODABLE.has(detectedType)) return elsewhere(`the image engine does not decode ${detectedType}`);
  const head = await store.readHead(originalKey, IMAGE_INFO_BYTES);
  const info = head ? readImageInfo(head) : null;
  if (!info) return { derivatives: [], skipped: 'The image header could not be read.' };
  // Pixel bombs stop here: nothing is loaded or decoded beyond the header.
  const fits = fitsEngine(info, photonPixelCeiling(info, size));
  if (!fits.ok && (fits.pixels > IMAGES_MAX_PIXELS || Math.max(info.width, info.height) > IMAGES_MAX_SIDE)) {
    return { derivatives: [], skipped: `Original kept, no derivatives: ${fits.reason}; too large for the Images binding too.` };
  }
  if (!fits.ok) return elsewhere(fits.reason);
  if (size > MAX_INPUT_BYTES) return elsewhere(`the file is larger than ${MAX_INPUT_BYTES} bytes`);

  return oneAtATime(async () => {
    const bytes = await store.readAll(originalKey);
    if (!bytes) throw new Error('assembled object vanished during processing');
    engine ??= new PhotonEngine();
    const outcome = await engine.derive(bytes, info, DEFAULT_DERIVATIVES);
    // An image that passed the header checks but cannot be decoded is broken: not servable.
    if (!outcome.ok && outcome.reason.startsWith('decode failed')) return { derivatives: [], corrupt: outcome.reason };
    if (!outcome.ok) return { derivatives: [], skipped: `Original kept, no derivatives: ${outcome.reason}.` };
    return { derivatives: await store_(outcome.derivatives) };
  });
}

/** Stores derivatives under their deterministic keys and announces each as it lands. */
async function storeDerivatives(
  made: Derivative[],
  uploadId: string,
  originalKey: string,
  sha256: string,
  store: R2Store,
  onDerivative: (derivative: DerivativeInfo) => Promise<void>,
): Promise<DerivativeInfo[]> {
  const derivatives: DerivativeInfo[] = [];
  for (const d of made) {
    await store.put(derivativeKey(originalKey, sha256, d.variant), d.bytes, d.type, 'public, max-age=31536000, immutable', {
      width: String(d.width),
      height: String(d.height),
    });
    const derivative: DerivativeInfo = { variant: d.variant, url: `/media/${uploadId}/${d.variant}`, width: d.width, height: d.height, type: d.type, bytes: d.bytes.length };
    derivatives.push(derivative);
    await onDerivative(derivative);
  }
  return derivatives;
}

async function existingDerivatives(uploadId: string, originalKey: string, sha256: string, store: R2Store): Promise<DerivativeInfo[] | null> {
  const found: DerivativeInfo[] = [];
  for (const spec of DEFAULT_DERIVATIVES) {
    const object = await store.head(derivativeKey(originalKey, sha256, spec.variant));
    const width = Number(object?.customMetadata?.width);
    const height = Number(object?.customMetadata?.height);
    if (!object || !(width > 0) || !(height > 0)) return null;
    found.push({
      variant: spec.variant,
      url: `/media/${uploadId}/${spec.variant}`,
      width,
      height,
      type: object.httpMetadata?.contentType ?? 'image/jpeg',
      bytes: object.size,
    });
  }
  return found;
}
