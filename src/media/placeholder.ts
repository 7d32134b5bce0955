/**
 * @module Placeholders a page paints before any image bytes arrive: a ThumbHash (the `thumbhash`
 * package) and the dominant colour, both from the smallest derivative (a baseline JPEG we made),
 * decoded at reduced scale to at most 100 px a side. Pure.
 */
import { rgbaToThumbHash } from 'thumbhash';
import type { Placeholder } from '../contracts/messages';
import { fitSpec } from './image-engine';
import { readImageInfo } from './image-info';
import { decodeJpegScaled, type Scale } from './jpeg-scaled-decode';
import { resampleArea, type Pixels } from './resample';

/** ThumbHash encodes images of at most 100×100. */
const THUMBHASH_SIDE = 100;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const hex = (n: number) => n.toString(16).padStart(2, '0');

/**
 * The most common colour: pixels binned at 4 bits a channel, the fullest bin's average. Unlike the
 * mean, it is a colour that is actually in the picture (a blue sky, not a grey blend).
 */
export function dominantColour(pixels: Pixels): string {
  const count = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  const d = pixels.data;
  for (let i = 0; i < pixels.width * pixels.height * 4; i += 4) {
    const bin = ((d[i]! >> 4) << 8) | ((d[i + 1]! >> 4) << 4) | (d[i + 2]! >> 4);
    count[bin]!++;
    sums[bin * 3]! += d[i]!;
    sums[bin * 3 + 1]! += d[i + 1]!;
    sums[bin * 3 + 2]! += d[i + 2]!;
  }
  let best = 0;
  for (let bin = 1; bin < 4096; bin++) if (count[bin]! > count[best]!) best = bin;
  const n = count[best]! || 1;
  return `#${hex(Math.round(sums[best * 3]! / n))}${hex(Math.round(sums[best * 3 + 1]! / n))}${hex(Math.round(sums[best * 3 + 2]! / n))}`;
}

/** Placeholder of a baseline JPEG (our derivatives are); null when it cannot be decoded here. */
export function placeholderOf(jpeg: Uint8Array): Placeholder | null {
  const info = readImageInfo(jpeg);
  if (!info || info.type !== 'image/jpeg' || info.progressive) return null;
  // The strongest DCT-domain reduction that still leaves ≥ 100 px (or all there is), then an exact area downscale.
  const scale = ([8, 4, 2] as Scale[]).find((s) => Math.ceil(Math.max(info.width, info.height) / s) >= THUMBHASH_SIDE) ?? 1;
  let pixels: Pixels;
  try {
    pixels = decodeJpegScaled(jpeg, scale);
  } catch {
    return null;
  }
  const size = fitSpec(pixels.width, pixels.height, { width: THUMBHASH_SIDE, height: THUMBHASH_SIDE });
  const small = resampleArea(pixels, size.width, size.height, 1);
  return { thumbhash: toBase64(rgbaToThumbHash(small.width, small.height, small.data)), color: dominantColour(small) };
}
