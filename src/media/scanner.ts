/** @module The malware-scanner interface shared by every scanner, its error type, and `scanStream` to scan a whole stream with one. */

/** A scanner's answer about one object. A finding carries the signature (or rule) that matched. */
export type ScanVerdict = { clean: true; scanner: string } | { clean: false; scanner: string; signature: string };

/**
 * What a scan covers: `size` bytes starting at `offset` of an object (a whole object, or one
 * processing slice with the overlap before it), and the type the uploader declared.
 */
export type ScanInfo = { size: number; declaredType: string; offset?: number };

/**
 * One scan, fed chunk by chunk by whoever reads the bytes, so one read of an object (a slice of
 * it) serves the hash and every scanner. `push` answers a verdict as soon as it has a finding
 * (the reader then stops); `finish` answers after the last chunk and checks that exactly
 * `info.size` bytes came; `abort` ends a scan that will get no more bytes.
 */
export interface ScanSession {
  push(chunk: Uint8Array): Promise<ScanVerdict | null>;
  finish(): Promise<ScanVerdict>;
  abort(): void;
}

/**
 * One way of scanning. A finding is `{ clean: false }`, only for a real finding; anything
 * transient (daemon down, timeout, a stream that ends early) throws `ScannerUnavailableError` so
 * the caller retries and, after the last try, fails closed instead of serving an unscanned file.
 */
export interface Scanner {
  readonly name: string;
  /**
   * Bytes before a slice's start that a scan of that slice must see again, so a signature that
   * straddles two slices is still found whole in one of them.
   */
  readonly overlap: number;
  open(info: ScanInfo): Promise<ScanSession>;
}

/** A scanner could not give a verdict this time: retry later, never treat as clean. */
export class ScannerUnavailableError extends Error {
  override readonly name = 'ScannerUnavailableError';
  constructor(
    readonly scanner: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${scanner}: ${message}`, options);
  }
}

/**
 * Scans `body` to its end with several sessions at once (one read for all of them); the first
 * finding wins and cancels the read. Errors propagate unchanged: one unavailable scanner makes
 * the whole scan unavailable. `onChunk` sees every chunk too (e.g. the slice's hash).
 */
export async function pumpInto(
  sessions: readonly ScanSession[],
  body: ReadableStream<Uint8Array>,
  onChunk?: (chunk: Uint8Array) => void | Promise<void>,
): Promise<ScanVerdict | null> {
  const reader = body.getReader();
  let readAll = false;
  let settled = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const session of sessions) {
        const verdict = await session.push(value);
        if (verdict && !verdict.clean) return verdict;
      }
      await onChunk?.(value);
    }
    readAll = true;
    for (const session of sessions) {
      const verdict = await session.finish();
      if (!verdict.clean) return verdict;
    }
    settled = true;
    return null;
  } finally {
    // A finding or an error ends the read early: let the source stop, and free every scanner
    // that has not answered (abort after finish does nothing).
    if (!readAll) reader.cancel().catch(() => {});
    if (!settled) for (const session of sessions) session.abort();
  }
}

/** Scans one whole stream with one scanner. */
export async function scanStream(scanner: Scanner, body: ReadableStream<Uint8Array>, info: ScanInfo): Promise<ScanVerdict> {
  let session: ScanSession;
  try {
    session = await scanner.open(info);
  } catch (error) {
    body.cancel().catch(() => {});
    throw error;
  }
  return (await pumpInto([session], body)) ?? { clean: true, scanner: scanner.name };
}

/**
 * Throws unavailable when a scanner saw a different number of bytes than it was told to expect:
 * a truncated read must not pass as a clean scan.
 */
export function checkLength(scanner: string, seen: number, expected: number): void {
  if (seen !== expected) {
    throw new ScannerUnavailableError(scanner, `the stream had ${seen} bytes but the object has ${expected}`);
  }
}
