/** @module The built-in streaming scanner: the EICAR test signature anywhere in an object, and executables or scripts posing as media. */
import { checkLength, type ScanInfo, type ScanSession, type Scanner, type ScanVerdict } from './scanner';

/** The 68-byte EICAR anti-virus test string (https://www.eicar.org/download-anti-malware-testfile/). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export const EICAR_SIGNATURE = 'Eicar-Test-Signature';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));

const EICAR_BYTES = ascii(EICAR);
const SIG_LENGTH = EICAR_BYTES.length;
const SIG_LAST = EICAR_BYTES[SIG_LENGTH - 1]!;
/** A match that straddles a chunk boundary has at most this many bytes in the earlier chunk. */
const CARRY = SIG_LENGTH - 1;

/**
 * How many leading bytes the structural checks look at: magic bytes at offset 0, markup anywhere
 * in this window. Browsers sniff only the first 512 bytes or so, but a file may be cut, embedded
 * or served by other software later: 64 KiB costs one small buffer per scan.
 */
export const HEAD_BYTES = 64 * 1024;

/**
 * Whether `hay` contains the signature. Anchored on its last byte, '*', which occurs nowhere else
 * in it: `indexOf` on a typed array is a native byte search, so JS runs only at a '*', and after
 * a '*' that ends no match the next match cannot end before 68 bytes later (it would have to
 * hold this '*' at a place where the signature has none). So the work is at most one compare per
 * byte whatever the content. Measured in workerd with 64 KiB chunks: ~2 GiB/s on random data,
 * ~0.85 GiB/s on data built to be slow (back-to-back near misses). A skip-table search
 * (Horspool) was faster on random data but fell to ~0.35 GiB/s on a file of one repeated 'H'.
 */
function containsSignature(hay: Uint8Array): boolean {
  for (let last = hay.indexOf(SIG_LAST, SIG_LENGTH - 1); last !== -1; last = hay.indexOf(SIG_LAST, last + SIG_LENGTH)) {
    const start = last - (SIG_LENGTH - 1);
    let i = 0;
    while (i < SIG_LENGTH - 1 && hay[start + i] === EICAR_BYTES[i]) i++;
    if (i === SIG_LENGTH - 1) return true;
  }
  return false;
}

/**
 * Finds the signature in a stream chunk by chunk in constant memory: each chunk is searched on
 * its own, and the seam with the previous chunk is searched in a small window made of the last
 * 67 bytes seen and the first 67 bytes of the new chunk.
 */
export class SignatureMatcher {
  private readonly tail = new Uint8Array(CARRY);
  private tailLength = 0;
  private readonly seam = new Uint8Array(2 * CARRY);

  /** Feeds the next chunk; true once the signature has been seen (in it or across the seam). */
  push(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return false;
    if (this.tailLength > 0) {
      const lead = Math.min(chunk.length, CARRY);
      this.seam.set(this.tail.subarray(0, this.tailLength));
      this.seam.set(chunk.subarray(0, lead), this.tailLength);
      if (containsSignature(this.seam.subarray(0, this.tailLength + lead))) return true;
    }
    if (containsSignature(chunk)) return true;
    if (chunk.length >= CARRY) {
      this.tail.set(chunk.subarray(chunk.length - CARRY));
      this.tailLength = CARRY;
    } else {
      // A short chunk: keep the newest bytes of the old tail in front of it.
      const keep = Math.min(CARRY - chunk.length, this.tailLength);
      this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
      this.tail.set(chunk, keep);
      this.tailLength = keep + chunk.length;
    }
    return false;
  }
}

/** Declared types that must never be executables or markup: what the pipeline serves as media. */
const isMediaType = (declaredType: string): boolean => {
  const type = declaredType.split(';')[0]!.trim().toLowerCase();
  return type.startsWith('image/') || type.startsWith('video/') || type.startsWith('audio/') || type === 'application/pdf';
};

/** Formats that run as programs, recognised by their first bytes. */
const LEADING_MAGIC: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['Structure.Executable.PE', [0x4d, 0x5a]], // "MZ": DOS/PE
  ['Structure.Executable.ELF', [0x7f, 0x45, 0x4c, 0x46]],
  ['Structure.Executable.MachO', [0xfe, 0xed, 0xfa, 0xce]], // 32-bit, big-endian
  ['Structure.Executable.MachO', [0xfe, 0xed, 0xfa, 0xcf]], // 64-bit, big-endian
  ['Structure.Executable.MachO', [0xce, 0xfa, 0xed, 0xfe]], // 32-bit, little-endian
  ['Structure.Executable.MachO', [0xcf, 0xfa, 0xed, 0xfe]], // 64-bit, little-endian
  ['Structure.Executable.MachO', [0xca, 0xfe, 0xba, 0xbe]], // universal ("fat") binary, also a Java class
  ['Structure.Script.Shebang', [0x23, 0x21]], // "#!"
];

/** Markup a browser could be tricked into running if the file were ever served or sniffed as HTML. */
const MARKUP: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['Structure.Script.HTML', ascii('<script')],
  ['Structure.Script.HTML', ascii('<html')],
  ['Structure.Script.PHP', ascii('<?php')],
  ['Structure.Script.SVG', ascii('<svg')],
];

const lower = (byte: number): number => (byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);

/** Case-insensitive search for a lower-case ASCII needle that starts with a non-letter. */
function containsFolded(hay: Uint8Array, needle: Uint8Array): boolean {
  const lastStart = hay.length - needle.length;
  for (let at = hay.indexOf(needle[0]!); at !== -1 && at <= lastStart; at = hay.indexOf(needle[0]!, at + 1)) {
    let i = 1;
    while (i < needle.length && lower(hay[at + i]!) === needle[i]) i++;
    if (i === needle.length) return true;
  }
  return false;
}

/**
 * The structural finding for an object's first bytes, or null. Only media declared types are
 * checked: an executable or a page is what an attacker hides behind an image, video or PDF.
 * Magic bytes count only at offset 0; markup anywhere in the first HEAD_BYTES (64 KiB), well
 * past where content-sniffing browsers look.
 */
export function structuralFinding(head: Uint8Array, declaredType: string): string | null {
  if (!isMediaType(declaredType)) return null;
  for (const [name, magic] of LEADING_MAGIC) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return name;
  }
  const window = head.subarray(0, HEAD_BYTES);
  for (const [name, needle] of MARKUP) if (containsFolded(window, needle)) return name;
  return null;
}

/**
 * Scans every byte for EICAR and, when the scan starts at the object's first byte, the head for
 * structure; no bindings, no network.
 */
export class BuiltinScanner implements Scanner {
  readonly name = 'builtin';
  readonly overlap = CARRY;

  async open(info: ScanInfo): Promise<ScanSession> {
    const matcher = new SignatureMatcher();
    const atStart = (info.offset ?? 0) === 0;
    const head = new Uint8Array(atStart ? HEAD_BYTES : 0);
    let headLength = 0;
    let headChecked = !atStart;
    let seen = 0;
    const finding = (signature: string): ScanVerdict => ({ clean: false, scanner: this.name, signature });
    const checkHead = () => {
      headChecked = true;
      const structural = structuralFinding(head.subarray(0, headLength), info.declaredType);
      return structural ? finding(structural) : null;
    };
    return {
      push: async (chunk) => {
        seen += chunk.length;
        if (matcher.push(chunk)) return finding(EICAR_SIGNATURE);
        if (headChecked) return null;
        const take = Math.min(chunk.length, HEAD_BYTES - headLength);
        head.set(chunk.subarray(0, take), headLength);
        headLength += take;
        return headLength === HEAD_BYTES ? checkHead() : null;
      },
      finish: async () => {
        const structural = headChecked ? null : checkHead();
        if (structural) return structural;
        checkLength(this.name, seen, info.size);
        return { clean: true, scanner: this.name };
      },
      abort: () => {},
    };
  }
}
