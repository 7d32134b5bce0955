import { PhotonImage } from '@cf-wasm/photon';
import { describe, expect, it } from 'vitest';
import { readImageInfo } from '../../src/media/image-info';
import { encodeJpeg420, optimalTable } from '../../src/media/jpeg-encode';

/** A photo-like RGBA image: smooth gradients with a little texture. */
function photoLike(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const texture = 12 * Math.sin(x / 3) * Math.cos(y / 5);
      data[i] = Math.max(0, Math.min(255, (x * 255) / width + texture));
      data[i + 1] = Math.max(0, Math.min(255, (y * 200) / height + 30 + texture));
      data[i + 2] = Math.max(0, Math.min(255, 128 + 60 * Math.sin(x / 40) * Math.cos(y / 30)));
      data[i + 3] = 255;
    }
  }
  return data;
}

/** Decoded by photon (image-rs), an independent decoder: RGBA. */
function decode(jpeg: Uint8Array): { data: Uint8Array; width: number; height: number } {
  const image = PhotonImage.new_from_byteslice(jpeg);
  try {
    return { data: image.get_raw_pixels(), width: image.get_width(), height: image.get_height() };
  } finally {
    image.free();
  }
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c]! - b[i + c]!;
      sum += d * d;
      n++;
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / n));
}

/** The sampling factors of each component, from the SOF0 segment. */
function sampling(jpeg: Uint8Array): string[] {
  for (let i = 2; i < jpeg.length; ) {
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker === 0xc0) return [0, 1, 2].map((c) => jpeg[i + 4 + 6 + c * 3 + 1]!.toString(16));
    i += 2 + length;
  }
  return [];
}

describe('encodeJpeg420', () => {
  it('builds Huffman tables that are complete, at most 16 bits, never all ones, shorter for commoner symbols', () => {
    const counts = new Uint32Array(256);
    for (let sym = 0; sym < 200; sym++) counts[sym] = Math.floor(1e6 / (sym + 1) ** 2) + 1; // skewed, 200 symbols
    const table = optimalTable(counts);
    expect(table.bits).toHaveLength(16);
    expect(table.values).toHaveLength(200);
    expect(table.bits.reduce((a, b) => a + b, 0)).toBe(200);
    // Kraft: the codes fit, leaving room (the reserved all-ones code).
    expect(table.bits.reduce((sum, n, i) => sum + n / 2 ** (i + 1), 0)).toBeLessThan(1);
    const lengthOf = new Map<number, number>();
    let k = 0;
    table.bits.forEach((n, i) => {
      for (let j = 0; j < n; j++) lengthOf.set(table.values[k++]!, i + 1);
    });
    expect(lengthOf.get(0)!).toBeLessThanOrEqual(lengthOf.get(100)!);
    expect(Math.max(...lengthOf.values())).toBeLessThanOrEqual(16);
  });

  it.each([
    [1, 1],
    [17, 9],
    [333, 211],
    [640, 480],
  ])('writes a baseline 4:2:0 JPEG of %i×%i that decodes to the same picture', (width, height) => {
    const rgba = photoLike(width, height);
    const jpeg = encodeJpeg420({ data: rgba, width, height }, 85);
    expect(readImageInfo(jpeg)).toMatchObject({ type: 'image/jpeg', width, height, progressive: false });
    expect(sampling(jpeg)).toEqual(['22', '11', '11']);
    const decoded = decode(jpeg);
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    if (width * height > 1) expect(psnr(rgba, decoded.data)).toBeGreaterThan(32);
  });

  it('is smaller than photon’s 4:4:4 JPEG at the same quality setting', () => {
    const [width, height] = [800, 600];
    const rgba = photoLike(width, height);
    const ours = encodeJpeg420({ data: rgba, width, height }, 82);
    const image = new PhotonImage(rgba, width, height);
    const photon = image.get_bytes_jpeg(82);
    image.free();
    expect(ours.length).toBeLessThan(photon.length * 0.85);
  });

  it('higher quality costs more bytes and gains fidelity', () => {
    const rgba = photoLike(256, 256);
    const low = encodeJpeg420({ data: rgba, width: 256, height: 256 }, 40);
    const high = encodeJpeg420({ data: rgba, width: 256, height: 256 }, 92);
    expect(high.length).toBeGreaterThan(low.length);
    expect(psnr(rgba, decode(high).data)).toBeGreaterThan(psnr(rgba, decode(low).data));
  });

  it('refuses sizes a JPEG cannot hold', () => {
    expect(() => encodeJpeg420({ data: new Uint8Array(4), width: 0, height: 1 }, 80)).toThrow(RangeError);
    expect(() => encodeJpeg420({ data: new Uint8Array(4), width: 2, height: 2 }, 80)).toThrow(RangeError);
  });
});
