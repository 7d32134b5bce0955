/**
 * @module Image container reading, pure (no runtime imports): dimensions (and for JPEG the EXIF orientation
 * and progressive flag) of JPEG, PNG, GIF and WebP from a prefix of the file, so pixel bombs are refused
 * before any decoder runs; and a whole-file walk that finds truncation before a decoder trips over it.
 */

/**
 * How many leading bytes `readImageInfo` wants. PNG, GIF and WebP need well under 1 KiB, but a JPEG's
 * SOF marker comes after its APPn segments (EXIF with an embedded thumbnail, XMP, several 64 KiB ICC
 * chunks, Photoshop IRBs), which can together run to a few hundred KiB.
 */
export const IMAGE_INFO_BYTES = 256 * 1024;

export type ImageType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

/** EXIF orientation: 1 is upright; 5–8 swap width and height for display. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface ImageInfo {
  type: ImageType;
  /** Stored width and height, before EXIF orientation is applied. */
  width: number;
  height: number;
  /** EXIF orientation (JPEG only; 1 when absent, unreadable or out of range). */
  orientation: Orientation;
  /** Progressive (SOF2/6/10/14) JPEG: decoders hold every coefficient, so decoding costs more memory. */
  progressive: boolean;
  /** GIF: the first frame's size when it is larger than the logical screen (decoders allocate it too). */
  firstFrame?: { width: number; height: number };
}

/** Width and height as displayed, i.e. after EXIF orientation (5–8 transpose the image). */
export function displaySize(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>): { width: number; height: number } {
  return info.orientation >= 5 ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

const u16be = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u16le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
const u32be = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const u32le = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));

/** Reads the header, or null when the bytes are not one of the four types or the header lies beyond them. */
export function readImageInfo(bytes: Uint8Array): ImageInfo | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return readJpeg(bytes);
  if (bytes.length >= 8 && u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a) return readPng(bytes);
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return readGif(bytes);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return readWebp(bytes);
  return null;
}

const sized = (info: ImageInfo): ImageInfo | null => (info.width > 0 && info.height > 0 ? info : null);

function readPng(b: Uint8Array): ImageInfo | null {
  // IHDR must be the first chunk: length 13, then width and height (big-endian).
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return null;
  return sized({ type: 'image/png', width: u32be(b, 16), height: u32be(b, 20), orientation: 1, progressive: false });
}

function readGif(b: Uint8Array): ImageInfo | null {
  if (b.length < 10) return null;
  const info: ImageInfo = { type: 'image/gif', width: u16le(b, 6), height: u16le(b, 8), orientation: 1, progressive: false };
  const frame = firstGifFrame(b);
  if (frame && (frame.width > info.width || frame.height > info.height)) info.firstFrame = frame;
  return sized(info);
}

/**
 * The first image descriptor's size, skipping the colour table and extension blocks. A GIF may declare a
 * small screen and a huge frame; decoders allocate the frame, so the budget must see it. Null when the
 * descriptor lies beyond the bytes given (then only the screen size is known).
 */
function firstGifFrame(b: Uint8Array): { width: number; height: number } | null {
  const flags = b[10];
  if (flags === undefined) return null;
  let o = 13 + ((flags & 0x80) !== 0 ? 3 * (1 << ((flags & 0x07) + 1)) : 0);
  while (o < b.length) {
    const introducer = b[o];
    if (introducer === 0x2c) return o + 9 <= b.length ? { width: u16le(b, o + 5), height: u16le(b, o + 7) } : null;
    if (introducer !== 0x21) return null; // trailer or garbage: no frame
    o += 2; // introducer and label, then data sub-blocks until a zero length
    for (;;) {
      const size = b[o];
      if (size === undefined) return null;
      o += 1 + size;
      if (size === 0) break;
    }
  }
  return null;
}

function readWebp(b: Uint8Array): ImageInfo | null {
  if (b.length < 30) return null;
  const chunk = ascii(b, 12, 4);
  const d = 20; // chunk data
  const base = { type: 'image/webp' as const, orientation: 1 as const, progressive: false };
  if (chunk === 'VP8 ') {
    // Lossy key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a) return null;
    return sized({ ...base, width: u16le(b, d + 6) & 0x3fff, height: u16le(b, d + 8) & 0x3fff });
  }
  if (chunk === 'VP8L') {
    // Lossless: signature 0x2f, then (width - 1) and (height - 1) as 14-bit fields.
    if (b[d] !== 0x2f) return null;
    const bits = u32le(b, d + 1);
    return sized({ ...base, width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 });
  }
  if (chunk === 'VP8X') {
    // Extended: flags and reserved (4 bytes), then canvas (width - 1) and (height - 1) as 24-bit fields.
    return sized({ ...base, width: u24le(b, d + 4) + 1, height: u24le(b, d + 7) + 1 });
  }
  return null;
}

/** SOFn markers carry the frame size; DHT (c4), JPG (c8) and DAC (cc) share the range but are not frames. */
const isSof = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Progressive frames: SOF2 (Huffman), SOF6 (differential), SOF10 and SOF14 (arithmetic). */
const isProgressive = (m: number): boolean => m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce;

function readJpeg(b: Uint8Array): ImageInfo | null {
  let orientation: Orientation = 1;
  let o = 2;
  for (;;) {
    // A marker is 0xff then a code; any number of 0xff fill bytes may precede the code.
    if (o >= b.length || b[o] !== 0xff) return null;
    while (o < b.length && b[o] === 0xff) o++;
    const marker = b[o];
    if (marker === undefined) return null;
    o++;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame
    if (o + 2 > b.length) return null;
    const length = u16be(b, o);
    if (length < 2) return null;
    const end = o + length;
    if (isSof(marker)) {
      if (o + 7 > b.length) return null;
      // Height 0 means "defined later by DNL": unknown from the header, so not readable here.
      return sized({
        type: 'image/jpeg',
        height: u16be(b, o + 3),
        width: u16be(b, o + 5),
        orientation,
        progressive: isProgressive(marker),
      });
    }
    if (marker === 0xe1 && orientation === 1) {
      // An EXIF segment needs all its bytes; XMP shares APP1 and is skipped by the check inside.
      if (end > b.length) return null;
      orientation = exifOrientation(b.subarray(o + 2, end)) ?? 1;
    }
    o = end;
  }
}

/** Orientation (tag 0x0112) from IFD0 of an APP1 payload, or null when absent or not EXIF. */
export function exifOrientation(app1: Uint8Array): Orientation | null {
  if (app1.length < 14 || ascii(app1, 0, 6) !== 'Exif\0\0') return null;
  const t = app1.subarray(6); // TIFF header: offsets below are relative to it
  const order = ascii(t, 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const r16 = (o: number): number => (le ? u16le(t, o) : u16be(t, o));
  const r32 = (o: number): number => (le ? u32le(t, o) : u32be(t, o));
  if (r16(2) !== 42) return null;
  const ifd = r32(4);
  if (ifd < 8 || ifd + 2 > t.length) return null;
  const count = r16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > t.length) return null;
    if (r16(entry) !== 0x0112) continue;
    // SHORT (type 3), count 1: the value sits in the first two bytes of the value field, in file order.
    if (r16(entry + 2) !== 3 || r32(entry + 4) !== 1) return null;
    const value = r16(entry + 8);
    return value >= 1 && value <= 8 ? (value as Orientation) : null;
  }
  return null;
}

/**
 * Why the file cannot be whole, or null when its structure is complete: PNG chunks (with their CRCs) up to
 * IEND, GIF blocks to the end of the first frame, the RIFF length of a WebP, JPEG segments and scans up to
 * EOI. Cheap (a walk, no decoding). photon panics on such files and leaks what it had allocated, so they
 * must be caught before it. Corrupt data inside a well-formed structure still gets through.
 */
export function completenessProblem(b: Uint8Array, type: ImageType): string | null {
  switch (type) {
    case 'image/png':
      return pngProblem(b);
    case 'image/gif':
      return gifProblem(b);
    case 'image/webp':
      return b.length >= 12 && 8 + u32le(b, 4) <= b.length ? null : 'truncated WebP (shorter than its RIFF size)';
    case 'image/jpeg':
      return jpegProblem(b);
  }
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngProblem(b: Uint8Array): string | null {
  for (let o = 8; ; ) {
    if (o + 8 > b.length) return 'truncated PNG (no IEND)';
    const length = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    const end = o + 12 + length;
    if (end > b.length) return `truncated PNG (in ${type})`;
    if (crc32(b, o + 4, o + 8 + length) !== u32be(b, o + 8 + length)) return `corrupt PNG (bad CRC in ${type})`;
    if (type === 'IEND') return null;
    o = end;
  }
}

function gifProblem(b: Uint8Array): string | null {
  const flags = b[10];
  if (flags === undefined) return 'truncated GIF';
  let o = 13 + ((flags & 0x80) !== 0 ? 3 * (1 << ((flags & 0x07) + 1)) : 0);
  const subBlocks = (): boolean => {
    for (;;) {
      const size = b[o];
      if (size === undefined) return false;
      o += 1 + size;
      if (size === 0) return o <= b.length;
    }
  };
  for (;;) {
    const introducer = b[o];
    if (introducer === 0x21) {
      o += 2;
      if (!subBlocks()) return 'truncated GIF (in an extension)';
    } else if (introducer === 0x2c) {
      const packed = b[o + 9];
      if (packed === undefined) return 'truncated GIF (in a frame header)';
      o += 10 + ((packed & 0x80) !== 0 ? 3 * (1 << ((packed & 0x07) + 1)) : 0) + 1; // + LZW minimum code size
      // Decoders read only the first frame: it must be whole; later frames do not matter here.
      return subBlocks() ? null : 'truncated GIF (in the first frame)';
    } else return introducer === undefined ? 'truncated GIF (no frame)' : 'corrupt GIF (no frame before the trailer)';
  }
}

function jpegProblem(b: Uint8Array): string | null {
  for (let o = 2; ; ) {
    while (b[o] === 0xff && b[o + 1] === 0xff) o++;
    if (o + 2 > b.length) return 'truncated JPEG (no EOI)';
    if (b[o] !== 0xff) return 'corrupt JPEG (data where a marker belongs)';
    const marker = b[o + 1]!;
    if (marker === 0xd9) return null;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    if (o + 4 > b.length) return 'truncated JPEG (in a marker)';
    o += 2 + u16be(b, o + 2);
    if (o > b.length) return 'truncated JPEG (in a segment)';
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is not stuffing (ff 00), fill or a restart.
      for (;;) {
        if (o + 1 >= b.length) return 'truncated JPEG (in scan data)';
        const next = b[o + 1]!;
        if (b[o] === 0xff && next !== 0x00 && next !== 0xff && (next < 0xd0 || next > 0xd7)) break;
        o++;
      }
    }
  }
}
