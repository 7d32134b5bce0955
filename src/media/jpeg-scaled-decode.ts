/**
 * @module A baseline JPEG decoder that decodes at 1/2, 1/4 or 1/8 scale in the DCT domain (like libjpeg's
 * scaled decoding): only the low-frequency coefficients of each block are inverse-transformed, so a 12 MP
 * photo costs a few MB of pixels instead of a full-size frame. Pure JS, no runtime imports. Progressive,
 * arithmetic-coded, 12-bit, CMYK and lossless JPEGs throw `UnsupportedJpeg` so a caller can fall back.
 */

/** A JPEG this decoder does not handle (as opposed to a broken one). */
export class UnsupportedJpeg extends Error {
  override name = 'UnsupportedJpeg';
}

export type Scale = 1 | 2 | 4 | 8;

export interface ScaledPixels {
  /** RGBA, row-major, opaque. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** The size `decodeJpegScaled` produces for a `width`×`height` image at 1/`scale`. */
export const scaledSize = (width: number, height: number, scale: Scale) => ({
  width: Math.ceil(width / scale),
  height: Math.ceil(height / scale),
});

/** The strongest reduction that still leaves at least `minWidth`×`minHeight` pixels (1 when none does). */
export function pickScale(width: number, height: number, minWidth: number, minHeight: number): Scale {
  for (const scale of [8, 4, 2] as const) {
    const size = scaledSize(width, height, scale);
    if (size.width >= minWidth && size.height >= minHeight) return scale;
  }
  return 1;
}

// Zigzag position → natural (row-major) position in an 8×8 block.
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
  62, 63,
]);

const LOOKAHEAD = 9;

/** A Huffman table: a 9-bit lookahead for short codes, canonical max-code tables for the rest. */
interface Huffman {
  fast: Int32Array; // (length << 8) | symbol, or 0 when the code is longer than LOOKAHEAD
  maxcode: Int32Array; // by length 1…16, largest code of that length (-1 when none)
  valptr: Int32Array;
  mincode: Int32Array;
  symbols: Uint8Array;
}

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman {
  const fast = new Int32Array(1 << LOOKAHEAD);
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1]!;
    valptr[length] = k;
    mincode[length] = code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (length <= LOOKAHEAD) {
        const shift = LOOKAHEAD - length;
        for (let fill = 0; fill < 1 << shift; fill++) fast[(code << shift) | fill] = (length << 8) | symbols[k]!;
      }
    }
    if (n > 0) maxcode[length] = code - 1;
    if (code > 1 << length) throw new Error('corrupt Huffman table');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff; // sentinel: no code is longer than 16 bits
  return { fast, maxcode, valptr, mincode, symbols };
}

/** Entropy-coded data with byte stuffing (ff 00); a marker or the end feeds zero bits, which are counted. */
class BitReader {
  private buffer = 0;
  private count = 0;
  /** Zero bytes fed after a marker or the end of data; reading into them means the data is truncated. */
  private padding = 0;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (this.padding === 0 && this.pos < this.data.length) {
        byte = this.data[this.pos]!;
        if (byte === 0xff) {
          const next = this.data[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else {
            byte = 0;
            this.padding++;
          }
        } else this.pos++;
      } else this.padding++;
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  peek(n: number): number {
    if (this.count < n) this.fill();
    return (this.buffer >>> (this.count - n)) & ((1 << n) - 1);
  }

  bits(n: number): number {
    if (n === 0) return 0;
    const v = this.peek(n);
    this.count -= n;
    return v;
  }

  /** Whether any bit read so far came from the zero padding, i.e. the scan ended before its MCUs did. */
  overran(): boolean {
    return this.padding * 8 > this.count;
  }

  decode(h: Huffman): number {
    const look = h.fast[this.peek(LOOKAHEAD)]!;
    if (look !== 0) {
      this.count -= look >>> 8;
      return look & 0xff;
    }
    let length = LOOKAHEAD + 1;
    let code = this.peek(length);
    while (code > h.maxcode[length]!) {
      length++;
      if (length > 16) throw new Error('bad Huffman code');
      code = this.peek(length);
    }
    this.count -= length;
    return h.symbols[h.valptr[length]! + code - h.mincode[length]!]!;
  }

  /** A value of `n` bits in JPEG's sign convention (F.2.2.1 EXTEND). */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  /** Drops buffered bits and steps over a restart marker. */
  restart(): void {
    // Prefetching usually stopped at the marker, feeding padding: fine unless those bits were consumed.
    if (this.overran()) throw new Error('truncated JPEG: restart interval ends early');
    this.count = 0;
    this.buffer = 0;
    this.padding = 0;
    // Tolerate fill bytes before the marker.
    while (this.data[this.pos] === 0xff && this.data[this.pos + 1] === 0xff) this.pos++;
    const marker = this.data[this.pos + 1];
    if (this.data[this.pos] !== 0xff || marker === undefined || marker < 0xd0 || marker > 0xd7) throw new Error('missing restart marker');
    this.pos += 2;
  }
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Output samples a block yields across and down at the chosen scale. */
  nx: number;
  ny: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Samples at output resolution, one byte each; `stride` wide. */
  plane: Uint8Array;
  stride: number;
  pred: number;
}

/** cos((2x + 1)uπ / 2N) · C(u) for the N-point inverse DCT, x and u < N, with C(0) = 1/√2. */
const COS: Record<number, Float32Array> = {};
for (const n of [1, 2, 4, 8]) {
  const t = new Float32Array(n * n);
  for (let x = 0; x < n; x++) for (let u = 0; u < n; u++) t[x * n + u] = (u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / (2 * n));
  COS[n] = t;
}

/**
 * Reduced inverse DCT: from the nx×ny lowest coefficients (natural order, dequantised) straight to nx×ny
 * samples. With the 8-point coefficients, f(x, y) = ¼ Σu<nx Σv<ny C(u)C(v) F(u, v) cos… cos… keeps the
 * block's mean (F(0,0)/8) and is the exact IDCT at 8.
 */
function idctReduced(coef: Float32Array, nx: number, ny: number, tmp: Float32Array, out: Uint8Array, offset: number, stride: number): void {
  const cx = COS[nx]!;
  const cy = COS[ny]!;
  // Rows: tmp[v][x] = Σu C(u) F(u, v) cos((2x + 1)uπ / 2nx)
  for (let v = 0; v < ny; v++) {
    for (let x = 0; x < nx; x++) {
      let sum = 0;
      for (let u = 0; u < nx; u++) sum += cx[x * nx + u]! * coef[v * 8 + u]!;
      tmp[v * 8 + x] = sum;
    }
  }
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      let sum = 0;
      for (let v = 0; v < ny; v++) sum += cy[y * ny + v]! * tmp[v * 8 + x]!;
      const value = sum / 4 + 128.5;
      out[offset + y * stride + x] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
}

/**
 * Decodes a baseline (SOF0/SOF1, 8-bit, Huffman) JPEG at 1/`scale`. Throws `UnsupportedJpeg` for what it
 * does not handle and `Error` for corrupt or truncated data.
 */
export function decodeJpegScaled(bytes: Uint8Array, scale: Scale): ScaledPixels {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG');
  const quant: (Float32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let hmax = 1;
  let vmax = 1;
  let mcusPerLine = 0;
  let mcusPerColumn = 0;
  let restartInterval = 0;
  let adobeTransform: number | null = null;
  let jfif = false;
  let scans = 0;

  let o = 2;
  for (;;) {
    while (bytes[o] === 0xff && bytes[o + 1] === 0xff) o++;
    if (o + 2 > bytes.length || bytes[o] !== 0xff) throw new Error('truncated or corrupt JPEG (no marker)');
    const marker = bytes[o + 1]!;
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    if (o + 4 > bytes.length) throw new Error('truncated JPEG segment');
    const length = (bytes[o + 2]! << 8) | bytes[o + 3]!;
    const start = o + 4;
    const end = o + 2 + length;
    if (length < 2 || end > bytes.length) throw new Error('truncated JPEG segment');
    const seg = bytes.subarray(start, end);
    switch (marker) {
      case 0xdb: {
        for (let p = 0; p < seg.length; ) {
          const precision = seg[p]! >> 4;
          const id = seg[p]! & 15;
          const table = new Float32Array(64);
          p++;
          for (let k = 0; k < 64; k++) {
            table[k] = precision ? (seg[p + 2 * k]! << 8) | seg[p + 2 * k + 1]! : seg[p + k]!;
          }
          p += precision ? 128 : 64;
          if (p > seg.length) throw new Error('truncated quantisation table');
          quant[id] = table;
        }
        break;
      }
      case 0xc4: {
        for (let p = 0; p < seg.length; ) {
          const cls = seg[p]! >> 4;
          const id = seg[p]! & 15;
          const counts = seg.subarray(p + 1, p + 17);
          const total = counts.reduce((a, b) => a + b, 0);
          const symbols = seg.subarray(p + 17, p + 17 + total);
          if (counts.length < 16 || symbols.length < total) throw new Error('truncated Huffman table');
          (cls === 0 ? dcTables : acTables)[id] = buildHuffman(counts, symbols);
          p += 17 + total;
        }
        break;
      }
      case 0xc0:
      case 0xc1: {
        // The caller planned memory from the first frame header; a second one could declare anything.
        if (components.length > 0) throw new Error('more than one frame header');
        if (seg[0] !== 8) throw new UnsupportedJpeg(`${seg[0]}-bit samples`);
        height = (seg[1]! << 8) | seg[2]!;
        width = (seg[3]! << 8) | seg[4]!;
        const n = seg[5]!;
        if (width === 0 || height === 0) throw new UnsupportedJpeg('height defined by DNL');
        if (n !== 1 && n !== 3) throw new UnsupportedJpeg(`${n} components (CMYK?)`);
        components = [];
        for (let i = 0; i < n; i++) {
          const h = seg[7 + i * 3]! >> 4;
          const v = seg[7 + i * 3]! & 15;
          if (h < 1 || h > 4 || v < 1 || v > 4) throw new Error('bad sampling factors');
          components.push({ id: seg[6 + i * 3]!, h, v, tq: seg[8 + i * 3]!, nx: 0, ny: 0, blocksPerLine: 0, blocksPerColumn: 0, plane: new Uint8Array(0), stride: 0, pred: 0 });
        }
        hmax = Math.max(...components.map((c) => c.h));
        vmax = Math.max(...components.map((c) => c.v));
        mcusPerLine = Math.ceil(width / (8 * hmax));
        mcusPerColumn = Math.ceil(height / (8 * vmax));
        for (const c of components) {
          // A block spans 8·hmax/h image pixels across; at 1/scale that is nx output samples.
          const nx = (8 * hmax) / c.h / scale;
          const ny = (8 * vmax) / c.v / scale;
          if (![1, 2, 4, 8].includes(nx) || ![1, 2, 4, 8].includes(ny)) throw new UnsupportedJpeg(`sampling ${c.h}×${c.v} at 1/${scale}`);
          c.nx = nx;
          c.ny = ny;
          c.blocksPerLine = mcusPerLine * c.h;
          c.blocksPerColumn = mcusPerColumn * c.v;
          c.stride = c.blocksPerLine * nx;
          c.plane = new Uint8Array(c.stride * c.blocksPerColumn * ny);
        }
        break;
      }
      case 0xdd:
        restartInterval = (seg[0]! << 8) | seg[1]!;
        break;
      case 0xe0:
        if (String.fromCharCode(...seg.subarray(0, 5)) === 'JFIF\0') jfif = true;
        break;
      case 0xee:
        if (String.fromCharCode(...seg.subarray(0, 5)) === 'Adobe' && seg.length >= 12) adobeTransform = seg[11]!;
        break;
      case 0xda: {
        if (components.length === 0) throw new Error('scan before frame');
        const n = seg[0]!;
        const inScan: Component[] = [];
        for (let i = 0; i < n; i++) {
          const c = components.find((x) => x.id === seg[1 + i * 2]);
          if (!c) throw new Error('scan names an unknown component');
          const tables = seg[2 + i * 2]!;
          if (!dcTables[tables >> 4] || !acTables[tables & 15] || !quant[c.tq]) throw new Error('missing table');
          inScan.push(c);
        }
        const tableIds = Array.from({ length: n }, (_, i) => seg[2 + i * 2]!);
        const frame = { width, height, hmax, vmax, mcusPerLine, mcusPerColumn };
        const dc = tableIds.map((t) => dcTables[t >> 4]!);
        const ac = tableIds.map((t) => acTables[t & 15]!);
        o = decodeScan(bytes, end, frame, inScan, dc, ac, inScan.map((c) => quant[c.tq]!), restartInterval);
        scans++;
        continue;
      }
      default:
        if ((marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xde) {
          throw new UnsupportedJpeg(`frame type ${marker.toString(16)}`);
        }
    }
    o = end;
  }
  if (scans === 0 || components.length === 0) throw new Error('no image data');

  const out = scaledSize(width, height, scale);
  const rgba = new Uint8Array(out.width * out.height * 4);
  // Three components are YCbCr unless an Adobe marker says "no transform" or the ids spell R, G, B.
  const rgb = components.length === 3 && (adobeTransform === 0 || (!jfif && adobeTransform === null && components[0]!.id === 82 && components[1]!.id === 71));
  const [a, b, c] = components;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const p = (y * out.width + x) * 4;
      const y0 = a!.plane[y * a!.stride + x]!;
      if (!b || !c) {
        rgba[p] = rgba[p + 1] = rgba[p + 2] = y0;
      } else if (rgb) {
        rgba[p] = y0;
        rgba[p + 1] = b.plane[y * b.stride + x]!;
        rgba[p + 2] = c.plane[y * c.stride + x]!;
      } else {
        const cb = b.plane[y * b.stride + x]! - 128;
        const cr = c.plane[y * c.stride + x]! - 128;
        // Uint8Array stores clamp nothing: clamp by hand (JFIF / ITU-R BT.601 full range).
        const r = y0 + 1.402 * cr + 0.5;
        const g = y0 - 0.344136 * cb - 0.714136 * cr + 0.5;
        const bl = y0 + 1.772 * cb + 0.5;
        rgba[p] = r < 0 ? 0 : r > 255 ? 255 : r;
        rgba[p + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
        rgba[p + 2] = bl < 0 ? 0 : bl > 255 ? 255 : bl;
      }
      rgba[p + 3] = 255;
    }
  }
  return { data: rgba, ...out };
}

interface Frame {
  width: number;
  height: number;
  hmax: number;
  vmax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

/** Decodes one scan's MCUs into the components' planes; returns where the next marker starts. */
function decodeScan(
  bytes: Uint8Array,
  start: number,
  frame: Frame,
  inScan: Component[],
  dc: Huffman[],
  ac: Huffman[],
  qt: Float32Array[],
  restartInterval: number,
): number {
  const reader = new BitReader(bytes, start);
  const coef = new Float32Array(64);
  const tmp = new Float32Array(64);
  for (const c of inScan) c.pred = 0;

  const decodeBlock = (i: number, c: Component, row: number, col: number): void => {
    coef.fill(0);
    const q = qt[i]!;
    c.pred += reader.receiveExtend(reader.decode(dc[i]!));
    coef[0] = c.pred * q[0]!;
    const table = ac[i]!;
    for (let k = 1; k < 64; ) {
      const rs = reader.decode(table);
      const size = rs & 15;
      const run = rs >> 4;
      if (size === 0) {
        if (run !== 15) break; // end of block
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) throw new Error('coefficient index out of range');
      coef[ZIGZAG[k]!] = reader.receiveExtend(size) * q[k]!;
      k++;
    }
    idctReduced(coef, c.nx, c.ny, tmp, c.plane, row * c.ny * c.stride + col * c.nx, c.stride);
  };

  // A scan of one component is not interleaved: one block per unit, across the component's own size in
  // blocks rather than whole MCUs (T.81 A.2.2). A frame of one component is always scanned that way.
  const single = inScan.length === 1 ? inScan[0]! : null;
  const perLine = single ? Math.ceil(Math.ceil((frame.width * single.h) / frame.hmax) / 8) : frame.mcusPerLine;
  const lines = single ? Math.ceil(Math.ceil((frame.height * single.v) / frame.vmax) / 8) : frame.mcusPerColumn;
  for (let n = 0, units = perLine * lines; n < units; n++) {
    if (restartInterval > 0 && n > 0 && n % restartInterval === 0) {
      reader.restart();
      for (const c of inScan) c.pred = 0;
    }
    const row = Math.floor(n / perLine);
    const col = n % perLine;
    if (single) decodeBlock(0, single, row, col);
    else {
      for (let i = 0; i < inScan.length; i++) {
        const c = inScan[i]!;
        for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) decodeBlock(i, c, row * c.v + v, col * c.h + h);
      }
    }
    // Stop early on truncated data: a whole line decoded from padding proves it.
    if (col === perLine - 1 && reader.overran()) throw new Error('truncated JPEG: scan data ends early');
  }
  if (reader.overran()) throw new Error('truncated JPEG: scan data ends early');
  // On to the next marker: ff followed by anything but 00 (stuffing), ff (fill) or a restart marker.
  let p = reader.pos;
  for (; p + 1 < bytes.length; p++) {
    const next = bytes[p + 1]!;
    if (bytes[p] === 0xff && next !== 0x00 && next !== 0xff && (next < 0xd0 || next > 0xd7)) break;
  }
  return p;
}
