/** @module Tests of ClamdScanner against a real clamd (started by test/setup/clamd.ts) over `cloudflare:sockets`. */
import { describe, expect, inject, it } from 'vitest';
import { ClamdScanner } from '../src/media/clamd-scanner';
import { ScannerUnavailableError, scanStream, type ScanVerdict } from '../src/media/scanner';


const KiB = 1024;
const MiB = 1024 * KiB;
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const EICAR_BYTES = Uint8Array.from(EICAR, (char) => char.charCodeAt(0));
const host = '127.0.0.1';

/** Deterministic noise (xorshift32), a word at a time so multi-MiB files are cheap to make. */
function noise(size: number, seed = 7): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, size);
}

/** A stream of `bytes` in chunks of `size`, one per pull (as an R2 body arrives). */
function streamOf(bytes: Uint8Array, size = 64 * KiB): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + size));
      offset += size;
    },
  });
}

const clamd = (options: { port?: number; timeoutMs?: number; chunkSize?: number } = {}) =>
  new ClamdScanner({ host, port: inject('clamdPort'), ...options });
const scanBytes = (scanner: ClamdScanner, bytes: Uint8Array, streamChunk?: number): Promise<ScanVerdict> =>
  scanStream(scanner, streamOf(bytes, streamChunk), { size: bytes.length, declaredType: 'application/pdf' });

const expectEicar = (verdict: ScanVerdict) => {
  expect(verdict.clean).toBe(false);
  expect(verdict.scanner).toBe('clamd');
  expect(!verdict.clean && verdict.signature).toContain('Eicar');
};

describe('ClamdScanner against a real clamd', () => {
  it('finds EICAR on its own', async () => {
    expectEicar(await scanBytes(clamd(), EICAR_BYTES));
  });

  it.each([
    ['deep in a multi-MiB file', 3 * MiB + 12_345],
    ['across an INSTREAM chunk boundary', 5 * 64 * KiB - 30],
  ])('finds EICAR %s', async (_name, offset) => {
    const bytes = noise(6 * MiB);
    bytes.set(EICAR_BYTES, offset);
    expectEicar(await scanBytes(clamd(), bytes));
  });

  it('finds EICAR when stream chunks are bigger than INSTREAM frames (split) and smaller (gathered), across frame seams', async () => {
    const bytes = noise(2 * MiB, 3);
    bytes.set(EICAR_BYTES, 11 * 100_000 - 30); // across the seam of the 11th and 12th frame
    expectEicar(await scanBytes(clamd({ chunkSize: 100_000 }), bytes, MiB));
    expectEicar(await scanBytes(clamd({ chunkSize: 100_000 }), bytes, 4 * KiB + 3));
  });

  it('passes a clean multi-MiB file', async () => {
    expect(await scanBytes(clamd(), noise(6 * MiB, 5))).toEqual({ clean: true, scanner: 'clamd' });
  });

  it('passes a near miss', async () => {
    const bytes = noise(100 * KiB);
    bytes.set(EICAR_BYTES.subarray(0, 67), 50 * KiB);
    expect(await scanBytes(clamd(), bytes)).toEqual({ clean: true, scanner: 'clamd' });
  });

  it('handles concurrent scans on separate connections', async () => {
    const infected = noise(MiB, 9);
    infected.set(EICAR_BYTES, 700 * KiB);
    const scanner = clamd();
    const verdicts = await Promise.all([
      scanBytes(scanner, noise(MiB, 8)),
      scanBytes(scanner, infected),
      scanBytes(scanner, noise(MiB, 10)),
    ]);
    expect(verdicts[0]).toEqual({ clean: true, scanner: 'clamd' });
    expectEicar(verdicts[1]!);
    expect(verdicts[2]).toEqual({ clean: true, scanner: 'clamd' });
  });
});

describe('ClamdScanner when it cannot get a verdict', () => {
  it('throws ScannerUnavailableError when nothing listens on the port', async () => {
    const error = await scanBytes(clamd({ port: inject('closedPort') }), EICAR_BYTES).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScannerUnavailableError);
    expect(String(error)).toMatch(/connect/);
  });

  it('throws ScannerUnavailableError when the server never answers', async () => {
    const error = await scanBytes(clamd({ port: inject('silentPort'), timeoutMs: 200 }), noise(10 * KiB)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScannerUnavailableError);
    expect(String(error)).toMatch(/timed out/);
  });

  it('throws ScannerUnavailableError when the object exceeds StreamMaxLength', async () => {
    const bytes = noise(inject('clamdStreamMaxLength') + MiB, 4);
    const error = await scanBytes(clamd(), bytes).catch((e: unknown) => e);
    // clamd says "size limit exceeded" and hangs up; under load the hang-up can reach us first.
    expect(error).toBeInstanceOf(ScannerUnavailableError);
    expect(String(error)).toMatch(/size limit exceeded|closed|reset|broken|write|connection lost/i);
  });

  it('throws ScannerUnavailableError when the stream is shorter than the object, without asking clamd', async () => {
    const scan = scanStream(clamd(), streamOf(EICAR_BYTES), { size: 1000, declaredType: 'application/pdf' });
    await expect(scan).rejects.toBeInstanceOf(ScannerUnavailableError);
  });

  it('passes a read error of the object through unchanged', async () => {
    const failure = new Error('R2 read failed');
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(failure);
        sent = true;
        controller.enqueue(noise(1000));
      },
    });
    await expect(scanStream(clamd(), body, { size: 5000, declaredType: 'application/pdf' })).rejects.toBe(failure);
  });

  it('still answers after all of the above (every socket was closed)', async () => {
    expectEicar(await scanBytes(clamd(), EICAR_BYTES));
  });

  it.each([
    ['port 0', { port: 0 }],
    ['a negative timeout', { timeoutMs: -1 }],
    ['a zero chunk size', { chunkSize: 0 }],
    ['a chunk size over 64 MiB (each frame is allocated)', { chunkSize: 64 * MiB + 1 }],
  ])('refuses %s', (_name, options) => {
    expect(() => clamd(options)).toThrow(RangeError);
  });
});
