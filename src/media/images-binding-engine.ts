/**
 * @module Derivatives through the Cloudflare Images binding, for what the in-isolate engine cannot
 * take (too many pixels for 128 MB, or a format photon does not decode, such as AVIF). The image
 * streams from R2 to the binding; nothing large is held in the isolate. `wrangler dev` emulates
 * the binding with sharp (EXIF orientation applied, metadata dropped).
 */
import type { Derivative, DerivativeSpec } from './image-engine';
import { readImageInfo } from './image-info';

/** Cloudflare Images' input limits: beyond them even the binding is not asked (pixel bombs). */
export const IMAGES_MAX_PIXELS = 100_000_000;
export const IMAGES_MAX_SIDE = 12_000;

export type ImagesOutcome = { ok: true; derivatives: Derivative[] } | { ok: false; reason: string };

export async function deriveWithImagesBinding(
  images: ImagesBinding,
  source: () => Promise<ReadableStream<Uint8Array>>,
  specs: DerivativeSpec[],
): Promise<ImagesOutcome> {
  let info: ImageInfoResponse;
  try {
    info = await images.info(await source());
  } catch (error) {
    return { ok: false, reason: `the Images binding cannot read it: ${String(error).slice(0, 200)}` };
  }
  if (!('width' in info) || !info.width || !info.height) return { ok: false, reason: `the Images binding reports no size (${info.format})` };
  if (info.width * info.height > IMAGES_MAX_PIXELS || Math.max(info.width, info.height) > IMAGES_MAX_SIDE) {
    return { ok: false, reason: `image too large for the Images binding: ${info.width}×${info.height}` };
  }
  const derivatives: Derivative[] = [];
  for (const spec of specs) {
    const bytes = await encodeWithImagesBinding(images, source, spec, 'image/jpeg');
    const out = readImageInfo(bytes);
    if (!out) return { ok: false, reason: 'the Images binding returned no readable JPEG' };
    derivatives.push({ variant: spec.variant, width: out.width, height: out.height, type: 'image/jpeg', bytes });
  }
  return { ok: true, derivatives };
}

/** Output formats the binding encodes (lossy WebP and AVIF, which photon cannot). */
export type ImagesFormat = 'image/jpeg' | 'image/webp' | 'image/avif';

/** One spec in one format; throws what the binding throws (the caller decides whether that is final). */
export async function encodeWithImagesBinding(
  images: ImagesBinding,
  source: () => Promise<ReadableStream<Uint8Array>>,
  spec: DerivativeSpec,
  format: ImagesFormat,
): Promise<Uint8Array> {
  // scale-down never upscales; the binding applies EXIF orientation and drops metadata.
  const result = await images
    .input(await source())
    .transform({ width: spec.width, ...(spec.height ? { height: spec.height } : {}), fit: 'scale-down' })
    .output({ format, quality: spec.quality });
  return new Uint8Array(await new Response(result.image()).arrayBuffer());
}
