/** Media test inputs made in workerd: real PNGs (CompressionStream deflate), EICAR, polyglots. */
import { EICAR } from '../src/media/builtin-scanner';
import { bytes, pngChunk, pngHeaderOnly } from './fixtures/image-bytes';

export { pngHeaderOnly };

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A decodable RGB PNG whose pixel (x, y) is `rgb(x, y)`. */
export async function rgbPng(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Promise<Uint8Array> {
  const rows = new Uint8Array((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) rows.set(rgb(x, y), row + 1 + x * 3);
  }
  const ihdr = bytes(be32(width), be32(height), [8, 2, 0, 0, 0]);
  return bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], pngChunk('IHDR', ihdr), pngChunk('IDAT', await deflate(rows)), pngChunk('IEND'));
}

/** A decodable RGB PNG with a gradient. */
export function gradientPng(width: number, height: number): Promise<Uint8Array> {
  return rgbPng(width, height, (x, y) => [(x * 255) / width, (y * 255) / height, 90]);
}

/** A PDF-looking file with the EICAR test string embedded at `offset`. */
export function pdfWithEicar(size: number, offset: number): Uint8Array {
  const out = new Uint8Array(size).fill(0x20);
  out.set(new TextEncoder().encode('%PDF-1.7\n'));
  out.set(new TextEncoder().encode(EICAR), offset);
  return out;
}

export const text = (s: string) => new TextEncoder().encode(s);
