/**
 * @module A baseline JPEG decoder that decodes at n/8 scale (n = 1…8) in the DCT domain, like libjpeg's
 * scale_num/8: only the n×n lowest-frequency coefficients of each block are inverse-transformed, so a
 * 12 MP photo costs a few MB of pixels instead of a full-size frame. Each component is decoded at its own
 * resolution (subsampled chroma stays subsampled) into a plane, which the derivative path resizes and
 * re-encodes as is; `decodeJpegScaled` converts to RGBA for other callers. Pure JS, no runtime imports.
 * Progressive, arithmetic-coded, 12-bit, CMYK and lossless JPEGs throw `UnsupportedJpeg` so a caller can
 * fall back.
 */
import { coefficientMap, inverseDct, type CoefficientMap } from './jpeg-idct';
import { chromaSize, flatPlane, resizePlane, rgbaFromPlanes, yccFromRgb, type Plane, type YccImage } from './planes';

/** A JPEG this decoder does not handle (as opposed to a broken one). */
export class UnsupportedJpeg extends Error {
  override name = 'UnsupportedJpeg';
}

/** A reduction by 1/scale (RGBA callers). */
export type Scale = 1 | 2 | 4 | 8;

/** Output samples per 8×8 block along a side: the picture is decoded at eighths/8 of its size. */
export type Eighths = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface ScaledPixels {
  /** RGBA, row-major, opaque. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** The size a `width`×`height` picture decodes to at `eighths`/8 (rounded up, as libjpeg does). */
export const reducedSize = (width: number, height: number, eighths: number) => ({
  width: Math.ceil((width * eighths) / 8),
  height: Math.ceil((height * eighths) / 8),
});

/** The strongest reduction that still leaves at least `minWidth`×`minHeight` pixels (8, none, when nothing smaller does). */
export function pickEighths(width: number, height: number, minWidth: number, minHeight: number): Eighths {
  for (let eighths = 1; eighths < 8; eighths++) {
    const size = reducedSize(width, height, eighths);
    if (size.width >= minWidth && size.height >= minHeight) return eighths as Eighths;
  }
  return 8;
}

const LOOKAHEAD = 9;
const LOOKAHEAD_MASK = (1 << LOOKAHEAD) - 1;

/** A Huffman table: a 9-bit lookahead for short codes, canonical max-code tables for the rest. */
interface Huffman {
  fast: Int32Array; // (length << 8) | symbol, or 0 when the code is longer than LOOKAHEAD
  /**
   * For AC tables: (value << 16) | (run << 8) | bits, when a code and its value's bits both fit in the
   * lookahead (most coefficients of a photo are small): one lookup decodes the coefficient. 0 otherwise.
   */
  fastAc: Int32Array;
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
  const fastAc = new Int32Array(1 << LOOKAHEAD);
  for (let i = 0; i < 1 << LOOKAHEAD; i++) {
    const length = fast[i]! >> 8;
    const size = fast[i]! & 15;
    if (length === 0 || size === 0 || length + size > LOOKAHEAD) continue;
    const bits = (i >> (LOOKAHEAD - length - size)) & ((1 << size) - 1);
    const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
    fastAc[i] = (value << 16) | ((fast[i]! & 0xf0) << 4) | (length + size);
  }
  return { fast, fastAc, maxcode, valptr, mincode, symbols };
}

/** Entropy-coded bytes with byte stuffing (ff 00); a marker or the end feeds zero bytes, which are counted. */
class ScanBytes {
  /** Zero bytes fed after a marker or the end of data; reading into them means the data is truncated. */
  padding = 0;

  constructor(
    readonly data: Uint8Array,
    public pos: number,
  ) {}
}

/**
 * The bit buffer `buf` (its low `count` bits pending) topped up a byte at a time until it holds more
 * than 24 bits, i.e. to count + 8·⌊(32 − count)/8⌋ bits (`refilled`): the buffer and its count live in
 * the caller's locals, which is what makes the scan loop fast.
 */
function refill(buf: number, count: number, src: ScanBytes): number {
  const data = src.data;
  for (; count <= 24; count += 8) {
    let byte = 0;
    if (src.padding === 0 && src.pos < data.length) {
      byte = data[src.pos]!;
      if (byte === 0xff) {
        if (data[src.pos + 1] === 0x00) src.pos += 2;
        else {
          byte = 0;
          src.padding++;
        }
      } else src.pos++;
    } else src.padding++;
    buf = (buf << 8) | byte;
  }
  return buf;
}

/** The bit count after `refill`. */
const refilled = (count: number) => count + (((32 - count) >> 3) << 3);

/** Whether bits read so far came from the zero padding, i.e. the scan ended before its MCUs did. */
const overran = (src: ScanBytes, count: number) => src.padding * 8 > count;

/** A code longer than the lookahead: (length << 8) | symbol; needs 16 bits in the buffer. */
function longCode(h: Huffman, buf: number, count: number): number {
  let length = LOOKAHEAD + 1;
  let code = (buf >>> (count - length)) & ((1 << length) - 1);
  while (code > h.maxcode[length]!) {
    length++;
    if (length > 16) throw new Error('bad Huffman code');
    code = (buf >>> (count - length)) & ((1 << length) - 1);
  }
  return (length << 8) | h.symbols[h.valptr[length]! + code - h.mincode[length]!]!;
}

/** Steps over a restart marker (and fill bytes before it). */
function restart(src: ScanBytes, count: number): void {
  // Prefetching usually stopped at the marker, feeding padding: fine unless those bits were consumed.
  if (overran(src, count)) throw new Error('truncated JPEG: restart interval ends early');
  src.padding = 0;
  const data = src.data;
  while (data[src.pos] === 0xff && data[src.pos + 1] === 0xff) src.pos++;
  const marker = data[src.pos + 1];
  if (data[src.pos] !== 0xff || marker === undefined || marker < 0xd0 || marker > 0xd7) throw new Error('missing restart marker');
  src.pos += 2;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Samples a block yields across and down (the eighths, or more for subsampled chroma with `fullChroma`). */
  nx: number;
  ny: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** The component's samples, one byte each; `stride` wide. */
  plane: Uint8Array;
  stride: number;
  /** The samples that belong to the picture, across and down (the rest is block padding). */
  width: number;
  height: number;
  pred: number;
}

/** What `decodeJpegPlanes` returns: a plane per component. */
export interface JpegPlanes {
  /** `ycc`: Y, Cb, Cr (JFIF); `rgb`: R, G, B (an Adobe "no transform" or R, G, B-named file); `gray`: one plane. */
  colour: 'ycc' | 'rgb' | 'gray';
  planes: Plane[];
  /** The picture at eighths/8 (`reducedSize`); a fully sampled component's plane is this size, subsampled ones smaller. */
  width: number;
  height: number;
}

/**
 * Decodes a baseline (SOF0/SOF1, 8-bit, Huffman) JPEG at `eighths`/8 into planes: each component at that
 * share of its own resolution (subsampled chroma stays so: the cheapest, and all a 4:2:0 re-encode needs) or,
 * with `fullChroma`, subsampled components with up to all 8×8 samples a block holds, as near the picture's
 * resolution as that gets (for RGBA). Throws `UnsupportedJpeg` for what it does not handle and `Error` for
 * corrupt or truncated data.
 */
export function decodeJpegPlanes(bytes: Uint8Array, eighths: Eighths, fullChroma = false): JpegPlanes {
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
        const count = seg[5]!;
        if (width === 0 || height === 0) throw new UnsupportedJpeg('height defined by DNL');
        if (count !== 1 && count !== 3) throw new UnsupportedJpeg(`${count} components (CMYK?)`);
        components = [];
        for (let i = 0; i < count; i++) {
          const h = seg[7 + i * 3]! >> 4;
          const v = seg[7 + i * 3]! & 15;
          if (h < 1 || h > 4 || v < 1 || v > 4) throw new Error('bad sampling factors');
          components.push({ id: seg[6 + i * 3]!, h, v, tq: seg[8 + i * 3]!, nx: 0, ny: 0, blocksPerLine: 0, blocksPerColumn: 0, plane: new Uint8Array(0), stride: 0, width: 0, height: 0, pred: 0 });
        }
        hmax = Math.max(...components.map((c) => c.h));
        vmax = Math.max(...components.map((c) => c.v));
        mcusPerLine = Math.ceil(width / (8 * hmax));
        mcusPerColumn = Math.ceil(height / (8 * vmax));
        for (const c of components) {
          // A block spans 8 of its component's samples, 8·hmax/h of the picture's (T.81 A.1.1).
          c.nx = samplesPerBlock(hmax, c.h, eighths, fullChroma);
          c.ny = samplesPerBlock(vmax, c.v, eighths, fullChroma);
          c.blocksPerLine = mcusPerLine * c.h;
          c.blocksPerColumn = mcusPerColumn * c.v;
          c.stride = c.blocksPerLine * c.nx;
          c.plane = new Uint8Array(c.stride * c.blocksPerColumn * c.ny);
          c.width = Math.ceil((Math.ceil((width * c.h) / hmax) * c.nx) / 8);
          c.height = Math.ceil((Math.ceil((height * c.v) / vmax) * c.ny) / 8);
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
        const count = seg[0]!;
        const inScan: Component[] = [];
        for (let i = 0; i < count; i++) {
          const c = components.find((x) => x.id === seg[1 + i * 2]);
          if (!c) throw new Error('scan names an unknown component');
          const tables = seg[2 + i * 2]!;
          if (!dcTables[tables >> 4] || !acTables[tables & 15] || !quant[c.tq]) throw new Error('missing table');
          inScan.push(c);
        }
        const tableIds = Array.from({ length: count }, (_, i) => seg[2 + i * 2]!);
        const frame = { width, height, hmax, vmax, mcusPerLine, mcusPerColumn };
        const dc = tableIds.map((t) => dcTables[t >> 4]!);
        const ac = tableIds.map((t) => acTables[t & 15]!);
        o = decodeScan(bytes, end, frame, inScan, dc, ac, inScan.map((c) => coefficientMap(quant[c.tq]!, c.nx, c.ny)), restartInterval);
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

  // Drop the block padding: rows move down in place, so no second buffer.
  const planes = components.map((c): Plane => {
    if (c.stride !== c.width) for (let y = 1; y < c.height; y++) c.plane.copyWithin(y * c.width, y * c.stride, y * c.stride + c.width);
    return { data: c.plane.subarray(0, c.width * c.height), width: c.width, height: c.height };
  });
  // Three components are YCbCr unless an Adobe marker says "no transform" or the ids spell R, G, B.
  const rgb = components.length === 3 && (adobeTransform === 0 || (!jfif && adobeTransform === null && components[0]!.id === 82 && components[1]!.id === 71));
  return { colour: components.length === 1 ? 'gray' : rgb ? 'rgb' : 'ycc', planes, ...reducedSize(width, height, eighths) };
}

/**
 * Samples a block yields along a side: the eighths, or with `fullChroma`, for a component subsampled by
 * `max / factor`, that times the largest power of two (up to 8 samples) that still divides the
 * subsampling, so the plane keeps a whole number of picture samples per sample (4:2:0 at 5/8: 5, not 8).
 */
function samplesPerBlock(max: number, factor: number, eighths: Eighths, fullChroma: boolean): number {
  let n: number = eighths;
  if (!fullChroma || max % factor !== 0) return n;
  for (let ratio = max / factor; ratio % 2 === 0 && n * 2 <= 8; ratio /= 2) n *= 2;
  return n;
}

/** Decodes a baseline JPEG at 1/`scale` to opaque RGBA (chroma decoded as finely as its blocks allow, then interpolated). */
export function decodeJpegScaled(bytes: Uint8Array, scale: Scale): ScaledPixels {
  const decoded = decodeJpegPlanes(bytes, (8 / scale) as Eighths, true);
  return rgbaFromPlanes(decoded.planes, decoded.colour === 'ycc', decoded.width, decoded.height);
}

/**
 * Decodes a baseline JPEG at `eighths`/8 to YCbCr planes as they are stored (subsampled chroma stays so):
 * what the derivative path resizes and re-encodes. Grey gets neutral chroma; an RGB-coded file is converted.
 */
export function decodeJpegYcc(bytes: Uint8Array, eighths: Eighths): YccImage {
  const decoded = decodeJpegPlanes(bytes, eighths);
  const { width, height, planes } = decoded;
  if (decoded.colour === 'rgb') {
    const [r, g, b] = planes.map((plane) => resizePlane(plane, width, height));
    return yccFromRgb(r!, g!, b!);
  }
  // Luma is the picture's size unless a file samples it below its chroma (legal, never seen in the wild).
  const y = resizePlane(planes[0]!, width, height);
  if (decoded.colour === 'ycc') return { y, cb: planes[1]!, cr: planes[2]! };
  const chroma = chromaSize(width, height);
  const neutral = flatPlane(chroma.width, chroma.height, 128);
  return { y, cb: neutral, cr: neutral };
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
  maps: CoefficientMap[],
  restartInterval: number,
): number {
  const src = new ScanBytes(bytes, start);
  // The bit buffer: its low `count` bits are pending (see `refill`).
  let buf = 0;
  let count = 0;
  const coef = new Float64Array(64);
  const tmp = new Float64Array(72); // 8 rows of up to 8, and the unrolled column reads' overhang
  for (const c of inScan) c.pred = 0;

  // A scan of one component is not interleaved: one block per unit, across the component's own size in
  // blocks rather than whole MCUs (T.81 A.2.2). A frame of one component is always scanned that way.
  const single = inScan.length === 1;
  const first = inScan[0]!;
  const perLine = single ? Math.ceil(Math.ceil((frame.width * first.h) / frame.hmax) / 8) : frame.mcusPerLine;
  const lines = single ? Math.ceil(Math.ceil((frame.height * first.v) / frame.vmax) / 8) : frame.mcusPerColumn;
  for (let unit = 0, units = perLine * lines; unit < units; unit++) {
    if (restartInterval > 0 && unit > 0 && unit % restartInterval === 0) {
      restart(src, count);
      buf = 0;
      count = 0;
      for (const c of inScan) c.pred = 0;
    }
    const row = Math.floor(unit / perLine);
    const col = unit % perLine;
    for (let i = 0; i < inScan.length; i++) {
      const c = inScan[i]!;
      const { at, row: rowOf, mult } = maps[i]!;
      const dcTable = dc[i]!;
      const acTable = ac[i]!;
      const dcFast = dcTable.fast;
      const acFast = acTable.fast;
      const acQuick = acTable.fastAc;
      const { nx, ny, plane, stride } = c;
      const blocksDown = single ? 1 : c.v;
      const blocksAcross = single ? 1 : c.h;
      for (let v = 0; v < blocksDown; v++) {
        for (let h = 0; h < blocksAcross; h++) {
          coef.fill(0, 0, nx * ny);
          // DC: a size, then that many bits of difference from the previous block's DC.
          if (count < 25) {
            buf = refill(buf, count, src);
            count = refilled(count);
          }
          let look = dcFast[(buf >>> (count - LOOKAHEAD)) & LOOKAHEAD_MASK]!;
          if (look === 0) look = longCode(dcTable, buf, count);
          count -= look >>> 8;
          let size = look & 15;
          if (size > 0) {
            if (count < size) {
              buf = refill(buf, count, src);
              count = refilled(count);
            }
            const bits = (buf >>> (count - size)) & ((1 << size) - 1);
            count -= size;
            c.pred += bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits; // T.81 F.2.2.1 EXTEND
          }
          coef[0] = c.pred * mult[0]!;
          // AC: (run of zeros, size) symbols, each but end-of-block and ZRL followed by the value's bits.
          let anyAc = false;
          let rows = 1;
          for (let k = 1; k < 64; ) {
            if (count < 25) {
              buf = refill(buf, count, src);
              count = refilled(count);
            }
            const peek = (buf >>> (count - LOOKAHEAD)) & LOOKAHEAD_MASK;
            const quick = acQuick[peek]!;
            if (quick !== 0) {
              count -= quick & 0xff;
              k += (quick >> 8) & 15;
              if (k > 63) throw new Error('coefficient index out of range');
              const p = at[k]!;
              if (p >= 0) {
                coef[p] = (quick >> 16) * mult[k]!;
                anyAc = true;
                if (rowOf[k]! >= rows) rows = rowOf[k]! + 1;
              }
              k++;
              continue;
            }
            look = acFast[peek]!;
            if (look === 0) look = longCode(acTable, buf, count);
            count -= look >>> 8;
            size = look & 15;
            const run = (look >> 4) & 15;
            if (size === 0) {
              if (run !== 15) break; // end of block
              k += 16;
              continue;
            }
            k += run;
            if (k > 63) throw new Error('coefficient index out of range');
            if (count < size) {
              buf = refill(buf, count, src);
              count = refilled(count);
            }
            const p = at[k]!;
            if (p >= 0) {
              const bits = (buf >>> (count - size)) & ((1 << size) - 1);
              coef[p] = (bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits) * mult[k]!;
              anyAc = true;
              if (rowOf[k]! >= rows) rows = rowOf[k]! + 1;
            }
            count -= size; // a coefficient the reduced IDCT does not use is skipped unread
            k++;
          }
          const o = (single ? row : row * c.v + v) * ny * stride + (single ? col : col * c.h + h) * nx;
          if (!anyAc) {
            // A flat block (common in smooth areas and in chroma): its mean everywhere.
            const mean = coef[0]! + 128.5;
            const value = mean < 0 ? 0 : mean > 255 ? 255 : mean;
            for (let y = 0; y < ny; y++) plane.fill(value, o + y * stride, o + y * stride + nx);
          } else inverseDct(coef, nx, ny, rows, tmp, plane, o, stride);
        }
      }
      if (single) break;
    }
    // Stop early on truncated data: a whole line decoded from padding proves it.
    if (col === perLine - 1 && overran(src, count)) throw new Error('truncated JPEG: scan data ends early');
  }
  if (overran(src, count)) throw new Error('truncated JPEG: scan data ends early');
  // On to the next marker: ff followed by anything but 00 (stuffing), ff (fill) or a restart marker.
  let p = src.pos;
  for (; p + 1 < bytes.length; p++) {
    const next = bytes[p + 1]!;
    if (bytes[p] === 0xff && next !== 0x00 && next !== 0xff && (next < 0xd0 || next > 0xd7)) break;
  }
  return p;
}
