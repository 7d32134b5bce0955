/**
 * @module Planar 8-bit images, the derivative path's working form: one byte a sample, one plane per
 * channel, each at its own resolution. A JPEG decodes to Y, Cb and Cr planes (chroma usually halved) and
 * the encoder takes them back at 4:2:0, so in between there is no RGB, no full-resolution chroma, and half
 * the samples of RGB to resize. Area-average resizing, EXIF orientation and the RGBA conversions. Pure.
 */
import type { Orientation } from './image-info';
import { coverage, placement, type Pixels } from './resample';

/** One channel, row-major, `width` samples a row. */
export interface Plane {
  data: Uint8Array;
  width: number;
  height: number;
}

/** YCbCr (JFIF: BT.601, full range); the chroma planes cover the same picture as `y` at any resolution. */
export interface YccImage {
  y: Plane;
  cb: Plane;
  cr: Plane;
}

/** Chroma size at 4:2:0 for a `width`×`height` picture (what the encoder takes). */
export const chromaSize = (width: number, height: number) => ({ width: Math.ceil(width / 2), height: Math.ceil(height / 2) });

/**
 * Resizes by area averaging, rows first then columns (separable, one row of floats as scratch); a box
 * upscale where a side grows, which only chroma of unusual subsampling needs. Output sample i spans
 * source [i·scaleX, (i + 1)·scaleX) across (likewise down); the scales default to the size ratios.
 */
export function resizePlane(src: Plane, width: number, height: number, scaleX = src.width / width, scaleY = src.height / height): Plane {
  if (width === src.width && height === src.height && scaleX === 1 && scaleY === 1) return src;
  if (width < 1 || height < 1) throw new RangeError(`cannot resize ${src.width}×${src.height} to ${width}×${height}`);
  const cols = coverage(src.width, width, scaleX);
  const rows = coverage(src.height, height, scaleY);
  const sw = src.width;
  const data = src.data;
  const out = new Uint8Array(width * height);
  const acc = new Float32Array(sw);
  const { start: cStart, count: cCount, index: cIndex, weight: cWeight } = cols;
  for (let y = 0; y < height; y++) {
    // Vertical: the weighted sum of the source rows under output row y.
    const r0 = rows.start[y]!;
    const rEnd = r0 + rows.count[y]!;
    let base = rows.index[r0]! * sw;
    let w = rows.weight[r0]!;
    for (let x = 0; x < sw; x++) acc[x] = w * data[base + x]!;
    for (let r = r0 + 1; r < rEnd; r++) {
      base = rows.index[r]! * sw;
      w = rows.weight[r]!;
      for (let x = 0; x < sw; x++) acc[x] = acc[x]! + w * data[base + x]!;
    }
    // Horizontal.
    const o = y * width;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let c = cStart[x]!, cEnd = c + cCount[x]!; c < cEnd; c++) sum += cWeight[c]! * acc[cIndex[c]!]!;
      out[o + x] = sum + 0.5; // weights sum to 1, so 0…255.5: the store truncates, +0.5 rounds
    }
  }
  return { data: out, width, height };
}

/** The plane as displayed under an EXIF orientation (5–8 swap width and height). */
export function orientPlane(src: Plane, orientation: Orientation): Plane {
  if (orientation === 1) return src;
  const { width: w, height: h, data } = src;
  const dw = orientation >= 5 ? h : w;
  const out = new Uint8Array(w * h);
  const place = placement(orientation, w, h, dw, 1);
  const step = place.step;
  for (let y = 0; y < h; y++) {
    let d = place.start(y);
    for (let x = 0, s = y * w; x < w; x++, s++, d += step) out[d] = data[s]!;
  }
  return { data: out, width: dw, height: orientation >= 5 ? w : h };
}

/**
 * Luma samples per chroma sample along a side: the file's subsampling (1, 2 or 4, as hmax/h), read back
 * from the sizes (chroma is the luma count over the step, rounded up).
 */
const chromaStep = (luma: number, chroma: number) => Math.min(4, Math.max(1, Math.round(luma / chroma)));

/**
 * Resizes a picture to `width`×`height` as stored (chroma to 4:2:0), then orients it: the orientation
 * runs on the small image. Chroma is mapped through the luma grid, since an odd side leaves the last
 * chroma sample half outside the picture and the chroma counts' ratio would shift every sample.
 */
export function resizeYcc(src: YccImage, width: number, height: number, orientation: Orientation): YccImage {
  const chroma = chromaSize(width, height);
  // Output chroma sample i spans output luma [2i, 2i + 2), i.e. source luma ×(src/out), i.e. source chroma ÷step.
  const scaleX = (2 * src.y.width) / width / chromaStep(src.y.width, src.cb.width);
  const scaleY = (2 * src.y.height) / height / chromaStep(src.y.height, src.cb.height);
  const resizeChroma = (plane: Plane) => orientPlane(resizePlane(plane, chroma.width, chroma.height, scaleX, scaleY), orientation);
  return { y: orientPlane(resizePlane(src.y, width, height), orientation), cb: resizeChroma(src.cb), cr: resizeChroma(src.cr) };
}

/** Opaque RGBA (alpha ignored: flatten first) to YCbCr 4:2:0, each chroma sample the mean of its 2×2. */
export function yccFromRgba(pixels: Pixels): YccImage {
  const { data, width, height } = pixels;
  return ycc420(data, data.subarray(1), data.subarray(2), 4, width, height);
}

/** Same-sized R, G, B planes (an RGB-coded JPEG) to YCbCr 4:2:0. */
export function yccFromRgb(r: Plane, g: Plane, b: Plane): YccImage {
  return ycc420(r.data, g.data, b.data, 1, r.width, r.height);
}

/** Pixel i's red, green and blue are r[i·step], g[i·step], b[i·step]. */
function ycc420(rs: ArrayLike<number>, gs: ArrayLike<number>, bs: ArrayLike<number>, step: number, width: number, height: number): YccImage {
  const chroma = chromaSize(width, height);
  const y = new Uint8Array(width * height);
  const cb = new Uint8Array(chroma.width * chroma.height);
  const cr = new Uint8Array(chroma.width * chroma.height);
  for (let cy = 0; cy < chroma.height; cy++) {
    for (let cx = 0; cx < chroma.width; cx++) {
      let sumCb = 0;
      let sumCr = 0;
      // An odd last row or column counts its pixels twice, as if repeated past the edge.
      for (let dy = 0; dy < 2; dy++) {
        const row = Math.min(cy * 2 + dy, height - 1);
        for (let dx = 0; dx < 2; dx++) {
          const i = row * width + Math.min(cx * 2 + dx, width - 1);
          const r = rs[i * step]!, g = gs[i * step]!, b = bs[i * step]!;
          y[i] = 0.299 * r + 0.587 * g + 0.114 * b + 0.5;
          sumCb += -0.168736 * r - 0.331264 * g + 0.5 * b;
          sumCr += 0.5 * r - 0.418688 * g - 0.081312 * b;
        }
      }
      cb[cy * chroma.width + cx] = clamp(sumCb / 4 + 128.5);
      cr[cy * chroma.width + cx] = clamp(sumCr / 4 + 128.5);
    }
  }
  return { y: { data: y, width, height }, cb: { data: cb, ...chroma }, cr: { data: cr, ...chroma } };
}

/**
 * Where each output sample reads a plane along one side: the two nearest plane samples and the second
 * one's weight, sample centres aligned (libjpeg's "fancy" triangle upsampling of subsampled chroma).
 */
function taps(out: number, plane: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const step = chromaStep(out, plane);
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const w = new Float32Array(out);
  for (let x = 0; x < out; x++) {
    const at = Math.min(plane - 1, Math.max(0, (x + 0.5) / step - 0.5));
    i0[x] = Math.floor(at);
    i1[x] = Math.min(plane - 1, i0[x]! + 1);
    w[x] = at - i0[x]!;
  }
  return { i0, i1, w };
}

/**
 * Planes to opaque RGBA at `width`×`height`, subsampled planes interpolated between their two nearest
 * samples each way: `ycc` converts YCbCr, otherwise the planes are R, G, B, or one grey plane.
 */
export function rgbaFromPlanes(planes: Plane[], ycc: boolean, width: number, height: number): Pixels & { data: Uint8Array } {
  const out = new Uint8Array(width * height * 4);
  const across = planes.map((p) => taps(width, p.width));
  const down = planes.map((p) => taps(height, p.height));
  const rows = planes.map((p) => new Float32Array(p.width));
  const row = new Float32Array(width * 3);
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < planes.length; c++) {
      // The plane's row at this height, then each output sample from it.
      const { data, width: pw } = planes[c]!;
      const { i0, i1, w } = down[c]!;
      const a = i0[y]! * pw;
      const b = i1[y]! * pw;
      const wy = w[y]!;
      const line = rows[c]!;
      for (let x = 0; x < pw; x++) line[x] = data[a + x]! + wy * (data[b + x]! - data[a + x]!);
      const t = across[c]!;
      for (let x = 0; x < width; x++) row[x * 3 + c] = line[t.i0[x]!]! + t.w[x]! * (line[t.i1[x]!]! - line[t.i0[x]!]!);
    }
    for (let x = 0, o = y * width * 4; x < width; x++, o += 4) {
      const a = row[x * 3]!;
      if (planes.length < 3) {
        out[o] = out[o + 1] = out[o + 2] = a + 0.5;
      } else if (ycc) {
        const cb = row[x * 3 + 1]! - 128;
        const cr = row[x * 3 + 2]! - 128;
        out[o] = clamp(a + 1.402 * cr + 0.5);
        out[o + 1] = clamp(a - 0.344136 * cb - 0.714136 * cr + 0.5);
        out[o + 2] = clamp(a + 1.772 * cb + 0.5);
      } else {
        out[o] = a + 0.5;
        out[o + 1] = row[x * 3 + 1]! + 0.5;
        out[o + 2] = row[x * 3 + 2]! + 0.5;
      }
      out[o + 3] = 255;
    }
  }
  return { data: out, width, height };
}

/** A plane of one value (the neutral chroma of a grey picture). */
export function flatPlane(width: number, height: number, value: number): Plane {
  return { data: new Uint8Array(width * height).fill(value), width, height };
}

// Uint8Array stores wrap rather than clamp.
const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
