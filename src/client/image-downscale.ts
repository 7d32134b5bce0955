/**
 * @module The one image-downscaling routine, run in a worker where it can be (resize-worker.ts)
 * and on the main thread otherwise: decode with EXIF orientation applied, fit within the bounds,
 * re-encode (which leaves all metadata behind). Needs createImageBitmap and OffscreenCanvas.
 */

export interface ResizeOptions {
  /** Bounds in CSS pixels of the upright image; either may be left out. */
  maxWidth?: number;
  maxHeight?: number;
  /** 0–1 for JPEG and WebP (default 0.85). */
  quality?: number;
  /** Output type; the input's type (JPEG, PNG, WebP) by default. */
  type?: 'image/jpeg' | 'image/png' | 'image/webp';
}

export const RESIZABLE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

export function canDownscale(): boolean {
  return typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function';
}

/** The re-encoded image, or null when the input cannot be decoded here. */
export async function downscale(blob: Blob, options: ResizeOptions): Promise<Blob | null> {
  let bitmap: ImageBitmap;
  try {
    // 'from-image' applies the EXIF orientation, so width/height are the upright image's.
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    return null;
  }
  try {
    const scale = Math.min(1, (options.maxWidth ?? Infinity) / bitmap.width, (options.maxHeight ?? Infinity) / bitmap.height);
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (!context) return null;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    const type = options.type ?? (RESIZABLE_TYPES.includes(blob.type) ? blob.type : 'image/jpeg');
    return await canvas.convertToBlob({ type, quality: options.quality ?? 0.85 });
  } finally {
    bitmap.close();
  }
}
