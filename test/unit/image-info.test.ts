import { describe, expect, it } from 'vitest';
import { displaySize, exifOrientation, IMAGE_INFO_BYTES, readImageInfo } from '../../src/media/image-info';
import {
  bytes,
  exifApp1,
  gifHeader,
  jpegHeader,
  pngChunk,
  pngHeaderOnly,
  segment,
  webpVp8,
  webpVp8l,
  webpVp8x,
} from '../fixtures/image-bytes';
import * as encoded from '../fixtures/encoded-images';
import { fromBase64 } from '../fixtures/image-bytes';

describe('readImageInfo: dimensions', () => {
  it.each([
    ['PNG', pngHeaderOnly(640, 480), 'image/png', 640, 480],
    ['PNG at the 32-bit edge', pngHeaderOnly(30_000, 70_000), 'image/png', 30_000, 70_000],
    ['GIF', gifHeader({ width: 300, height: 200 }), 'image/gif', 300, 200],
    ['WebP lossy (VP8)', webpVp8(1024, 768), 'image/webp', 1024, 768],
    ['WebP lossless (VP8L)', webpVp8l(16_384, 1), 'image/webp', 16_384, 1],
    ['WebP extended (VP8X)', webpVp8x(20_000, 9_000), 'image/webp', 20_000, 9_000],
    ['JPEG baseline', jpegHeader({ width: 4032, height: 3024 }), 'image/jpeg', 4032, 3024],
  ])('%s', (_name, file, type, width, height) => {
    expect(readImageInfo(file)).toMatchObject({ type, width, height, orientation: 1 });
  });

  it('reads files made by a real encoder', () => {
    expect(readImageInfo(fromBase64(encoded.gif))).toEqual({ type: 'image/gif', width: 48, height: 32, orientation: 1, progressive: false });
    expect(readImageInfo(fromBase64(encoded.webpLossy))).toMatchObject({ type: 'image/webp', width: 48, height: 32 });
    expect(readImageInfo(fromBase64(encoded.jpegProgressive))).toEqual({ type: 'image/jpeg', width: 48, height: 32, orientation: 1, progressive: true });
    expect(readImageInfo(fromBase64(encoded.jpegSharpExif6))).toEqual({ type: 'image/jpeg', width: 48, height: 32, orientation: 6, progressive: false });
  });

  it.each([
    ['nothing', new Uint8Array()],
    ['a PDF', bytes('%PDF-1.7\n')],
    ['a PNG cut inside IHDR', pngHeaderOnly(10, 10).subarray(0, 20)],
    ['a PNG whose first chunk is not IHDR', bytes(pngHeaderOnly(1, 1).subarray(0, 8), pngChunk('tEXt', bytes('a\0b')))],
    ['a PNG declaring 0×10', pngHeaderOnly(0, 10)],
    ['a GIF cut in its screen descriptor', gifHeader({ width: 5, height: 5 }).subarray(0, 8)],
    ['a VP8 without its start code', bytes(webpVp8(10, 10).subarray(0, 23), [0, 0, 0], webpVp8(10, 10).subarray(26))],
    ['a WebP with an unknown first chunk', bytes('RIFF', [30, 0, 0, 0], 'WEBPALPH', new Array(22).fill(0))],
    ['a JPEG cut before its frame header', jpegHeader({ width: 10, height: 10 }).subarray(0, 4)],
    ['a JPEG whose scan comes before any frame', bytes([0xff, 0xd8], segment(0xda, [1, 1, 0, 0, 63, 0]), [0xff, 0xd9])],
    ['a JPEG with height from DNL (0)', jpegHeader({ width: 10, height: 0 })],
    ['a JPEG with garbage where a marker belongs', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12, 0x34])],
  ])('gives null for %s', (_name, file) => {
    expect(readImageInfo(file)).toBeNull();
  });

  it('does not take DHT, JPG or DAC (in the SOFn range) for a frame', () => {
    const notFrames = [0xc4, 0xc8, 0xcc].map((m) => segment(m, [0, 1, 2, 3, 4, 5, 6]));
    expect(readImageInfo(jpegHeader({ width: 33, height: 44, before: notFrames }))).toMatchObject({ width: 33, height: 44 });
  });

  it('skips fill bytes, standalone markers and APP segments', () => {
    const file = jpegHeader({ width: 7, height: 9 });
    const padded = bytes(file.subarray(0, 2), [0xff, 0xff, 0xff, 0x01], segment(0xe0, 'JFIF\0\x01\x02'), file.subarray(2));
    expect(readImageInfo(padded)).toMatchObject({ width: 7, height: 9 });
  });

  it('flags progressive frames (SOF2, SOF6, SOF10, SOF14) and only those', () => {
    for (const sof of [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]) {
      expect(readImageInfo(jpegHeader({ width: 2, height: 2, sof }))?.progressive).toBe([0xc2, 0xc6, 0xca, 0xce].includes(sof));
    }
  });

  it('sees a GIF frame larger than its logical screen (decoders allocate the frame)', () => {
    expect(readImageInfo(gifHeader({ width: 10, height: 10 }, { width: 30_000, height: 30_000 }, 8))).toEqual({
      type: 'image/gif', width: 10, height: 10, orientation: 1, progressive: false, firstFrame: { width: 30_000, height: 30_000 },
    });
    expect(readImageInfo(gifHeader({ width: 10, height: 10 }, { width: 5, height: 5 }))?.firstFrame).toBeUndefined();
    // The frame descriptor beyond the bytes given: only the screen is known.
    const file = gifHeader({ width: 10, height: 10 }, { width: 300, height: 300 }, 8);
    expect(readImageInfo(file.subarray(0, 13 + 768))).toMatchObject({ width: 10, height: 10 });
    expect(readImageInfo(file.subarray(0, 13 + 768))?.firstFrame).toBeUndefined();
  });
});

describe('readImageInfo: JPEG EXIF orientation', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('reads orientation %i in both byte orders', (orientation) => {
    for (const order of ['II', 'MM'] as const) {
      const file = jpegHeader({ width: 40, height: 30, before: [segment(0xe0, 'JFIF\0\x01\x02'), exifApp1(orientation, order)] });
      expect(readImageInfo(file)).toMatchObject({ width: 40, height: 30, orientation });
    }
  });

  it('treats out-of-range values and malformed EXIF as upright', () => {
    for (const orientation of [0, 9, 0x0100]) expect(readImageInfo(jpegHeader({ width: 1, height: 1, before: [exifApp1(orientation, 'MM')] }))?.orientation).toBe(1);
    const badOrder = exifApp1(6, 'II');
    badOrder.set([0x58, 0x58], 10); // "XX" where II/MM belongs
    expect(readImageInfo(jpegHeader({ width: 1, height: 1, before: [badOrder] }))?.orientation).toBe(1);
  });

  it('finds EXIF after an XMP APP1', () => {
    const xmp = segment(0xe1, 'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>');
    expect(readImageInfo(jpegHeader({ width: 5, height: 6, before: [xmp, exifApp1(8, 'MM')] }))?.orientation).toBe(8);
  });

  it('exifOrientation reads an APP1 payload directly', () => {
    const app1 = exifApp1(3, 'MM').subarray(4);
    expect(exifOrientation(app1)).toBe(3);
    expect(exifOrientation(app1.subarray(0, 20))).toBeNull(); // IFD cut off
    expect(exifOrientation(bytes('Exif\0\0MM', [0, 43]))).toBeNull();
  });

  it('displaySize swaps width and height for 5–8', () => {
    expect(displaySize({ width: 40, height: 30, orientation: 4 })).toEqual({ width: 40, height: 30 });
    expect(displaySize({ width: 40, height: 30, orientation: 6 })).toEqual({ width: 30, height: 40 });
  });
});

describe('readImageInfo on a prefix', () => {
  // Cameras and editors put EXIF (with a thumbnail), XMP, ICC (in 64 KiB chunks) and more before SOF.
  const bigApps = [0xe1, 0xe2, 0xe2, 0xed].map((m) => segment(m, new Uint8Array(60_000)));
  const file = bytes(jpegHeader({ width: 6000, height: 4000, before: [exifApp1(6, 'II'), ...bigApps] }), new Uint8Array(500_000));

  it('needs only IMAGE_INFO_BYTES, even behind ~240 KB of APP segments', () => {
    expect(IMAGE_INFO_BYTES).toBeGreaterThanOrEqual(256 * 1024);
    expect(readImageInfo(file.subarray(0, IMAGE_INFO_BYTES))).toEqual({ type: 'image/jpeg', width: 6000, height: 4000, orientation: 6, progressive: false });
  });

  it('gives null, not a guess, when the prefix ends before the frame header', () => {
    expect(readImageInfo(file.subarray(0, 200_000))).toBeNull();
    expect(readImageInfo(file.subarray(0, 30))).toBeNull(); // inside the EXIF segment
  });

  it('small formats need only their first bytes', () => {
    expect(readImageInfo(pngHeaderOnly(3, 4).subarray(0, 24))).toMatchObject({ width: 3, height: 4 });
    expect(readImageInfo(webpVp8x(3, 4).subarray(0, 30))).toMatchObject({ width: 3, height: 4 });
  });
});
