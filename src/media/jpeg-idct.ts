/**
 * @module The reduced inverse DCTs of the scaled JPEG decoder (jpeg-scaled-decode.ts): an 8×8 block's
 * lowest nx×ny coefficients straight to nx×ny samples (libjpeg's scaled IDCT), with dedicated 3-, 4- and
 * 6-point transforms for the common scales and a generic N-point one for the rest, and the map that
 * places and dequantises a block's zigzag coefficients for them. Pure arithmetic, no runtime imports.
 */
import { ZIGZAG } from './jpeg-zigzag';

/**
 * For the N-point inverse DCT (N = 1…8), cos((2x + 1)uπ / 2N) for the first half of the outputs x (the
 * rest mirror them), split into the four even u (`even[4x + u/2]`) and the four odd u (`odd[4x + (u − 1)/2]`),
 * zero for u ≥ N, so every size runs the same unrolled sums.
 */
const COS_EVEN: Float64Array[] = [];
const COS_ODD: Float64Array[] = [];
for (let n = 1; n <= 8; n++) {
  const even = new Float64Array(16);
  const odd = new Float64Array(16);
  for (let x = 0; x < (n + 1) >> 1; x++) {
    for (let u = 0; u < n; u++) {
      const c = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * n));
      if (u % 2 === 0) even[4 * x + u / 2] = c;
      else odd[4 * x + (u - 1) / 2] = c;
    }
  }
  COS_EVEN[n] = even;
  COS_ODD[n] = odd;
}

const C1 = Math.cos(Math.PI / 8);
const C3 = Math.cos((3 * Math.PI) / 8);

/** Where each zigzag coefficient goes in an nx×ny block (row-major; -1 when the reduced IDCT ignores it), its row, and its multiplier. */
export interface CoefficientMap {
  at: Int8Array;
  row: Int8Array;
  mult: Float32Array;
}

/**
 * The reduced inverse DCT takes the nx×ny lowest coefficients of the 8-point transform straight to nx×ny
 * samples: f(x, y) = ¼ Σu<nx Σv<ny C(u)C(v) F(u, v) cos((2x + 1)uπ / 2nx) cos((2y + 1)vπ / 2ny),
 * C(0) = 1/√2, which keeps the block's mean (F(0,0)/8) and is the exact IDCT at 8. The constant factors
 * are folded into the dequantisation: C(u)C(v)/4 and, for the 4×4 transform (`idct4`), the cos(π/4) of
 * its u = 2 and v = 2 terms.
 */
export function coefficientMap(quant: Float32Array, nx: number, ny: number): CoefficientMap {
  const at = new Int8Array(64).fill(-1);
  const row = new Int8Array(64);
  const mult = new Float32Array(64);
  const four = nx === 4 && ny === 4;
  const factor = (u: number) => (u === 0 || (four && u === 2) ? Math.SQRT1_2 : 1);
  for (let k = 0; k < 64; k++) {
    const u = ZIGZAG[k]! & 7;
    const v = ZIGZAG[k]! >> 3;
    if (u >= nx || v >= ny) continue;
    at[k] = v * nx + u;
    row[k] = v;
    mult[k] = (quant[k]! * factor(u) * factor(v)) / 4; // DQT is in zigzag order too
  }
  return { at, row, mult };
}

/** The 4-point IDCT (even/odd halves) on rows, then columns, of prepared coefficients; writes 4×4 samples. */
function idct4(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let r = 0; r < 16; r += 4) {
    const f0 = c[r]!, f1 = c[r + 1]!, f2 = c[r + 2]!, f3 = c[r + 3]!;
    const e0 = f0 + f2, e1 = f0 - f2, o0 = C1 * f1 + C3 * f3, o1 = C3 * f1 - C1 * f3;
    c[r] = e0 + o0;
    c[r + 1] = e1 + o1;
    c[r + 2] = e1 - o1;
    c[r + 3] = e0 - o0;
  }
  for (let x = 0; x < 4; x++) {
    const f0 = c[x]!, f1 = c[4 + x]!, f2 = c[8 + x]!, f3 = c[12 + x]!;
    const e0 = f0 + f2 + 128.5, e1 = f0 - f2 + 128.5, o0 = C1 * f1 + C3 * f3, o1 = C3 * f1 - C1 * f3;
    // +128 undoes the level shift, +0.5 rounds (the store truncates); clamp by hand, the store wraps.
    let v = e0 + o0;
    out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e1 + o1;
    out[o + stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e1 - o1;
    out[o + 2 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e0 - o0;
    out[o + 3 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

const S3 = Math.sqrt(3) / 2; // cos(π/6)

/**
 * The 3-point IDCT on rows, then columns (3/8 scale): with u = 1, 2 the cosines are ±cos(π/6), 0 and
 * cos(π/3) = ½, cos(π) = −1, so each output is a few additions.
 */
function idct3(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let r = 0; r < 9; r += 3) {
    const f0 = c[r]!, f1 = S3 * c[r + 1]!, f2 = c[r + 2]!;
    c[r] = f0 + f1 + 0.5 * f2;
    c[r + 1] = f0 - f2;
    c[r + 2] = f0 - f1 + 0.5 * f2;
  }
  for (let x = 0; x < 3; x++) {
    // +128 undoes the level shift, +0.5 rounds (the store truncates); clamp by hand, the store wraps.
    const f0 = c[x]! + 128.5, f1 = S3 * c[3 + x]!, f2 = c[6 + x]!;
    let v = f0 + f1 + 0.5 * f2;
    out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = f0 - f2;
    out[o + stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = f0 - f1 + 0.5 * f2;
    out[o + 2 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

const K1 = Math.cos(Math.PI / 12);
const K5 = Math.cos((5 * Math.PI) / 12);

/**
 * The 6-point IDCT on rows, then columns (6/8 scale): output x and 5 − x share an even part (u = 0, 2, 4:
 * cosines ±cos(π/6), ½, −1, 0) and an odd part (u = 1, 3, 5: cos(π/12), cos(5π/12), ±√½) of opposite sign.
 */
function idct6(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let r = 0; r < 36; r += 6) {
    const f0 = c[r]!, f1 = c[r + 1]!, f2 = S3 * c[r + 2]!, f3 = Math.SQRT1_2 * c[r + 3]!, f4 = c[r + 4]!, f5 = c[r + 5]!;
    const e0 = f0 + f2 + 0.5 * f4, e1 = f0 - f4, e2 = f0 - f2 + 0.5 * f4;
    const o0 = K1 * f1 + f3 + K5 * f5, o1 = Math.SQRT1_2 * (f1 - f5) - f3, o2 = K5 * f1 - f3 + K1 * f5;
    c[r] = e0 + o0;
    c[r + 1] = e1 + o1;
    c[r + 2] = e2 + o2;
    c[r + 3] = e2 - o2;
    c[r + 4] = e1 - o1;
    c[r + 5] = e0 - o0;
  }
  for (let x = 0; x < 6; x++) {
    const f0 = c[x]! + 128.5, f1 = c[6 + x]!, f2 = S3 * c[12 + x]!, f3 = Math.SQRT1_2 * c[18 + x]!, f4 = c[24 + x]!, f5 = c[30 + x]!;
    const e0 = f0 + f2 + 0.5 * f4, e1 = f0 - f4, e2 = f0 - f2 + 0.5 * f4;
    const o0 = K1 * f1 + f3 + K5 * f5, o1 = Math.SQRT1_2 * (f1 - f5) - f3, o2 = K5 * f1 - f3 + K1 * f5;
    // +128 undoes the level shift, +0.5 rounds (the store truncates); clamp by hand, the store wraps.
    let v = e0 + o0;
    out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e1 + o1;
    out[o + stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e2 + o2;
    out[o + 2 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e2 - o2;
    out[o + 3 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e1 - o1;
    out[o + 4 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    v = e0 - o0;
    out[o + 5 * stride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/**
 * The nx×ny IDCT (every size but 3×3, 4×4 and 6×6), rows then columns, over the first `rows` coefficient rows only
 * (the rest are zero). Output x and n − 1 − x share their terms with the odd ones' sign flipped
 * (cos((2(n − 1 − x) + 1)uπ / 2n) = (−1)^u cos((2x + 1)uπ / 2n)), which halves the work; the sums run
 * over eight terms whatever the size, the tables' zeros covering u ≥ n (which read neighbouring
 * values: `c` and `tmp` only ever hold finite numbers, and the rows from `rows` to n are cleared).
 */
function idctN(c: Float64Array, nx: number, ny: number, rows: number, tmp: Float64Array, out: Uint8Array, o: number, stride: number): void {
  let e = COS_EVEN[nx]!;
  let d = COS_ODD[nx]!;
  const hx = (nx + 1) >> 1;
  for (let v = 0; v < rows; v++) {
    const r = v * nx;
    const c0 = c[r]!, c1 = c[r + 1]!, c2 = c[r + 2]!, c3 = c[r + 3]!, c4 = c[r + 4]!, c5 = c[r + 5]!, c6 = c[r + 6]!, c7 = c[r + 7]!;
    for (let x = 0, k = 0; x < hx; x++, k += 4) {
      const even = e[k]! * c0 + e[k + 1]! * c2 + e[k + 2]! * c4 + e[k + 3]! * c6;
      const odd = d[k]! * c1 + d[k + 1]! * c3 + d[k + 2]! * c5 + d[k + 3]! * c7;
      tmp[r + x] = even + odd;
      tmp[r + nx - 1 - x] = even - odd; // the middle of an odd size has no odd terms (cos(uπ/2) = 0)
    }
  }
  tmp.fill(0, rows * nx, ny * nx); // rows from ny on meet zero table entries
  e = COS_EVEN[ny]!;
  d = COS_ODD[ny]!;
  const hy = (ny + 1) >> 1;
  for (let x = 0; x < nx; x++) {
    const t0 = tmp[x]!, t1 = tmp[nx + x]!, t2 = tmp[2 * nx + x]!, t3 = tmp[3 * nx + x]!;
    const t4 = tmp[4 * nx + x]!, t5 = tmp[5 * nx + x]!, t6 = tmp[6 * nx + x]!, t7 = tmp[7 * nx + x]!;
    for (let y = 0, k = 0; y < hy; y++, k += 4) {
      // +128 undoes the level shift, +0.5 rounds (the store truncates); clamp by hand, the store wraps.
      const even = 128.5 + e[k]! * t0 + e[k + 1]! * t2 + e[k + 2]! * t4 + e[k + 3]! * t6;
      const odd = d[k]! * t1 + d[k + 1]! * t3 + d[k + 2]! * t5 + d[k + 3]! * t7;
      let value = even + odd;
      out[o + y * stride + x] = value < 0 ? 0 : value > 255 ? 255 : value;
      value = even - odd;
      if (ny - 1 - y !== y) out[o + (ny - 1 - y) * stride + x] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
}

/** Writes the nx×ny samples of one block of prepared coefficients (`rows`: coefficient rows that may be non-zero). */
export function inverseDct(c: Float64Array, nx: number, ny: number, rows: number, tmp: Float64Array, out: Uint8Array, o: number, stride: number): void {
  if (nx === 4 && ny === 4) idct4(c, out, o, stride);
  else if (nx === 3 && ny === 3) idct3(c, out, o, stride);
  else if (nx === 6 && ny === 6) idct6(c, out, o, stride);
  else idctN(c, nx, ny, rows, tmp, out, o, stride);
}
