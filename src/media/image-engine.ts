/**
 * @module The image engine interface (decode, orient, resize, encode derivatives) and the pure pixel
 * budget every engine applies before decoding, so a small file declaring a huge image never reaches a decoder.
 */
import type { ImageInfo } from './image-info';

/** One derivative to make: the box it must fit in (never upscaled) and the lossy encoder's quality. */
export interface DerivativeSpec {
  variant: string;
  width: number;
  /** Largest height; unbounded when absent. */
  height?: number;
  quality: number;
}

export interface Derivative {
  variant: string;
  width: number;
  height: number;
  /** MIME type of `bytes`. */
  type: string;
  bytes: Uint8Array;
}

export type DeriveOutcome = { ok: true; derivatives: Derivative[] } | { ok: false; skipped: true; reason: string };

export interface ImageEngine {
  readonly name: string;
  /**
   * Makes one derivative per spec, upright (EXIF orientation applied) and without metadata. Refusals the
   * engine can foresee (too many pixels, unsupported or undecodable input) come back as `skipped`; it
   * throws `EngineUnavailable` for transient trouble and `RangeError` for invalid specs.
   */
  derive(input: Uint8Array, info: ImageInfo, specs: DerivativeSpec[]): Promise<DeriveOutcome>;
}

/**
 * Thrown (never returned) when an engine cannot work right now but could later or elsewhere, e.g. its
 * memory in this isolate is used up: the job should be retried, unlike a `skipped` outcome, which is final.
 */
export class EngineUnavailable extends Error {
  override name = 'EngineUnavailable';
}

/** A grid thumbnail and a web-sized image. */
export const DEFAULT_DERIVATIVES: DerivativeSpec[] = [
  { variant: 'thumb', width: 320, quality: 75 },
  { variant: 'display', width: 1280, quality: 82 },
];

/**
 * Pixels a decoder will allocate for this image: the stored size, or a GIF's first frame when it is
 * larger than the logical screen.
 */
export function decodeBudget(info: ImageInfo): number {
  const frame = info.firstFrame ? info.firstFrame.width * info.firstFrame.height : 0;
  return Math.max(info.width * info.height, frame);
}

export type BudgetCheck = { ok: true; pixels: number } | { ok: false; pixels: number; reason: string };

/** Whether an engine that can afford `maxPixels` may decode the image; refusals carry a readable reason. */
export function fitsEngine(info: ImageInfo, maxPixels: number): BudgetCheck {
  const pixels = decodeBudget(info);
  if (!(pixels > 0)) return { ok: false, pixels, reason: `image has no pixels (${info.width}×${info.height})` };
  if (pixels > maxPixels) {
    const mp = (n: number) => `${(n / 1e6).toFixed(n < 1e6 ? 2 : 1)} MP`;
    return { ok: false, pixels, reason: `image too large to decode: ${mp(pixels)} (${info.width}×${info.height}) exceeds ${mp(maxPixels)}` };
  }
  return { ok: true, pixels };
}

/** Output size for a spec: at most `maxWidth` wide, aspect kept, never wider (or taller) than the source. */
export function fitWidth(width: number, height: number, maxWidth: number): { width: number; height: number } {
  if (width <= maxWidth) return { width, height };
  return { width: maxWidth, height: Math.max(1, Math.round((height * maxWidth) / width)) };
}

/** Output size for a spec's box: inside `spec.width` × `spec.height` (when given), aspect kept, never upscaled. */
export function fitSpec(width: number, height: number, spec: { width: number; height?: number }): { width: number; height: number } {
  const byWidth = fitWidth(width, height, spec.width);
  if (spec.height === undefined || byWidth.height <= spec.height) return byWidth;
  const transposed = fitWidth(height, width, spec.height);
  return { width: transposed.height, height: transposed.width };
}

/**
 * The widest output any spec can produce for an image of this display size: the engines decode for
 * it, and the memory guard budgets for it.
 */
export function widestOutput(width: number, height: number, specs: { width: number; height?: number }[]): number {
  return Math.max(1, ...specs.map((spec) => fitSpec(width, height, spec).width));
}
