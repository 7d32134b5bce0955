/**
 * @module A baseline JPEG encoder with 4:2:0 chroma subsampling, in JS, for the derivatives: the
 * pixels are already in JS (no copy into WASM memory, which never shrinks), chroma at a quarter
 * of the samples makes files ~30% smaller than photon's 4:4:4 at the same quality, and half the
 * DCTs make it faster. It takes Y, Cb and Cr planes (what the scaled decoder and the plane resizer
 * produce), or RGBA. IJG quality scaling of the Annex K tables (the same tables and scaling as
 * libjpeg/sharp, so "quality 80" means the same), AAN float DCT, Huffman tables optimised per image. Pure.
 */
import { chromaSize, yccFromRgba, type Plane, type YccImage } from './planes';
import { ZIGZAG } from './jpeg-zigzag';

/** ITU-T T.81 Annex K.1, natural order. */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, ...new Array<number>(32).fill(99),
];

interface HuffmanCodes {
  code: Uint16Array;
  length: Uint8Array;
}

function buildCodes(table: HuffmanTable): HuffmanCodes {
  const out = { code: new Uint16Array(256), length: new Uint8Array(256) };
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < table.bits[len - 1]!; i++, k++) {
      out.code[table.values[k]!] = code++;
      out.length[table.values[k]!] = len;
    }
    code <<= 1;
  }
  return out;
}

interface HuffmanTable {
  bits: number[];
  values: number[];
}

/**
 * The optimal table for these symbol counts, codes at most 16 bits and none all ones (T.81 K.2;
 * libjpeg's jpeg_gen_optimal_table): what sharp's default `optimiseCoding` does, ~10% smaller files.
 */
export function optimalTable(counts: Uint32Array): HuffmanTable {
  const freq = new Float64Array(257);
  freq.set(counts.subarray(0, 256));
  freq[256] = 1; // reserved, so no real code is all ones
  const codesize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    let c1 = -1;
    let c2 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++) if (freq[i]! > 0 && freq[i]! <= v) [v, c1] = [freq[i]!, i];
    v = Infinity;
    for (let i = 0; i <= 256; i++) if (freq[i]! > 0 && freq[i]! <= v && i !== c1) [v, c2] = [freq[i]!, i];
    if (c2 < 0) break;
    freq[c1]! += freq[c2]!;
    freq[c2] = 0;
    codesize[c1]!++;
    while (others[c1]! >= 0) codesize[(c1 = others[c1]!)]!++;
    others[c1] = c2;
    codesize[c2]!++;
    while (others[c2]! >= 0) codesize[(c2 = others[c2]!)]!++;
  }
  const bits = new Array<number>(33).fill(0);
  for (let i = 0; i <= 256; i++) if (codesize[i]) bits[codesize[i]!]!++;
  // Lengths over 16: move pairs up the tree (K.2 figure K.3).
  for (let i = 32; i > 16; i--) {
    while (bits[i]! > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i]! -= 2;
      bits[i - 1]!++;
      bits[j + 1]! += 2;
      bits[j]!--;
    }
  }
  let longest = 16;
  while (bits[longest] === 0) longest--;
  bits[longest]!--; // drop the reserved symbol
  const values: number[] = [];
  for (let len = 1; len <= 32; len++) for (let sym = 0; sym < 256; sym++) if (codesize[sym] === len) values.push(sym);
  return { bits: bits.slice(1, 17), values };
}

/** IJG quality scaling (jcparam.c): 50 is the table as printed, 100 all ones. */
function scaledTable(base: readonly number[], quality: number): Uint8Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - q * 2;
  return Uint8Array.from(base, (v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** Reciprocal divisors for the AAN DCT's scaled output, in zigzag order (the order coefficients are stored). */
function divisors(table: Uint8Array): Float32Array {
  const out = new Float32Array(64);
  for (let i = 0; i < 64; i++) {
    const n = ZIGZAG[i]!;
    out[i] = 1 / (table[n]! * AAN_SCALE[n >> 3]! * AAN_SCALE[n & 7]! * 8);
  }
  return out;
}

/** In-place AAN float forward DCT of an 8×8 block (IJG jfdctflt.c). */
function fdct(d: Float64Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const step = pass === 0 ? 1 : 8;
    const stride = pass === 0 ? 8 : 1;
    for (let i = 0; i < 8; i++) {
      const o = i * stride;
      const d0 = d[o]!, d1 = d[o + step]!, d2 = d[o + 2 * step]!, d3 = d[o + 3 * step]!;
      const d4 = d[o + 4 * step]!, d5 = d[o + 5 * step]!, d6 = d[o + 6 * step]!, d7 = d[o + 7 * step]!;
      const t0 = d0 + d7, t7 = d0 - d7, t1 = d1 + d6, t6 = d1 - d6, t2 = d2 + d5, t5 = d2 - d5, t3 = d3 + d4, t4 = d3 - d4;
      let t10 = t0 + t3;
      const t13 = t0 - t3;
      let t11 = t1 + t2;
      let t12 = t1 - t2;
      d[o] = t10 + t11;
      d[o + 4 * step] = t10 - t11;
      const z1 = (t12 + t13) * 0.707106781;
      d[o + 2 * step] = t13 + z1;
      d[o + 6 * step] = t13 - z1;
      t10 = t4 + t5;
      t11 = t5 + t6;
      t12 = t6 + t7;
      const z5 = (t10 - t12) * 0.382683433;
      const z2 = 0.5411961 * t10 + z5;
      const z4 = 1.306562965 * t12 + z5;
      const z3 = t11 * 0.707106781;
      const z11 = t7 + z3;
      const z13 = t7 - z3;
      d[o + 5 * step] = z13 + z2;
      d[o + 3 * step] = z13 - z2;
      d[o + step] = z11 + z4;
      d[o + 7 * step] = z11 - z4;
    }
  }
}

/** Header bytes, then the entropy-coded data with JPEG's byte stuffing; grows as needed. */
class Writer {
  bytes: Uint8Array;
  at = 0;
  /** Pending bits (fewer than 8 between calls, so the value stays a small integer). */
  private bits = 0;
  private count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
  }

  raw(...values: number[]): void {
    this.ensure(values.length);
    for (const v of values) this.bytes[this.at++] = v & 0xff;
  }

  u16(v: number): void {
    this.raw(v >> 8, v);
  }

  /** Appends `length` (≤ 16) bits of `value`, stuffing a zero after every 0xFF byte; the caller ensured room. */
  put(value: number, length: number): void {
    let bits = (this.bits << length) | (value & ((1 << length) - 1));
    let count = this.count + length;
    const bytes = this.bytes;
    while (count >= 8) {
      count -= 8;
      const byte = (bits >>> count) & 0xff;
      bytes[this.at++] = byte;
      if (byte === 0xff) bytes[this.at++] = 0;
    }
    this.bits = bits & ((1 << count) - 1);
    this.count = count;
  }

  /** Pads the last byte with one bits, as T.81 F.1.2.3 asks. */
  flush(): void {
    this.ensure(2);
    if (this.count > 0) this.put((1 << (8 - this.count)) - 1, 8 - this.count);
  }
}

function writeHuffmanTable(out: Writer, tableClassAndId: number, table: HuffmanTable): void {
  out.raw(tableClassAndId, ...table.bits, ...table.values);
}

/** Bits of a coefficient's magnitude (its Huffman symbol's size nibble). */
const sizeOf = (value: number) => (value === 0 ? 0 : 32 - Math.clz32(value < 0 ? -value : value));

/** Which Huffman table a symbol belongs to. */
const DC_LUMA = 0;
const AC_LUMA = 1;
const DC_CHROMA = 2;
const AC_CHROMA = 3;

/**
 * The image as JPEG will entropy-code it: per symbol, its table and Huffman symbol (`table << 8 |
 * symbol`, the symbol being run << 4 | size, or the size for DC) and the value whose `size` low bits
 * follow it. Collected once; counting them gives the optimal tables, and writing them the scan.
 */
class Symbols {
  codes = new Uint16Array(1 << 16);
  values = new Int16Array(1 << 16);
  length = 0;
  /** How often each code (`table << 8 | symbol`) occurs. */
  readonly counts = new Uint32Array(1024);

  /** Room for one more block (at most 64 symbols). */
  reserve(): void {
    if (this.length + 64 <= this.codes.length) return;
    const codes = new Uint16Array(this.codes.length * 2);
    const values = new Int16Array(this.codes.length * 2);
    codes.set(this.codes);
    values.set(this.values);
    this.codes = codes;
    this.values = values;
  }

  push(table: number, symbol: number, value: number): void {
    const code = (table << 8) | symbol;
    this.codes[this.length] = code;
    this.values[this.length++] = value;
    this.counts[code]!++;
  }
}

/**
 * DCT and quantisation of one 8×8 block (level-shifted samples in `block`), and its symbols in the
 * same zigzag pass: the DC as the difference from the previous block of its component, the AC as runs
 * of zeros (a ZRL for each sixteen, written only when a value follows) and values, and an end of block
 * when it ends in zeros. Returns the block's DC.
 */
function codeBlock(block: Float64Array, div: Float32Array, previousDc: number, dcTable: number, symbols: Symbols): number {
  fdct(block);
  symbols.reserve();
  const acTable = dcTable + 1;
  let dc = 0;
  let run = 0;
  for (let i = 0; i < 64; i++) {
    const x = block[ZIGZAG[i]!]! * div[i]!;
    const v = x < 0 ? -((0.5 - x) | 0) : (x + 0.5) | 0; // round half away from zero, as libjpeg
    if (i === 0) {
      dc = v;
      symbols.push(dcTable, sizeOf(v - previousDc), v - previousDc);
    } else if (v === 0) run++;
    else {
      for (; run > 15; run -= 16) symbols.push(acTable, 0xf0, 0);
      symbols.push(acTable, (run << 4) | sizeOf(v), v);
      run = 0;
    }
  }
  if (run > 0) symbols.push(acTable, 0x00, 0); // EOB
  return dc;
}

/** The 8×8 block at (x0, y0) of a plane, level-shifted; past the edge the last row and column repeat. */
function loadBlock(plane: Plane, x0: number, y0: number, block: Float64Array): void {
  const { data, width, height } = plane;
  if (x0 + 8 <= width && y0 + 8 <= height) {
    for (let r = 0, p = y0 * width + x0; r < 64; r += 8, p += width) {
      block[r] = data[p]! - 128;
      block[r + 1] = data[p + 1]! - 128;
      block[r + 2] = data[p + 2]! - 128;
      block[r + 3] = data[p + 3]! - 128;
      block[r + 4] = data[p + 4]! - 128;
      block[r + 5] = data[p + 5]! - 128;
      block[r + 6] = data[p + 6]! - 128;
      block[r + 7] = data[p + 7]! - 128;
    }
    return;
  }
  for (let r = 0; r < 8; r++) {
    const row = Math.min(y0 + r, height - 1) * width;
    for (let c = 0; c < 8; c++) block[r * 8 + c] = data[row + Math.min(x0 + c, width - 1)]! - 128;
  }
}

/** Every block's symbols, in MCU order: four luma blocks (2×2), then one Cb and one Cr. */
function symbolsOf(image: YccImage, lumaDiv: Float32Array, chromaDiv: Float32Array): Symbols {
  const { y, cb, cr } = image;
  const symbols = new Symbols();
  const block = new Float64Array(64);
  let dcY = 0;
  let dcCb = 0;
  let dcCr = 0;
  for (let my = 0; my < y.height; my += 16) {
    for (let mx = 0; mx < y.width; mx += 16) {
      for (let by = 0; by < 16; by += 8) {
        for (let bx = 0; bx < 16; bx += 8) {
          loadBlock(y, mx + bx, my + by, block);
          dcY = codeBlock(block, lumaDiv, dcY, DC_LUMA, symbols);
        }
      }
      loadBlock(cb, mx >> 1, my >> 1, block);
      dcCb = codeBlock(block, chromaDiv, dcCb, DC_CHROMA, symbols);
      loadBlock(cr, mx >> 1, my >> 1, block);
      dcCr = codeBlock(block, chromaDiv, dcCr, DC_CHROMA, symbols);
    }
  }
  return symbols;
}

export interface RgbaImage {
  /** RGBA, row-major; alpha is ignored (derivatives are flattened before encoding). */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Encodes an opaque RGBA image as a baseline JPEG, YCbCr 4:2:0 (each chroma sample the mean of its
 * 2×2 pixels), at IJG `quality` (1–100).
 */
export function encodeJpeg420(image: RgbaImage, quality: number): Uint8Array {
  const { data, width, height } = image;
  if (!(width > 0 && height > 0 && width <= 65535 && height <= 65535) || data.length < width * height * 4) {
    throw new RangeError(`cannot encode a ${width}×${height} image from ${data.length} bytes`);
  }
  return encodeJpegYcc(yccFromRgba(image), quality);
}

/**
 * Encodes Y, Cb, Cr planes (chroma at `chromaSize` of the luma) as a baseline JPEG, 4:2:0, at IJG
 * `quality` (1–100), with Huffman tables optimised for the image: the symbols are collected once
 * (≤ 4 bytes each, a few per block), counted, then written with the tables built from the counts.
 */
export function encodeJpegYcc(image: YccImage, quality: number): Uint8Array {
  const { width, height } = image.y;
  const chroma = chromaSize(width, height);
  if (!(width > 0 && height > 0 && width <= 65535 && height <= 65535) || image.y.data.length < width * height) {
    throw new RangeError(`cannot encode a ${width}×${height} image from ${image.y.data.length} luma samples`);
  }
  for (const plane of [image.cb, image.cr]) {
    if (plane.width !== chroma.width || plane.height !== chroma.height || plane.data.length < chroma.width * chroma.height) {
      throw new RangeError(`chroma of a ${width}×${height} image must be ${chroma.width}×${chroma.height}, not ${plane.width}×${plane.height}`);
    }
  }
  const lumaTable = scaledTable(LUMA_QUANT, quality);
  const chromaTable = scaledTable(CHROMA_QUANT, quality);
  const symbols = symbolsOf(image, divisors(lumaTable), divisors(chromaTable));
  const tables = [DC_LUMA, AC_LUMA, DC_CHROMA, AC_CHROMA].map((t) => optimalTable(symbols.counts.subarray(t << 8, (t + 1) << 8)));

  const out = new Writer(Math.max(4096, (width * height) >> 1));
  out.raw(0xff, 0xd8); // SOI
  out.raw(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0); // APP0 JFIF 1.01, 1:1
  out.raw(0xff, 0xdb);
  out.u16(2 + 2 * 65);
  out.raw(0, ...Array.from(ZIGZAG, (i) => lumaTable[i]!));
  out.raw(1, ...Array.from(ZIGZAG, (i) => chromaTable[i]!));
  out.raw(0xff, 0xc0); // SOF0: 8-bit, three components, luma sampled 2×2
  out.u16(17);
  out.raw(8);
  out.u16(height);
  out.u16(width);
  out.raw(3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1);
  out.raw(0xff, 0xc4);
  out.u16(2 + tables.reduce((n, t) => n + 17 + t.values.length, 0));
  writeHuffmanTable(out, 0x00, tables[DC_LUMA]!);
  writeHuffmanTable(out, 0x10, tables[AC_LUMA]!);
  writeHuffmanTable(out, 0x01, tables[DC_CHROMA]!);
  writeHuffmanTable(out, 0x11, tables[AC_CHROMA]!);
  out.raw(0xff, 0xda); // SOS
  out.u16(12);
  out.raw(3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0);

  // All four tables' codes in one array each, indexed by table << 8 | symbol (the stored code).
  const code = new Uint16Array(1024);
  const length = new Uint8Array(1024);
  tables.forEach((table, t) => {
    const built = buildCodes(table);
    code.set(built.code, t << 8);
    length.set(built.length, t << 8);
  });
  const { codes, values } = symbols;
  for (let i = 0; i < symbols.length; i++) {
    // A symbol and its value are at most 16 + 11 bits, 4 bytes, 8 stuffed.
    if ((i & 63) === 0) out.ensure(64 * 8);
    const c = codes[i]!;
    out.put(code[c]!, length[c]!);
    const size = c & 15;
    if (size > 0) {
      const v = values[i]!;
      out.put(v < 0 ? v - 1 : v, size); // negatives as one's complement
    }
  }
  out.flush();
  out.raw(0xff, 0xd9); // EOI
  return out.bytes.slice(0, out.at);
}
