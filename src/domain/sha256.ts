/**
 * @module SHA-256 (FIPS 180-4) in plain TypeScript whose state can be saved and loaded, so one
 * digest can span several Worker invocations. Web Crypto's digests cannot save their state, and
 * WASM hashers that compile their module at run time (hash-wasm) are refused by Workers
 * ("Wasm code generation disallowed by embedder"). The state is 8 words, < 64 buffered bytes and
 * the length: a few hundred bytes of JSON.
 */
import { decodeBase64, encodeBase64Url } from './base64url';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** What `save()` returns and `load()` takes: plain JSON. */
export interface Sha256State {
  /** The eight chaining words. */
  h: number[];
  /** Bytes hashed so far. */
  length: number;
  /** The bytes of the current, incomplete block (base64url, < 64 bytes). */
  pending: string;
}

export class Sha256 {
  private readonly h = Int32Array.from(INITIAL);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);
  private blockLength = 0;
  private length = 0;

  static load(state: Sha256State): Sha256 {
    const hasher = new Sha256();
    const pending = decodeBase64(state.pending);
    if (!pending || state.h.length !== 8 || pending.length >= 64 || !Number.isSafeInteger(state.length) || state.length % 64 !== pending.length) {
      throw new Error('not a SHA-256 state');
    }
    hasher.h.set(state.h);
    hasher.block.set(pending);
    hasher.blockLength = pending.length;
    hasher.length = state.length;
    return hasher;
  }

  save(): Sha256State {
    return { h: Array.from(this.h), length: this.length, pending: encodeBase64Url(this.block.subarray(0, this.blockLength)) };
  }

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.length;
  }

  update(data: Uint8Array): this {
    let at = 0;
    this.length += data.length;
    if (this.blockLength > 0) {
      const take = Math.min(64 - this.blockLength, data.length);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      at = take;
      if (this.blockLength < 64) return this;
      this.compress(this.block, 0, 64);
      this.blockLength = 0;
    }
    const whole = at + Math.floor((data.length - at) / 64) * 64;
    if (whole > at) this.compress(data, at, whole);
    if (whole < data.length) {
      this.block.set(data.subarray(whole));
      this.blockLength = data.length - whole;
    }
    return this;
  }

  /** The digest (the hasher is spent afterwards). */
  digest(): Uint8Array {
    const bits = this.length * 8;
    const tail = new Uint8Array(this.blockLength < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, this.blockLength));
    tail[this.blockLength] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(tail.length - 4, bits >>> 0);
    this.compress(tail, 0, tail.length);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setInt32(i * 4, this.h[i]!);
    return out;
  }

  /** Runs the compression function over whole 64-byte blocks of `p` from `start` to `end`. */
  private compress(p: Uint8Array, start: number, end: number): void {
    const w = this.w;
    const h = this.h;
    let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!;
    for (let pos = start; pos < end; pos += 64) {
      for (let i = 0; i < 16; i++) {
        const j = pos + i * 4;
        w[i] = (p[j]! << 24) | (p[j + 1]! << 16) | (p[j + 2]! << 8) | p[j + 3]!;
      }
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15]!;
        const y = w[i - 2]!;
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
      }
      let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
  }
}
