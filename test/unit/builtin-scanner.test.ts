/** @module Tests of the built-in scanner (EICAR anywhere, across any chunk boundary; structural checks) and of pumpInto (one read, several scanners). */
import { describe, expect, it } from 'vitest';
import { BuiltinScanner, EICAR, HEAD_BYTES, structuralFinding } from '../../src/media/builtin-scanner';
import { pumpInto, ScannerUnavailableError, scanStream, type ScanSession, type ScanVerdict } from '../../src/media/scanner';
import { seededBytes } from '../seeded-bytes';

const KiB = 1024;
const MiB = 1024 * KiB;
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
const EICAR_BYTES = ascii(EICAR);
const JPEG_HEAD = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0);

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

/** Deterministic noise (xorshift32) that starts like a JPEG, so runs never differ. */
function noise(size: number, seed = 7): Uint8Array {
  const bytes = seededBytes(size, seed);
  bytes.set(JPEG_HEAD.subarray(0, size));
  return bytes;
}

/** A stream that yields exactly these chunks, one per pull. */
function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** Cuts `bytes` at the given offsets (ascending). */
const cutAt = (bytes: Uint8Array, ...offsets: number[]): Uint8Array[] =>
  [0, ...offsets].map((start, i) => bytes.subarray(start, offsets[i] ?? bytes.length));

/** Cuts `bytes` into pieces of `size`. */
const pieces = (bytes: Uint8Array, size: number): Uint8Array[] =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

const scanner = new BuiltinScanner();
const scan = (chunks: readonly Uint8Array[], declaredType = 'image/jpeg'): Promise<ScanVerdict> =>
  scanStream(scanner, streamOf(chunks), { size: chunks.reduce((sum, c) => sum + c.length, 0), declaredType });

const eicarFound: ScanVerdict = { clean: false, scanner: 'builtin', signature: 'Eicar-Test-Signature' };
const clean: ScanVerdict = { clean: true, scanner: 'builtin' };

describe('BuiltinScanner: EICAR', () => {
  it('knows the 68-byte standard string', () => {
    expect(EICAR_BYTES.length).toBe(68);
    expect(EICAR.startsWith('X5O!P%@AP[4\\PZX54')).toBe(true);
  });

  it.each([
    ['alone', [EICAR_BYTES], 'text/plain'],
    ['alone, declared as an image', [EICAR_BYTES], 'image/jpeg'],
    ['followed by the usual trailing whitespace', [concat(EICAR_BYTES, ascii('\r\n  '))], 'text/plain'],
    ['at the very end of a file', [concat(noise(1000), EICAR_BYTES)], 'image/jpeg'],
    ['after a partial copy of itself', [concat(noise(100), ascii('X5O!P%@AP[4'), EICAR_BYTES)], 'image/jpeg'],
    ['right after a stray "*"', [concat(ascii('a'.repeat(100)), ascii('*'), EICAR_BYTES)], 'image/jpeg'],
    ['after a run of "*"', [concat(noise(100), ascii('*'.repeat(500)), EICAR_BYTES)], 'image/jpeg'],
    ['right after a near miss that ends in "*"', [concat(ascii('a'.repeat(100)), ascii(EICAR.replace('H+H*', 'h+H*')), EICAR_BYTES)], 'image/jpeg'],
    ['in 1-byte chunks', pieces(concat(noise(300), EICAR_BYTES, noise(300, 9)), 1), 'image/jpeg'],
    ['in 3-byte chunks', pieces(concat(noise(301), EICAR_BYTES, noise(300, 9)), 3), 'image/jpeg'],
  ])('is found %s', async (_name, chunks, declaredType) => {
    expect(await scan(chunks, declaredType)).toEqual(eicarFound);
  });

  it('is found mid-file, past the first chunk of a multi-MiB stream', async () => {
    const bytes = noise(4 * MiB);
    bytes.set(EICAR_BYTES, 2 * MiB + 12_345);
    expect(await scan(pieces(bytes, 64 * KiB))).toEqual(eicarFound);
  });

  it('is found when split across two chunks at every offset', async () => {
    const start = 100;
    const bytes = concat(noise(start), EICAR_BYTES, noise(100, 3));
    for (let split = 1; split < EICAR_BYTES.length; split++) {
      expect(await scan(cutAt(bytes, start + split)), `split after byte ${split}`).toEqual(eicarFound);
    }
  });

  it('is found when split across three chunks at every pair of offsets', async () => {
    const start = 100;
    const bytes = concat(noise(start), EICAR_BYTES, noise(100, 3));
    for (let first = 1; first < EICAR_BYTES.length - 1; first++) {
      for (let second = first + 1; second < EICAR_BYTES.length; second++) {
        expect(await scan(cutAt(bytes, start + first, start + second)), `splits ${first}, ${second}`).toEqual(eicarFound);
      }
    }
  });

  it('is found after many short chunks that shift the carried tail', async () => {
    const bytes = concat(noise(200), EICAR_BYTES, noise(50, 5));
    const chunks: Uint8Array[] = [];
    // Uneven short chunks (1, 2, … 9, 1, 2, …) so the seam lands everywhere.
    for (let offset = 0, size = 1; offset < bytes.length; offset += size, size = (size % 9) + 1) {
      chunks.push(bytes.subarray(offset, offset + size));
    }
    expect(await scan(chunks)).toEqual(eicarFound);
  });

  it('passes clean multi-MiB data', async () => {
    expect(await scan(pieces(noise(5 * MiB, 11), 64 * KiB))).toEqual(clean);
  });

  it('passes an empty object', async () => {
    expect(await scan([], 'image/jpeg')).toEqual(clean);
  });

  const nearMisses: Array<[string, Uint8Array]> = [
    ['the last byte changed', concat(EICAR_BYTES.subarray(0, 67), ascii('+'))],
    ['the first byte changed', concat(ascii('Y'), EICAR_BYTES.subarray(1))],
    ['a middle byte changed', ascii(EICAR.replace('STANDARD', 'STANDART'))],
    ['one byte missing', concat(EICAR_BYTES.subarray(0, 30), EICAR_BYTES.subarray(31))],
    ['lower case', ascii(EICAR.toLowerCase())],
    ['67 bytes at the end of the stream', EICAR_BYTES.subarray(0, 67)],
    ['a byte inserted', concat(EICAR_BYTES.subarray(0, 40), ascii(' '), EICAR_BYTES.subarray(40))],
    ['many prefixes of itself', ascii('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR'.repeat(50))],
  ];
  it.each(nearMisses)('passes a near miss: %s', async (_name, miss) => {
    const bytes = concat(noise(500), miss, noise(500, 2));
    expect(await scan([bytes])).toEqual(clean);
    expect(await scan(pieces(bytes, 7)), 'in 7-byte chunks').toEqual(clean);
  });
});

describe('BuiltinScanner: structure', () => {
  const withNoise = (head: Uint8Array | string) => concat(typeof head === 'string' ? ascii(head) : head, noise(2000).subarray(4));
  const cases: Array<[string, Uint8Array, string, string | null]> = [
    ['a PE executable as a PNG', withNoise(ascii('MZ\x90\x00\x03\x00')), 'image/png', 'Structure.Executable.PE'],
    ['an ELF binary as an MP4', withNoise(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1)), 'video/mp4', 'Structure.Executable.ELF'],
    ['a 64-bit Mach-O as a PDF', withNoise(Uint8Array.of(0xcf, 0xfa, 0xed, 0xfe)), 'application/pdf', 'Structure.Executable.MachO'],
    ['a big-endian Mach-O as a GIF', withNoise(Uint8Array.of(0xfe, 0xed, 0xfa, 0xce)), 'image/gif', 'Structure.Executable.MachO'],
    ['a universal binary as a WebP', withNoise(Uint8Array.of(0xca, 0xfe, 0xba, 0xbe)), 'image/webp', 'Structure.Executable.MachO'],
    ['a shell script as a JPEG', withNoise('#!/bin/sh\nrm -rf /\n'), 'image/jpeg', 'Structure.Script.Shebang'],
    ['an executable with a parameterised type', withNoise('MZ'), 'IMAGE/JPEG; q=1', 'Structure.Executable.PE'],
    ['an HTML page as a JPEG', ascii('<html><body>hi</body></html>'), 'image/jpeg', 'Structure.Script.HTML'],
    ['upper-case markup after a doctype', ascii('\n  <!DOCTYPE html>\n<HTML><BODY>'), 'image/png', 'Structure.Script.HTML'],
    ['a script in a GIF comment (polyglot)', withNoise('GIF89a\x01\x00\x01\x00<ScRiPt>alert(1)</script>'), 'image/gif', 'Structure.Script.HTML'],
    ['PHP in a JPEG comment', withNoise(concat(JPEG_HEAD, ascii('\x00\x10JFIF <?php system($_GET[1]); ?>'))), 'image/jpeg', 'Structure.Script.PHP'],
    ['markup at the last place the head covers', concat(noise(HEAD_BYTES - 7), ascii('<script'), noise(100)), 'image/jpeg', 'Structure.Script.HTML'],
    ['markup just past the head', concat(noise(HEAD_BYTES - 6), ascii('<script'), noise(100)), 'image/jpeg', null],
    ['an executable not declared as media', withNoise('MZ'), 'application/octet-stream', null],
    ['markup declared as HTML', ascii('<html></html>'), 'text/html', null],
    ['a plain JPEG', noise(3000), 'image/jpeg', null],
    ['a PDF with its usual dictionaries', withNoise('%PDF-1.7\n1 0 obj << /Type /Catalog >>\n'), 'application/pdf', null],
    ['an MP4', withNoise(Uint8Array.of(0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d)), 'video/mp4', null],
    ['"MZ" not at the start', concat(JPEG_HEAD, ascii('MZ'), noise(100)), 'image/jpeg', null],
  ];

  it.each(cases)('%s', async (_name, bytes, declaredType, expected) => {
    expect(structuralFinding(bytes, declaredType)).toBe(expected);
    const verdict: ScanVerdict = expected ? { clean: false, scanner: 'builtin', signature: expected } : clean;
    expect(await scan([bytes], declaredType)).toEqual(verdict);
    // The head can arrive in tiny chunks; some cases (the bare HTML pages) are shorter than the head.
    expect(await scan(pieces(bytes, 5), declaredType), 'in 5-byte chunks').toEqual(verdict);
  });
});

describe('BuiltinScanner: stream handling', () => {
  it('throws ScannerUnavailableError when the stream is shorter than the object', async () => {
    const bytes = noise(1000);
    await expect(scanStream(scanner, streamOf([bytes]), { size: 1001, declaredType: 'image/jpeg' })).rejects.toBeInstanceOf(
      ScannerUnavailableError,
    );
  });

  it('stops reading and cancels the source once it has a finding', async () => {
    let pulls = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(pulls === 2 ? concat(noise(10), EICAR_BYTES) : noise(1000, pulls));
        if (pulls === 100) controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await scanStream(scanner, body, { size: 100_000, declaredType: 'image/jpeg' })).toEqual(eicarFound);
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(100);
  });

  it('passes a read error through unchanged', async () => {
    const failure = new Error('R2 read failed');
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(failure);
      },
    });
    await expect(scanStream(scanner, body, { size: 10, declaredType: 'image/jpeg' })).rejects.toBe(failure);
  });
});

describe('BuiltinScanner: a slice after the first', () => {
  it('skips the structural check when the scan does not start at the first byte (markup deep in a file is not a head)', async () => {
    const bytes = concat(ascii('<html><script>'), noise(1000));
    const info = { size: bytes.length, declaredType: 'image/jpeg' };
    expect((await scanStream(scanner, streamOf([bytes]), info)).clean).toBe(false);
    expect(await scanStream(scanner, streamOf([bytes]), { ...info, offset: 5 * MiB })).toEqual(clean);
  });

  it('still finds EICAR in a later slice', async () => {
    const bytes = concat(noise(500), EICAR_BYTES);
    expect(await scanStream(scanner, streamOf(pieces(bytes, 100)), { size: bytes.length, declaredType: 'image/jpeg', offset: MiB })).toEqual(eicarFound);
  });
});

describe('pumpInto: one read feeds several scanners', () => {
  /** A session with a fixed answer at the end that records what it was fed and whether it was aborted. */
  const fixed = (answer: ScanVerdict | Error) => {
    const state = { bytes: 0, finished: false, aborted: false };
    const session: ScanSession = {
      push: async (chunk) => {
        state.bytes += chunk.length;
        return null;
      },
      finish: async () => {
        state.finished = true;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      abort: () => void (state.aborted = true),
    };
    return Object.assign(session, { state });
  };
  const info = { size: 1000, declaredType: 'image/jpeg' };

  it('feeds every chunk to every session and to the hash, in one read', async () => {
    const builtin = await scanner.open(info);
    const other = fixed({ clean: true, scanner: 'other' });
    let hashed = 0;
    expect(await pumpInto([builtin, other], streamOf(pieces(noise(1000), 64)), (chunk) => void (hashed += chunk.length))).toBeNull();
    expect(other.state).toEqual({ bytes: 1000, finished: true, aborted: false });
    expect(hashed).toBe(1000);
  });

  it('stops at the first finding, cancels the read and aborts the other sessions', async () => {
    const builtin = await scanner.open({ ...info, size: 100_000 });
    const later = fixed({ clean: true, scanner: 'later' });
    let cancelled = false;
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(pulls === 2 ? concat(noise(10), EICAR_BYTES) : noise(1000, pulls));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await pumpInto([builtin, later], body)).toEqual(eicarFound);
    expect(cancelled).toBe(true);
    expect(later.state.aborted).toBe(true);
    expect(later.state.finished).toBe(false);
  });

  it("reports a later scanner's finding when the earlier ones pass", async () => {
    const finding: ScanVerdict = { clean: false, scanner: 'daemon', signature: 'Win.Test.Thing' };
    expect(await pumpInto([await scanner.open(info), fixed(finding)], streamOf([noise(1000)]))).toEqual(finding);
  });

  it('fails when any scanner is unavailable (fail closed), and frees the others', async () => {
    const down = fixed(new ScannerUnavailableError('daemon', 'connection refused'));
    const after = fixed({ clean: true, scanner: 'after' });
    await expect(pumpInto([await scanner.open(info), down, after], streamOf([noise(1000)]))).rejects.toBeInstanceOf(ScannerUnavailableError);
    expect(after.state.aborted).toBe(true);
  });
});
