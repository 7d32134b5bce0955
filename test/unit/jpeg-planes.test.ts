/**
 * The reduced-scale JPEG decoder (any n/8), the plane operations and the planar encoder, checked against
 * sharp (libvips, libjpeg-turbo) as an independent decoder and resizer.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeJpegYcc } from '../../src/media/jpeg-encode';
import { decodeJpegPlanes, decodeJpegYcc, pickEighths, reducedSize, type Eighths } from '../../src/media/jpeg-scaled-decode';
import { chromaSize, orientPlane, resizePlane, resizeYcc, rgbaFromPlanes, yccFromRgba, type Plane, type YccImage } from '../../src/media/planes';
import { resampleArea } from '../../src/media/resample';
import type { Orientation } from '../../src/media/image-info';
import * as encoded from '../fixtures/encoded-images';

const [W, H] = [203, 157]; // partial MCUs on both axes, odd reduced sizes

/** Photo-like RGB: waves in each channel plus a little seeded noise. */
function photoLike(width: number, height: number): Buffer {
  let seed = 3;
  const noise = () => (((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5) * 16;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = noise();
      raw[i] = 128 + 90 * Math.sin(x / 17) + n;
      raw[i + 1] = (y * 200) / height + 20 + n;
      raw[i + 2] = 128 + 80 * Math.cos((x + y) / 23) + n;
    }
  }
  return raw;
}

const jpeg = (chromaSubsampling: '4:2:0' | '4:4:4') =>
  sharp(photoLike(W, H), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling }).toBuffer();

/** PSNR (dB) over R, G, B of two RGBA buffers. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++, n++) sum += (a[i + c]! - b[i + c]!) ** 2;
  }
  return 10 * Math.log10((255 * 255) / (sum / n));
}

/** sharp's decode of the whole file, resized (lanczos3) to width×height, as RGBA. */
const reference = async (file: Uint8Array, width: number, height: number) =>
  new Uint8Array(await sharp(file).resize(width, height, { fit: 'fill' }).ensureAlpha().raw().toBuffer());

const rgbaOf = (image: YccImage) => rgbaFromPlanes([image.y, image.cb, image.cr], true, image.y.width, image.y.height).data;

describe('decodeJpegPlanes at n/8', () => {
  // A reduced IDCT is not lanczos: the smaller the output, the more the two filters differ (a broken
  // decode scores ~10–15 dB). Whole, it is libjpeg's decode up to rounding.
  const bound: Record<Eighths, number> = { 1: 24, 2: 31, 3: 34, 4: 37, 5: 36, 6: 36, 7: 36, 8: 50 };

  it.each(['4:2:0', '4:4:4'] as const)('decodes %s at every n/8 to what libjpeg-turbo decodes and resizes', async (sampling) => {
    const file = new Uint8Array(await jpeg(sampling));
    for (let eighths = 1; eighths <= 8; eighths++) {
      const decoded = decodeJpegPlanes(file, eighths as Eighths, true);
      const size = reducedSize(W, H, eighths);
      expect([decoded.width, decoded.height], `${eighths}/8`).toEqual([size.width, size.height]);
      const rgba = rgbaFromPlanes(decoded.planes, true, decoded.width, decoded.height).data;
      expect(psnr(rgba, await reference(file, size.width, size.height)), `${eighths}/8`).toBeGreaterThan(bound[eighths as Eighths]);
    }
  });

  it('keeps subsampled chroma subsampled unless asked for it whole', async () => {
    const file = new Uint8Array(await jpeg('4:2:0'));
    const stored = decodeJpegPlanes(file, 6);
    expect(stored.planes.map((p) => [p.width, p.height])).toEqual([[153, 118], [77, 60], [77, 60]]);
    // For RGBA, as many chroma samples as keep a whole number of pixels per sample: 4:2:0 at 3/8 gets 6/8.
    expect(decodeJpegPlanes(file, 3, true).planes.map((p) => p.width)).toEqual([77, 77, 77]);
    expect(decodeJpegPlanes(file, 5, true).planes.map((p) => p.width)).toEqual([127, 64, 64]);
  });

  it.each(['base', 'rst', 'gray', 'multiscan', '422', '411', 'rgb'])('decodes libjpeg-turbo’s %s file at 3/8 and 6/8', async (variant) => {
    const file = Uint8Array.from(Buffer.from(encoded.cjpeg61x45[variant]!, 'base64'));
    for (const eighths of [3, 6] as const) {
      const decoded = decodeJpegPlanes(file, eighths, true);
      const size = reducedSize(61, 45, eighths);
      const rgba = rgbaFromPlanes(decoded.planes, decoded.colour === 'ycc', decoded.width, decoded.height).data;
      // 61×45 at quality 75 with noise: lanczos and a 3-point IDCT part ways more than on the photo above.
      expect(psnr(rgba, await reference(file, size.width, size.height)), `${variant} ${eighths}/8`).toBeGreaterThan(eighths === 3 ? 25 : 30);
    }
  });

  it('the derivative path (planes as stored, resized, re-encoded) makes the picture sharp makes', async () => {
    const file = new Uint8Array(await jpeg('4:2:0'));
    const [width, height] = [90, 70];
    const eighths = pickEighths(W, H, width, height);
    expect(eighths).toBe(4);
    const picture = resizeYcc(decodeJpegYcc(file, eighths), width, height, 1);
    const ref = await reference(file, width, height);
    expect(psnr(rgbaOf(picture), ref)).toBeGreaterThan(33);
    const reencoded = new Uint8Array(await sharp(encodeJpegYcc(picture, 90)).ensureAlpha().raw().toBuffer());
    expect(psnr(reencoded, ref)).toBeGreaterThan(32);
  });
});

describe('plane operations', () => {
  const plane = (width: number, values: number[]): Plane => ({ data: Uint8Array.from(values), width, height: values.length / width });

  it('averages areas exactly, with fractional coverage at non-integer ratios', () => {
    expect(Array.from(resizePlane(plane(4, [0, 100, 200, 255]), 2, 1).data)).toEqual([50, 228]);
    // 3 → 2: cell 0 is source [0, 1.5), cell 1 is [1.5, 3).
    expect(Array.from(resizePlane(plane(3, [0, 90, 180]), 2, 1).data)).toEqual([30, 150]);
    expect(Array.from(resizePlane(plane(1, [10, 20, 30, 40]), 1, 2).data)).toEqual([15, 35]);
    // Growing (chroma of unusual subsampling): a box upscale.
    expect(Array.from(resizePlane(plane(2, [10, 200]), 4, 1).data)).toEqual([10, 10, 200, 200]);
  });

  it('orients as the RGBA resampler does, for every EXIF orientation', () => {
    const values = Array.from({ length: 15 }, (_, i) => i * 17);
    const rgba = { data: Uint8Array.from(values.flatMap((v) => [v, v, v, 255])), width: 5, height: 3 };
    for (let orientation = 1; orientation <= 8; orientation++) {
      const oriented = orientPlane(plane(5, values), orientation as Orientation);
      const [w, h] = orientation >= 5 ? [3, 5] : [5, 3];
      const expected = resampleArea(rgba, w, h, orientation as Orientation).data.filter((_, i) => i % 4 === 0);
      expect([oriented.width, oriented.height, ...oriented.data], `orientation ${orientation}`).toEqual([w, h, ...expected]);
    }
  });

  it('maps chroma through the luma grid, so an odd width leaves no drift across the picture', () => {
    // Chroma sample j covers luma [2j, 2j + 2) of a 100-wide picture; its value is where its centre is.
    const source: YccImage = {
      y: { data: new Uint8Array(100).fill(128), width: 100, height: 1 },
      cb: plane(50, Array.from({ length: 50 }, (_, j) => 2 * j + 1)),
      cr: plane(50, new Array<number>(50).fill(128)),
    };
    const out = resizeYcc(source, 33, 1, 1);
    expect(out.cb.width).toBe(chromaSize(33, 1).width);
    for (let i = 0; i < out.cb.width; i++) {
      // Output chroma i covers output luma [2i, 2i + 2), i.e. source luma ×100/33, cut at the edge.
      const from = (2 * i * 100) / 33;
      const to = Math.min(100, ((2 * i + 2) * 100) / 33);
      expect(Math.abs(out.cb.data[i]! - (from + to) / 2), `chroma ${i}`).toBeLessThanOrEqual(1);
    }
  });

  it('converts RGBA to 4:2:0 planes and back without visible loss on smooth content', () => {
    const raw = photoLike(64, 48);
    const rgba = Uint8Array.from({ length: 64 * 48 * 4 }, (_, i) => (i % 4 === 3 ? 255 : raw[(i >> 2) * 3 + (i % 4)]!));
    const ycc = yccFromRgba({ data: rgba, width: 64, height: 48 });
    expect([ycc.cb.width, ycc.cb.height]).toEqual([32, 24]);
    expect(psnr(rgbaOf(ycc), rgba)).toBeGreaterThan(30);
  });

  it('refuses chroma planes of the wrong size for 4:2:0', () => {
    const y = { data: new Uint8Array(33 * 9), width: 33, height: 9 };
    const wrong = { data: new Uint8Array(16 * 4), width: 16, height: 4 };
    expect(() => encodeJpegYcc({ y, cb: wrong, cr: wrong }, 80)).toThrow(/must be 17×5/);
  });
});
