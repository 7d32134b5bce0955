/**
 * @module The default ImageEngine, built on photon (WASM). Baseline JPEGs are decoded once per image at
 * reduced scale in JS (jpeg-scaled-decode) to Y, Cb, Cr planes, which are resized, oriented and encoded at
 * 4:2:0 (planes, jpeg-encode) without ever becoming RGB; everything else is decoded by photon and
 * downscaled, oriented and flattened in JS (resample) before joining that path. Every decode is planned
 * against a memory budget first.
 */
import { initPhoton, PhotonImage } from '@cf-wasm/photon';
import { decodeBudget, DEFAULT_DERIVATIVES, EngineUnavailable, fitsEngine, fitSpec, fitWidth, type DerivativeSpec, type DeriveOutcome, type ImageEngine } from './image-engine';
import { completenessProblem, displaySize, IMAGE_INFO_BYTES, readImageInfo, type ImageInfo } from './image-info';
import { decodeJpegYcc, pickEighths, reducedSize, UnsupportedJpeg, type Eighths } from './jpeg-scaled-decode';
import { encodeJpegYcc } from './jpeg-encode';
import { resizeYcc, yccFromRgba, type YccImage } from './planes';
import { resampleArea, type Pixels } from './resample';
import type { Orientation } from './image-info';

const MiB = 1024 * 1024;

/**
 * Peak WASM bytes a photon decode costs per pixel, measured with photon 0.4 in workerd (a fresh isolate
 * each): photon copies the file into WASM memory, image-rs decodes into one buffer, copies it into another
 * and converts that to RGBA, and WASM memory never shrinks. Measured: JPEG 4:2:0 11.6–12.0, 4:4:4 13.1,
 * progressive 14.6–15.2 (every coefficient is held until the last scan), PNG 11.2–14.2 (16-bit the most),
 * GIF 13.0, WebP 14.8 (lossy) to 15.6 (lossless). Rounded up so the estimate errs towards refusing.
 */
export const DECODE_BYTES_PER_PIXEL = { jpeg: 13.5, progressiveJpeg: 16, png: 14.5, gif: 13.5, webp: 16 } as const;

/**
 * The JS decoder's bytes per output pixel: its planes (1.5 B/px at 4:2:0, 3 at 4:4:4) and, for the rare
 * RGB-coded file, their 4:2:0 conversion (1.5 B/px).
 */
const SCALED_BYTES_PER_PIXEL = 4.5;

/**
 * Bytes per pixel of the largest derivative: every variant's planes (1.5 B/px each, ≤ 2.4 for the
 * largest and all smaller ones), the encoder's symbols (4 B each, ≤ ~1.6 a pixel, most of them zero runs
 * folded away on photos) and its output (≤ ~1 B/px at quality 95), with slack. The decoded planes are
 * dropped before encoding, so adding this to the decode's cost errs towards refusing.
 */
const DERIVATIVE_BYTES_PER_PIXEL = 12;

/** photon's own memory (code, stack, allocator) before any image, rounded up from the measured 1.3 MiB. */
const WASM_BASE_BYTES = 2 * MiB;

/**
 * Default memory one image may take. A Worker isolate has 128 MB (122 MiB) for the JS heap and WASM
 * together; 96 MiB leaves ~26 MiB for the Worker's own heap and the input bytes. With photon decoding
 * that admits ~6 MP (PNG, WebP, progressive JPEG); baseline JPEGs, decoded at reduced scale, fit far larger.
 */
export const PHOTON_MEMORY_BUDGET = 96 * MiB;

/** Default hard ceiling in pixels, whatever the memory budget allows: it also bounds CPU time. */
export const PHOTON_MAX_PIXELS = 50_000_000;

export interface PhotonEngineOptions {
  /** Largest image, in pixels, the engine will decode; larger ones are skipped before decoding. */
  maxPixels?: number;
  /** Largest memory, in bytes, one image may need by the estimates above; beyond it the image is skipped. */
  memoryBudget?: number;
}

export type DecodePlan =
  | { ok: true; decoder: 'scaled-jpeg'; eighths: Eighths; bytes: number }
  | { ok: true; decoder: 'photon'; bytes: number }
  | { ok: false; reason: string };

function photonCostPerPixel(info: ImageInfo): number {
  switch (info.type) {
    case 'image/jpeg': return info.progressive ? DECODE_BYTES_PER_PIXEL.progressiveJpeg : DECODE_BYTES_PER_PIXEL.jpeg;
    case 'image/png': return DECODE_BYTES_PER_PIXEL.png;
    case 'image/gif': return DECODE_BYTES_PER_PIXEL.gif;
    case 'image/webp': return DECODE_BYTES_PER_PIXEL.webp;
  }
}

/** Estimated peak memory for making derivatives up to `widest` pixels wide with photon decoding the image. */
export function estimatePhotonBytes(info: ImageInfo, inputBytes: number, widest: number): number {
  return WASM_BASE_BYTES + inputBytes + Math.ceil(photonCostPerPixel(info) * decodeBudget(info)) + derivativeBytes(info, widest);
}

function derivativeBytes(info: ImageInfo, widest: number): number {
  const shown = displaySize(info);
  const target = fitWidth(shown.width, shown.height, widest);
  return target.width * target.height * DERIVATIVE_BYTES_PER_PIXEL;
}

const DEFAULT_WIDEST = Math.max(...DEFAULT_DERIVATIVES.map((spec) => spec.width));

const mib = (bytes: number) => `${Math.ceil(bytes / MiB)} MiB`;

/**
 * Which decoder to use for this image, or why none may: pure, so a caller can tell in advance whether
 * this engine will take an image (or route it to another, such as the Images binding).
 * `headroom` is memory already lost in this isolate (see `photonHealth`).
 */
export function planDecode(info: ImageInfo, inputBytes: number, widest: number, options: PhotonEngineOptions = {}, headroom = 0): DecodePlan {
  const fits = fitsEngine(info, options.maxPixels ?? PHOTON_MAX_PIXELS);
  if (!fits.ok) return { ok: false, reason: fits.reason };
  const budget = (options.memoryBudget ?? PHOTON_MEMORY_BUDGET) - headroom;
  let bytes: number;
  if (info.type === 'image/jpeg' && !info.progressive) {
    // The strongest DCT-domain reduction that still covers the widest derivative as displayed (5–8 are transposed).
    const shown = displaySize(info);
    const target = fitWidth(shown.width, shown.height, widest);
    const need = info.orientation >= 5 ? { width: target.height, height: target.width } : target;
    const eighths = pickEighths(info.width, info.height, need.width, need.height);
    const size = reducedSize(info.width, info.height, eighths);
    bytes = WASM_BASE_BYTES + size.width * size.height * SCALED_BYTES_PER_PIXEL + derivativeBytes(info, widest);
    if (bytes <= budget) return { ok: true, decoder: 'scaled-jpeg', eighths, bytes };
  } else {
    bytes = estimatePhotonBytes(info, inputBytes, widest);
    if (bytes <= budget) return { ok: true, decoder: 'photon', bytes };
  }
  const kind = info.progressive ? 'progressive JPEG' : info.type;
  return {
    ok: false,
    reason: `image too large to decode: ${info.width}×${info.height} ${kind} of ${inputBytes} bytes needs ~${mib(bytes)}, over the ${mib(budget)} budget`,
  };
}

/**
 * A pixel ceiling for this image, for callers that check `fitsEngine(info, ceiling)` before loading the
 * file: the configured maximum when `planDecode` accepts the image, else the most pixels photon could
 * decode for this type and file size within the budget — so the check and the plan always agree.
 */
export function photonPixelCeiling(info: ImageInfo, inputBytes: number, options: PhotonEngineOptions = {}, widest = DEFAULT_WIDEST): number {
  const maxPixels = options.maxPixels ?? PHOTON_MAX_PIXELS;
  if (planDecode(info, inputBytes, widest, options).ok) return maxPixels;
  const budget = options.memoryBudget ?? PHOTON_MEMORY_BUDGET;
  const affordable = Math.floor((budget - WASM_BASE_BYTES - inputBytes - derivativeBytes(info, widest)) / photonCostPerPixel(info));
  return Math.max(0, Math.min(maxPixels, affordable));
}

/**
 * photon panics (a WebAssembly trap) on input it cannot decode and leaks what the failed call had
 * allocated; WASM memory never shrinks. Per isolate (photon's instance is module-global) this counts the
 * traps and an upper bound of the memory lost, which later plans subtract from their budget.
 */
export const photonHealth = { traps: 0, lostBytes: 0 };

/**
 * Derivatives are baseline JPEG without metadata, 4:2:0: photon's WebP encoder is lossless only and its
 * JPEGs are 4:4:4 (1.4–1.7× larger at the same quality setting).
 */
const OUTPUT_TYPE = 'image/jpeg';

export class PhotonEngine implements ImageEngine {
  readonly name = 'photon';
  readonly options: PhotonEngineOptions;

  constructor(options: PhotonEngineOptions = {}) {
    this.options = { ...options };
  }

  async derive(input: Uint8Array, info: ImageInfo, specs: DerivativeSpec[]): Promise<DeriveOutcome> {
    for (const spec of specs) assertSpec(spec);
    // The bytes are the truth: a caller's stale or forged info must not lift the guard.
    const header = readImageInfo(input.subarray(0, IMAGE_INFO_BYTES));
    if (!header) return skipped('unreadable image header');
    if (header.type !== info.type || header.width !== info.width || header.height !== info.height) {
      return skipped(`image info (${info.type} ${info.width}×${info.height}) does not match the bytes (${header.type} ${header.width}×${header.height})`);
    }
    const widest = Math.max(0, ...specs.map((spec) => spec.width));
    const plan = planDecode(header, input.length, Math.max(widest, 1), this.options, photonHealth.lostBytes);
    if (!plan.ok) {
      // Refused only because of memory lost to earlier traps: another isolate could do it.
      if (photonHealth.lostBytes > 0 && planDecode(header, input.length, Math.max(widest, 1), this.options).ok) {
        throw new EngineUnavailable(`photon lost ~${mib(photonHealth.lostBytes)} to ${photonHealth.traps} decoder failures in this isolate`);
      }
      return skipped(plan.reason);
    }
    if (specs.length === 0) return { ok: true, derivatives: [] };

    let source: Source | string | typeof UNSUPPORTED | undefined;
    if (plan.decoder === 'scaled-jpeg') {
      source = decodeScaled(input, header, plan.eighths);
      // A JPEG the scaled decoder does not handle (CMYK, 12-bit) goes to photon if it fits.
      if (source === UNSUPPORTED) {
        const fallback = estimatePhotonBytes(header, input.length, widest);
        const budget = (this.options.memoryBudget ?? PHOTON_MEMORY_BUDGET) - photonHealth.lostBytes;
        source = fallback <= budget ? this.decodeWithPhoton(input, header, widest, fallback) : `image too large for photon (~${mib(fallback)}) and not decodable at reduced scale`;
      }
    } else {
      source = this.decodeWithPhoton(input, header, widest, plan.bytes);
    }
    if (typeof source === 'string') return skipped(source);
    const images = sized(source, header, widest, specs);
    // Encoding needs the variants only: let the decoded planes go first (the plan counted on it).
    source = undefined;
    const derivatives = specs.map((spec, i) => {
      const image = images[i]!;
      return { variant: spec.variant, width: image.y.width, height: image.y.height, type: OUTPUT_TYPE, bytes: encodeJpegYcc(image, spec.quality) };
    });
    return { ok: true, derivatives };
  }

  /** photon decode (after a completeness walk, since a panic leaks), then the JS downscale off its buffer. */
  private decodeWithPhoton(input: Uint8Array, info: ImageInfo, widest: number, estimate: number): Source | string {
    const problem = completenessProblem(input, info.type);
    if (problem) return `decode failed: ${problem}`;
    let decoded: PhotonImage | undefined;
    try {
      decoded = PhotonImage.new_from_byteslice(input);
      const width = decoded.get_width();
      const height = decoded.get_height();
      if (width !== info.width || height !== info.height) return `decoded ${width}×${height}, but the header said ${info.width}×${info.height}`;
      // A zero-copy view of photon's RGBA buffer (the ImageData polyfill keeps the array it is given):
      // valid until the next WASM call, so it is read in one synchronous pass.
      const view: unknown = decoded.get_image_data().data;
      if (!(view instanceof Uint8ClampedArray) || view.length !== width * height * 4) return 'unexpected pixel buffer from photon';
      return { image: yccFromRgba(orientedTarget({ data: view, width, height }, info, widest)), orientation: 1 };
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        photonHealth.traps++;
        photonHealth.lostBytes += estimate;
      }
      return `decode failed: ${message(error)}`;
    } finally {
      decoded?.free();
    }
  }
}

const UNSUPPORTED = Symbol('unsupported');

/** A decoded picture and the orientation still to apply to it (1 once applied). */
interface Source {
  image: YccImage;
  orientation: Orientation;
}

/** Reduced JS decode to planes as stored; a string says why not. */
function decodeScaled(input: Uint8Array, info: ImageInfo, eighths: Eighths): Source | string | typeof UNSUPPORTED {
  try {
    return { image: decodeJpegYcc(input, eighths), orientation: info.orientation };
  } catch (error) {
    if (error instanceof UnsupportedJpeg) return UNSUPPORTED;
    // Corrupt or truncated: photon would fail too, and leak doing so; do not hand it over.
    return `decode failed: ${message(error)}`;
  }
}

/** Downscales a decoded image (stored orientation) to the widest derivative as displayed, upright. */
function orientedTarget(decoded: Pixels, info: ImageInfo, widest: number): Pixels {
  const size = widestSize(displaySize({ width: decoded.width, height: decoded.height, orientation: info.orientation }), info, widest);
  return resampleArea(decoded, size.width, size.height, info.orientation);
}

/** The widest derivative's size as displayed, never more than the decoded picture as `shown` (it may be 1/scale of the image). */
function widestSize(shown: { width: number; height: number }, info: ImageInfo, widest: number): { width: number; height: number } {
  const full = displaySize(info);
  const target = fitWidth(full.width, full.height, widest);
  return { width: Math.min(target.width, shown.width), height: Math.min(target.height, shown.height) };
}

/**
 * Each spec's picture, upright: resized from the decoded source as stored, then oriented (so the
 * orientation runs on the small image). Each from the source, not from the next larger variant: box
 * filters in a chain blur, which cost 0.15–0.2 dB against sharp on the smaller variants.
 */
function sized(source: Source, info: ImageInfo, widest: number, specs: DerivativeSpec[]): YccImage[] {
  const { image, orientation } = source;
  const largest = widestSize(displaySize({ width: image.y.width, height: image.y.height, orientation }), info, widest);
  return specs.map((spec) => {
    const { width, height } = fitSpec(largest.width, largest.height, spec);
    return orientation >= 5 ? resizeYcc(image, height, width, orientation) : resizeYcc(image, width, height, orientation);
  });
}

/** Current size of photon's WASM memory in bytes; it never shrinks, so after work it is that work's peak. */
export async function photonMemoryBytes(): Promise<number> {
  return (await initPhoton.ensure()).memory.buffer.byteLength;
}

const skipped = (reason: string): DeriveOutcome => ({ ok: false, skipped: true, reason });
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function assertSpec(spec: DerivativeSpec): void {
  if (!Number.isInteger(spec.width) || spec.width < 1) throw new RangeError(`derivative ${spec.variant}: width must be a positive integer`);
  if (!Number.isInteger(spec.quality) || spec.quality < 1 || spec.quality > 100) throw new RangeError(`derivative ${spec.variant}: quality must be 1–100`);
}
