/**
 * @module Pure pixel work on RGBA buffers: area-average downscaling with EXIF orientation and alpha
 * flattening in one pass. Runs in JS on any buffer, including a zero-copy view of WASM memory.
 */
import type { Orientation } from './image-info';

/** RGBA, row-major, 4 bytes a pixel. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** For each output index, the source indices it covers and their weights (summing to 1). */
interface Coverage {
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

/**
 * Box (area-average) coverage of `from` source cells by `to` output cells, output cell i spanning
 * source [i·scale, (i + 1)·scale) cut at `from` (`scale` is from/to unless the grids are offset, as
 * chroma's are when a side is odd). Meant for shrinking; when growing, each output cell takes the one
 * or two source cells under it (a box upscale).
 */
export function coverage(from: number, to: number, scale = from / to): Coverage {
  const start = new Int32Array(to);
  const count = new Int32Array(to);
  const index: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < to; i++) {
    const lo = i * scale;
    const hi = Math.min(from, (i + 1) * scale);
    start[i] = index.length;
    for (let s = Math.floor(lo); s < hi; s++) {
      const w = Math.min(s + 1, hi) - Math.max(s, lo);
      if (w <= 1e-9) continue;
      index.push(s);
      weight.push(w / (hi - lo));
    }
    count[i] = index.length - start[i]!;
  }
  return { start, count, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/**
 * Downscales by area averaging (every source pixel counts, so no aliasing), flattens alpha onto white
 * (JPEG has none; transparent pixels' colour is often black) and applies an EXIF orientation, in one
 * pass. `toWidth`×`toHeight` is the size as displayed, i.e. after orientation.
 */
export function resampleArea(src: Pixels, toWidth: number, toHeight: number, orientation: Orientation): Pixels & { data: Uint8Array } {
  const transposed = orientation >= 5;
  // Work in stored orientation: out is ow×oh before it is placed.
  const ow = transposed ? toHeight : toWidth;
  const oh = transposed ? toWidth : toHeight;
  if (ow > src.width || oh > src.height || ow < 1 || oh < 1) throw new RangeError(`cannot resample ${src.width}×${src.height} to ${ow}×${oh}`);
  const cols = coverage(src.width, ow);
  const rows = coverage(src.height, oh);
  const out = new Uint8Array(toWidth * toHeight * 4);
  const acc = new Float32Array(ow * 3);
  const data = src.data;
  const place = placement(orientation, ow, oh, toWidth, 4);
  for (let y = 0; y < oh; y++) {
    acc.fill(0);
    for (let r = rows.start[y]!, rEnd = r + rows.count[y]!; r < rEnd; r++) {
      const rowBase = rows.index[r]! * src.width * 4;
      const wy = rows.weight[r]!;
      for (let x = 0; x < ow; x++) {
        let red = 0;
        let green = 0;
        let blue = 0;
        for (let c = cols.start[x]!, cEnd = c + cols.count[x]!; c < cEnd; c++) {
          const p = rowBase + cols.index[c]! * 4;
          const alpha = data[p + 3]!;
          const w = cols.weight[c]!;
          if (alpha === 255) {
            red += w * data[p]!;
            green += w * data[p + 1]!;
            blue += w * data[p + 2]!;
          } else {
            // Over white: c·a + 255·(1 − a), with a in 0…1.
            const a = alpha / 255;
            const white = 255 - alpha;
            red += w * (data[p]! * a + white);
            green += w * (data[p + 1]! * a + white);
            blue += w * (data[p + 2]! * a + white);
          }
        }
        const o = x * 3;
        acc[o] = acc[o]! + wy * red;
        acc[o + 1] = acc[o + 1]! + wy * green;
        acc[o + 2] = acc[o + 2]! + wy * blue;
      }
    }
    let d = place.start(y);
    for (let x = 0; x < ow; x++, d += place.step) {
      out[d] = acc[x * 3]! + 0.5; // Uint8Array truncates; +0.5 rounds
      out[d + 1] = acc[x * 3 + 1]! + 0.5;
      out[d + 2] = acc[x * 3 + 2]! + 0.5;
      out[d + 3] = 255;
    }
  }
  return { data: out, width: toWidth, height: toHeight };
}

/**
 * Where stored pixel (x, y) of a w×h image lands once displayed (displayed width `dw`, `channels` bytes
 * a pixel): an affine map, so each stored row is a start offset and a fixed step through the output.
 *   1 as is · 2 mirror · 3 rotate 180 · 4 flip · 5 transpose · 6 rotate 90 CW · 7 transverse · 8 rotate 90 CCW
 */
export function placement(orientation: Orientation, w: number, h: number, dw: number, channels: number): { start: (y: number) => number; step: number } {
  const at = (x: number, y: number): [number, number] => {
    switch (orientation) {
      case 1: return [x, y];
      case 2: return [w - 1 - x, y];
      case 3: return [w - 1 - x, h - 1 - y];
      case 4: return [x, h - 1 - y];
      case 5: return [y, x];
      case 6: return [h - 1 - y, x];
      case 7: return [h - 1 - y, w - 1 - x];
      case 8: return [y, w - 1 - x];
    }
  };
  const offset = (x: number, y: number): number => {
    const [px, py] = at(x, y);
    return (py * dw + px) * channels;
  };
  return { start: (y) => offset(0, y), step: offset(1, 0) - offset(0, 0) };
}
