import { PhotonImage } from '@cf-wasm/photon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_DERIVATIVES,
  decodeBudget,
  EngineUnavailable,
  fitsEngine,
  fitWidth,
  type Derivative,
  type DerivativeSpec,
  type DeriveOutcome,
} from '../src/media/image-engine';
import { completenessProblem, readImageInfo, type ImageInfo } from '../src/media/image-info';
import { decodeJpegScaled, pickEighths, UnsupportedJpeg } from '../src/media/jpeg-scaled-decode';
import {
  estimatePhotonBytes,
  PHOTON_MAX_PIXELS,
  PHOTON_MEMORY_BUDGET,
  PhotonEngine,
  photonHealth,
  photonMemoryBytes,
  photonPixelCeiling,
  planDecode,
} from '../src/media/photon-engine';
import { resampleArea } from '../src/media/resample';
import * as encoded from './fixtures/encoded-images';
import { bytes, exifApp1, fromBase64, gifHeader, pngChunk, pngHeaderOnly, spliceAfterSoi } from './fixtures/image-bytes';

type Rgb = [number, number, number];
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const WHITE: Rgb = [255, 255, 255];

/** RGBA pixels in four quadrants: top-left red, top-right green, bottom-left blue, bottom-right white. */
function quadrants(width: number, height: number, alpha = 255): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : WHITE;
      px.set([...c, alpha], (y * width + x) * 4);
    }
  }
  return px;
}

/** Smooth gradients plus deterministic noise: compresses like a photo, not like a flat test card. */
function photoLike(width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  let s = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = ((s >> 16) % 24) - 12;
      const i = (y * width + x) * 4;
      px[i] = (x * 255) / width + n;
      px[i + 1] = (y * 255) / height + n;
      px[i + 2] = 128 + 100 * Math.sin(x / 40) * Math.cos(y / 55) + n;
      px[i + 3] = 255;
    }
  }
  return px;
}

/** Encodes raw RGBA with photon itself: 'png' (lossless), 'jpeg' (quality 90) or lossless 'webp'. */
function encode(pixels: Uint8Array, width: number, height: number, as: 'png' | 'jpeg' | 'webp'): Uint8Array {
  const image = new PhotonImage(pixels, width, height);
  try {
    return as === 'png' ? image.get_bytes() : as === 'jpeg' ? image.get_bytes_jpeg(90) : image.get_bytes_webp();
  } finally {
    image.free();
  }
}

function decode(file: Uint8Array): { width: number; height: number; at: (x: number, y: number) => Rgb } {
  const image = PhotonImage.new_from_byteslice(file);
  try {
    const width = image.get_width();
    const height = image.get_height();
    const px = image.get_raw_pixels();
    return { width, height, at: (x, y) => [px[(y * width + x) * 4]!, px[(y * width + x) * 4 + 1]!, px[(y * width + x) * 4 + 2]!] };
  } finally {
    image.free();
  }
}

/** Colours at the centres of the four quadrants: [top-left, top-right, bottom-left, bottom-right]. */
function corners(file: Uint8Array): Rgb[] {
  const { width: w, height: h, at } = decode(file);
  return [at(w / 4, h / 4), at((3 * w) / 4, h / 4), at(w / 4, (3 * h) / 4), at((3 * w) / 4, (3 * h) / 4)].map(
    (c) => c.map((v) => Math.round(v / 255) * 255) as Rgb,
  );
}

/** Whether a JPEG carries an EXIF APP1 anywhere before its first scan. */
function hasExif(jpeg: Uint8Array): boolean {
  for (let o = 2; o + 4 <= jpeg.length && jpeg[o] === 0xff; ) {
    const marker = jpeg[o + 1]!;
    if (marker === 0xda) return false;
    const length = (jpeg[o + 2]! << 8) | jpeg[o + 3]!;
    if (marker === 0xe1 && String.fromCharCode(...jpeg.subarray(o + 4, o + 10)) === 'Exif\0\0') return true;
    o += 2 + length;
  }
  return false;
}

function infoOf(file: Uint8Array): ImageInfo {
  const info = readImageInfo(file);
  if (!info) throw new Error('test fixture has no readable header');
  return info;
}

function derived(outcome: DeriveOutcome): Derivative[] {
  if (!outcome.ok) throw new Error(`expected derivatives, got skipped: ${outcome.reason}`);
  return outcome.derivatives;
}

const engine = new PhotonEngine();
const derive = (file: Uint8Array, specs = DEFAULT_DERIVATIVES) => engine.derive(file, infoOf(file), specs);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('pixel budget (pure)', () => {
  const info = (width: number, height: number): ImageInfo => ({ type: 'image/png', width, height, orientation: 1, progressive: false });

  it('refuses more pixels than the engine affords, and empty images', () => {
    expect(fitsEngine(info(2000, 2500), 5_000_000)).toEqual({ ok: true, pixels: 5_000_000 });
    const refused = fitsEngine(info(30_000, 30_000), 5_000_000);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/too large.*900\.0 MP.*30000×30000.*5\.0 MP/);
    expect(fitsEngine(info(0, 10), 5_000_000).ok).toBe(false);
  });

  it('counts a GIF frame larger than its screen', () => {
    expect(decodeBudget({ ...info(10, 10), type: 'image/gif', firstFrame: { width: 5000, height: 5000 } })).toBe(25_000_000);
  });

  it('fits widths, keeping the aspect and never upscaling', () => {
    expect(fitWidth(4000, 3000, 1280)).toEqual({ width: 1280, height: 960 });
    expect(fitWidth(200, 100, 1280)).toEqual({ width: 200, height: 100 });
    expect(fitWidth(10_000, 1, 320)).toEqual({ width: 320, height: 1 }); // never 0 tall
  });

  const jpeg = (width: number, height: number, more: Partial<ImageInfo> = {}): ImageInfo => ({ type: 'image/jpeg', width, height, orientation: 1, progressive: false, ...more });

  it('plans baseline JPEGs for the reduced-scale decoder, as small as still covers the widest derivative', () => {
    // 4032 · 3/8 = 1512 covers 1280; 2/8 (1008) would not.
    expect(planDecode(jpeg(4032, 3024), 3_500_000, 1280)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 3 });
    expect(planDecode(jpeg(8160, 6120), 12_000_000, 1280)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 2 });
    expect(planDecode(jpeg(4032, 3024), 3_500_000, 320)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 1 });
    // Rotated by EXIF the displayed width is the stored height: 1280 wide shows 1707 tall, and 4032 · 4/8 covers it.
    expect(planDecode(jpeg(4032, 3024, { orientation: 6 }), 3_500_000, 1280)).toMatchObject({ decoder: 'scaled-jpeg', eighths: 4 });
    expect(planDecode(jpeg(2000, 1500), 1_000_000, 1280)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 6 });
    // No reduction covers it: decoded whole, still in JS (planes, not photon's 13.5 bytes a pixel).
    expect(planDecode(jpeg(1300, 975), 500_000, 1280)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 8 });
    // A 12 MP portrait photo for a 1920 px variant (1920×2560 shown) fits: 6/8 is 3000×2250.
    expect(planDecode(jpeg(4000, 3000, { orientation: 6 }), 3_100_000, 1920)).toMatchObject({ ok: true, decoder: 'scaled-jpeg', eighths: 6 });
  });

  it('plans photon within the memory budget and refuses beyond it, before anything is decoded', () => {
    expect(planDecode(jpeg(2592, 1944, { progressive: true }), 1_400_000, 1280)).toMatchObject({ ok: true, decoder: 'photon' });
    const refused = planDecode(jpeg(4032, 3024, { progressive: true }), 3_500_000, 1280);
    expect(refused).toEqual({ ok: false, reason: expect.stringMatching(/4032×3024 progressive JPEG of 3500000 bytes needs ~\d+ MiB, over the 96 MiB budget/) });
    // A PNG's compressed bytes are copied into WASM memory too: the file size counts.
    const png: ImageInfo = { type: 'image/png', width: 2000, height: 1500, orientation: 1, progressive: false };
    expect(planDecode(png, 2_000_000, 1280).ok).toBe(true);
    expect(planDecode(png, 60_000_000, 1280).ok).toBe(false);
    expect(estimatePhotonBytes(png, 60_000_000, 1280)).toBeGreaterThan(estimatePhotonBytes(png, 2_000_000, 1280));
    // The hard pixel ceiling holds whatever the decoder.
    expect(planDecode(jpeg(10_000, 6_000), 1_000_000, 1280)).toEqual({ ok: false, reason: expect.stringMatching(/60\.0 MP .* exceeds 50\.0 MP/) });
    expect(planDecode(jpeg(4032, 3024), 3_500_000, 1280, { maxPixels: 12_000_000 }).ok).toBe(false);
    expect(planDecode(jpeg(4032, 3024), 3_500_000, 1280, {}, PHOTON_MEMORY_BUDGET).ok).toBe(false); // no headroom left
  });

  it('photonPixelCeiling agrees with the plan, for callers that only run fitsEngine', () => {
    for (const [info, size] of [
      [jpeg(4032, 3024), 3_500_000],
      [jpeg(4032, 3024, { progressive: true }), 3_500_000],
      [jpeg(2592, 1944, { progressive: true }), 1_400_000],
      [jpeg(30_000, 30_000), 1_000],
      [{ type: 'image/png', width: 2000, height: 1500, orientation: 1, progressive: false }, 60_000_000],
    ] as [ImageInfo, number][]) {
      expect(fitsEngine(info, photonPixelCeiling(info, size)).ok).toBe(planDecode(info, size, 1280).ok);
    }
    expect(photonPixelCeiling(jpeg(4032, 3024), 3_500_000)).toBe(PHOTON_MAX_PIXELS);
  });
});

describe('PhotonEngine: refusals before decoding', () => {
  it('skips a 30000×30000 PNG header without ever calling the decoder or growing WASM memory', async () => {
    const bomb = pngHeaderOnly(30_000, 30_000);
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    const before = await photonMemoryBytes();
    const outcome = await derive(bomb);
    expect(outcome).toEqual({ ok: false, skipped: true, reason: expect.stringMatching(/too large to decode: 900\.0 MP \(30000×30000\)/) });
    expect(decoder).not.toHaveBeenCalled();
    expect(await photonMemoryBytes()).toBe(before);
  });

  it('skips a GIF whose logical screen is small but whose first frame is huge', async () => {
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    const outcome = await derive(gifHeader({ width: 16, height: 16 }, { width: 20_000, height: 20_000 }));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/too large/);
    expect(decoder).not.toHaveBeenCalled();
  });

  it('checks the bytes, not a caller-supplied info that understates the size', async () => {
    const bomb = pngHeaderOnly(30_000, 30_000);
    const lie: ImageInfo = { type: 'image/png', width: 10, height: 10, orientation: 1, progressive: false };
    const outcome = await engine.derive(bomb, lie, DEFAULT_DERIVATIVES);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/does not match the bytes/);
  });

  it('honours a configured pixel ceiling', async () => {
    const file = encode(photoLike(200, 150), 200, 150, 'png');
    const small = new PhotonEngine({ maxPixels: 10_000 });
    const outcome = await small.derive(file, infoOf(file), DEFAULT_DERIVATIVES);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/0\.03 MP \(200×150\) exceeds 0\.01 MP/);
  });
});

describe('PhotonEngine: derivatives', () => {
  it('makes a lossy JPEG thumbnail and display image, much smaller than a lossless encoding', async () => {
    const [w, h] = [1600, 1200];
    const source = encode(photoLike(w, h), w, h, 'png');
    const [thumb, display] = derived(await derive(source));
    expect(thumb).toMatchObject({ variant: 'thumb', width: 320, height: 240, type: 'image/jpeg' });
    expect(display).toMatchObject({ variant: 'display', width: 1280, height: 960, type: 'image/jpeg' });
    for (const d of [thumb!, display!]) {
      expect(Array.from(d.bytes.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
      expect(readImageInfo(d.bytes)).toMatchObject({ type: 'image/jpeg', width: d.width, height: d.height, orientation: 1 });
    }
    // The same pixels, losslessly: photon's WebP (its only WebP) and PNG.
    const thumbPixels = PhotonImage.new_from_byteslice(thumb!.bytes);
    try {
      const lossless = Math.min(thumbPixels.get_bytes_webp().length, thumbPixels.get_bytes().length);
      expect(thumb!.bytes.length * 3).toBeLessThan(lossless);
    } finally {
      thumbPixels.free();
    }
    expect(thumb!.bytes.length).toBeLessThan(40_000);
    expect(display!.bytes.length).toBeLessThan(400_000);
  });

  it('never upscales: a source narrower than every spec keeps its size', async () => {
    const source = encode(quadrants(200, 100), 200, 100, 'png');
    const out = derived(await derive(source));
    expect(out.map((d) => [d.variant, d.width, d.height])).toEqual([['thumb', 200, 100], ['display', 200, 100]]);
    expect(corners(out[0]!.bytes)).toEqual([RED, GREEN, BLUE, WHITE]);
  });

  it('keeps the callers order and handles a spec between the source and another spec', async () => {
    const source = encode(photoLike(900, 600), 900, 600, 'jpeg');
    const out = derived(await derive(source, [{ variant: 'a', width: 1280, quality: 80 }, { variant: 'b', width: 450, quality: 70 }, { variant: 'c', width: 90, quality: 60 }]));
    expect(out.map((d) => [d.variant, d.width, d.height])).toEqual([['a', 900, 600], ['b', 450, 300], ['c', 90, 60]]);
  });

  it('decodes PNG, lossless and lossy WebP, GIF and progressive JPEG', async () => {
    const files = {
      png: encode(quadrants(48, 32), 48, 32, 'png'),
      webpLossless: encode(quadrants(48, 32), 48, 32, 'webp'),
      webpLossy: fromBase64(encoded.webpLossy),
      gif: fromBase64(encoded.gif),
      jpegProgressive: fromBase64(encoded.jpegProgressive),
    };
    for (const [name, file] of Object.entries(files)) {
      const [thumb] = derived(await derive(file, [{ variant: 'thumb', width: 320, quality: 80 }]));
      expect([name, thumb!.width, thumb!.height]).toEqual([name, 48, 32]);
      expect([name, corners(thumb!.bytes)]).toEqual([name, [RED, GREEN, BLUE, WHITE]]);
    }
  });

  it('flattens transparency onto white (JPEG has no alpha; transparent pixels are often black)', async () => {
    const source = encode(new Uint8Array(40 * 40 * 4), 40, 40, 'png'); // every pixel transparent black
    const [thumb] = derived(await derive(source));
    expect(corners(thumb!.bytes)).toEqual([WHITE, WHITE, WHITE, WHITE]);
  });
});

describe('PhotonEngine: EXIF orientation', () => {
  // What each orientation shows at [top-left, top-right, bottom-left, bottom-right] of a stored
  // image whose quadrants are red, green / blue, white (EXIF 2.32, tag 0x0112).
  const shown: Record<number, Rgb[]> = {
    1: [RED, GREEN, BLUE, WHITE],
    2: [GREEN, RED, WHITE, BLUE], // mirrored
    3: [WHITE, BLUE, GREEN, RED], // rotated 180°
    4: [BLUE, WHITE, RED, GREEN], // flipped
    5: [RED, BLUE, GREEN, WHITE], // transposed
    6: [BLUE, RED, WHITE, GREEN], // needs 90° clockwise
    7: [WHITE, GREEN, BLUE, RED], // transversed
    8: [GREEN, WHITE, RED, BLUE], // needs 90° counter-clockwise
  };
  const stored = encode(quadrants(64, 32), 64, 32, 'jpeg');

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('applies orientation %i, swaps the size for 5–8, and strips EXIF', async (orientation) => {
    for (const order of ['II', 'MM'] as const) {
      const file = spliceAfterSoi(stored, exifApp1(orientation, order));
      expect(hasExif(file)).toBe(true);
      expect(readImageInfo(file)?.orientation).toBe(orientation);
      const out = derived(await derive(file));
      for (const d of out) {
        expect([d.width, d.height]).toEqual(orientation >= 5 ? [32, 64] : [64, 32]);
        expect(corners(d.bytes)).toEqual(shown[orientation]);
        expect(hasExif(d.bytes)).toBe(false);
        expect(readImageInfo(d.bytes)?.orientation).toBe(1);
      }
    }
  });

  it('orients a downscaled image too, and reads EXIF written by a real encoder', async () => {
    const big = spliceAfterSoi(encode(quadrants(1600, 800), 1600, 800, 'jpeg'), exifApp1(6, 'MM'));
    const [thumb, display] = derived(await derive(big));
    expect([thumb!.width, thumb!.height, display!.width, display!.height]).toEqual([320, 640, 800, 1600]);
    expect(corners(thumb!.bytes)).toEqual(shown[6]);
    const sharpFile = fromBase64(encoded.jpegSharpExif6);
    const [fromSharp] = derived(await derive(sharpFile));
    expect([fromSharp!.width, fromSharp!.height]).toEqual([32, 48]);
    expect(corners(fromSharp!.bytes)).toEqual(shown[6]);
    expect(hasExif(fromSharp!.bytes)).toBe(false);
  });
});

describe('PhotonEngine: broken input', () => {
  afterEach(() => {
    photonHealth.traps = 0;
    photonHealth.lostBytes = 0;
  });

  it('skips a truncated JPEG cleanly, without handing it to photon, and keeps working', async () => {
    const whole = encode(photoLike(256, 256), 256, 256, 'jpeg');
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    // Whole (no reduction possible) and reduced, the JS decoder itself notices the scan ending early.
    expect(await derive(truncated)).toEqual({ ok: false, skipped: true, reason: 'decode failed: truncated JPEG: scan data ends early' });
    expect(await derive(truncated, [{ variant: 'tiny', width: 32, quality: 70 }])).toEqual({
      ok: false,
      skipped: true,
      reason: 'decode failed: truncated JPEG: scan data ends early',
    });
    expect(decoder).not.toHaveBeenCalled();
    expect(derived(await derive(whole)).length).toBe(2);
    expect(completenessProblem(whole, 'image/jpeg')).toBeNull();
  });

  it('skips a file cut inside its header, and garbage after a valid header', async () => {
    const whole = encode(photoLike(64, 64), 64, 64, 'png');
    expect(await engine.derive(whole.subarray(0, 20), infoOf(whole), DEFAULT_DERIVATIVES)).toEqual({ ok: false, skipped: true, reason: 'unreadable image header' });
    const garbage = new Uint8Array(whole.length);
    garbage.set(whole.subarray(0, 33)); // signature and IHDR, then zeros
    expect(await derive(garbage)).toEqual({ ok: false, skipped: true, reason: expect.stringMatching(/^decode failed: (truncated|corrupt) PNG/) });
    expect(await derive(whole.subarray(0, whole.length - 1))).toEqual({ ok: false, skipped: true, reason: 'decode failed: truncated PNG (in IEND)' });
  });

  it('survives a photon trap on well-formed but undecodable data, and budgets for the memory it leaked', async () => {
    // Every chunk and CRC is right, so only the decoder can find that the compressed data is garbage.
    const ihdr = pngHeaderOnly(1000, 1000).subarray(8, 33);
    const bad = bytes(pngHeaderOnly(1, 1).subarray(0, 8), ihdr, pngChunk('IDAT', bytes('not zlib at all')), pngChunk('IEND'));
    expect(completenessProblem(bad, 'image/png')).toBeNull();
    const outcome = await derive(bad);
    expect(outcome).toEqual({ ok: false, skipped: true, reason: expect.stringMatching(/^decode failed: /) });
    expect(photonHealth.traps).toBe(1);
    expect(photonHealth.lostBytes).toBeGreaterThan(1_000_000 * 4);
    // photon still works …
    expect(derived(await derive(encode(quadrants(48, 32), 48, 32, 'png'))).length).toBe(2);
    // … but once the leaks eat the budget, an image that would otherwise fit is retryable, not refused.
    photonHealth.lostBytes = PHOTON_MEMORY_BUDGET - 10 * 1024 * 1024;
    const file = encode(photoLike(1000, 800), 1000, 800, 'png');
    await expect(derive(file)).rejects.toThrow(EngineUnavailable);
  });

  it('refuses nonsense specs loudly (a programming error, not bad input)', async () => {
    const file = encode(quadrants(8, 8), 8, 8, 'png');
    await expect(derive(file, [{ variant: 'x', width: 0, quality: 80 }])).rejects.toThrow(RangeError);
    await expect(derive(file, [{ variant: 'x', width: 10, quality: 101 }])).rejects.toThrow(RangeError);
  });
});

describe('reduced-scale JPEG decoding', () => {
  /** Mean absolute difference per channel between two same-sized RGBA buffers. */
  const meanDiff = (a: Uint8Array, b: Uint8Array) => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) if (i % 4 !== 3) sum += Math.abs(a[i]! - b[i]!);
    return sum / ((a.length * 3) / 4);
  };
  /** photon's full decode, each output pixel the mean of its scale×scale block (cut at the edges). */
  const reference = (file: Uint8Array, scale: number) => {
    const full = decode(file);
    const [w, h] = [Math.ceil(full.width / scale), Math.ceil(full.height / scale)];
    const out = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sum = [0, 0, 0];
        let n = 0;
        for (let sy = y * scale; sy < Math.min(full.height, (y + 1) * scale); sy++) {
          for (let sx = x * scale; sx < Math.min(full.width, (x + 1) * scale); sx++, n++) full.at(sx, sy).forEach((v, c) => (sum[c]! += v));
        }
        out.set([...sum.map((v) => Math.round(v / n)), 255], (y * w + x) * 4);
      }
    }
    return out;
  };

  it.each(['base', 'rst', 'gray', 'multiscan', '422', 'rgb', '411'])('matches photon at 1/2, 1/4, 1/8 (%s)', (variant) => {
    const file = fromBase64(encoded.cjpeg61x45[variant]!);
    for (const scale of [2, 4, 8] as const) {
      const out = decodeJpegScaled(file, scale);
      expect([out.width, out.height]).toEqual([Math.ceil(61 / scale), Math.ceil(45 / scale)]);
      // 1–3 levels on average (a broken decoder is off by tens): a reduced IDCT is not exactly a box filter,
      // and at 61×45 the partial edge blocks also average the encoder's padding. 4:1:1 chroma has a
      // quarter of the columns, which each decoder interpolates its own way: a level more.
      expect(meanDiff(out.data, reference(file, scale)), `1/${scale}`).toBeLessThan(variant === '411' ? 5 : 4);
    }
  });

  it('leaves what it does not handle to photon: progressive, or a baseline CMYK file', async () => {
    expect(() => decodeJpegScaled(fromBase64(encoded.cjpeg61x45.prog!), 2)).toThrow(UnsupportedJpeg);
    const file = fromBase64(encoded.jpegCmyk);
    expect(infoOf(file)).toMatchObject({ type: 'image/jpeg', width: 48, height: 32, progressive: false });
    expect(() => decodeJpegScaled(file, 2)).toThrow(UnsupportedJpeg);
    // Planned for the scaled decoder, refused by it, decoded by photon instead.
    expect(planDecode(infoOf(file), file.length, 20)).toMatchObject({ decoder: 'scaled-jpeg', eighths: 4 });
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    const [small] = derived(await derive(file, [{ variant: 's', width: 20, quality: 80 }]));
    expect(decoder).toHaveBeenCalledTimes(1);
    expect([small!.width, small!.height]).toEqual([20, 13]);
  });

  it('refuses a second frame header (the memory was planned from the first)', async () => {
    const file = fromBase64(encoded.cjpeg61x45.base!);
    const sof = file.findIndex((b, i) => b === 0xff && file[i + 1] === 0xc0);
    const length = (file[sof + 2]! << 8) | file[sof + 3]!;
    const second = file.slice(sof, sof + 2 + length);
    second.set([0xff, 0xff, 0xff, 0xff], 5); // 65535×65535
    const forged = bytes(file.subarray(0, sof + 2 + length), second, file.subarray(sof + 2 + length));
    expect(() => decodeJpegScaled(forged, 2)).toThrow(/more than one frame header/);
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    expect(await derive(forged, [{ variant: 'tiny', width: 8, quality: 70 }])).toEqual({ ok: false, skipped: true, reason: 'decode failed: more than one frame header' });
    expect(decoder).not.toHaveBeenCalled();
  });

  it('picks the strongest reduction that still covers the target', () => {
    expect(pickEighths(4032, 3024, 1280, 960)).toBe(3);
    expect(pickEighths(4032, 3024, 320, 240)).toBe(1);
    expect(pickEighths(2000, 1500, 1280, 960)).toBe(6);
    expect(pickEighths(1300, 975, 1280, 960)).toBe(8);
  });

  it('is the path a big baseline JPEG takes through the engine, orientation included', async () => {
    const specs: DerivativeSpec[] = [{ variant: 'thumb', width: 80, quality: 75 }, { variant: 'display', width: 300, quality: 80 }];
    const file = spliceAfterSoi(encode(quadrants(1600, 800), 1600, 800, 'jpeg'), exifApp1(6, 'MM'));
    expect(planDecode(infoOf(file), file.length, 300)).toMatchObject({ decoder: 'scaled-jpeg', eighths: 3 });
    const decoder = vi.spyOn(PhotonImage, 'new_from_byteslice');
    const [thumb, display] = derived(await derive(file, specs));
    expect(decoder).not.toHaveBeenCalled();
    expect([thumb!.width, thumb!.height, display!.width, display!.height]).toEqual([80, 160, 300, 600]);
    expect(corners(display!.bytes)).toEqual([BLUE, RED, WHITE, GREEN]);
    expect(hasExif(display!.bytes)).toBe(false);
  });
});

describe('resampleArea', () => {
  it('averages every source pixel (a 2×1 → 1×1 of black and white is mid grey)', () => {
    const src = { data: Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 255]), width: 2, height: 1 };
    expect(Array.from(resampleArea(src, 1, 1, 1).data)).toEqual([128, 128, 128, 255]);
  });

  it('handles non-integer ratios without losing the edges', () => {
    const src = { data: quadrants(7, 5), width: 7, height: 5 };
    const out = resampleArea(src, 3, 2, 1);
    expect([out.width, out.height, out.data.length]).toEqual([3, 2, 24]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual(RED);
  });
});
