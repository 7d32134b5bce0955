/** @module The malware-scanner interface shared by every scanner, its error type, and `scanAll` to run several over one object. */

/** A scanner's answer about one object. A finding carries the signature (or rule) that matched. */
export type ScanVerdict = { clean: true; scanner: string } | { clean: false; scanner: string; signature: string };

/** What a scanner may use besides the bytes: the stored size and the type the uploader declared. */
export type ScanInfo = { size: number; declaredType: string };

/**
 * One way of scanning an object. `scan` consumes `body` to the end (or cancels it once it has a
 * finding). It returns `{ clean: false }` only for a real finding; anything transient (daemon
 * down, timeout, a stream that ends early) throws `ScannerUnavailableError` so the caller
 * retries and, after the last try, fails closed instead of serving an unscanned file.
 */
export interface Scanner {
  readonly name: string;
  scan(body: ReadableStream<Uint8Array>, info: ScanInfo): Promise<ScanVerdict>;
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
 * Runs the scanners one after another, each over its own fresh stream from `makeStream` (one
 * stream cannot be read twice, and `tee()` would buffer without bound whenever one reader is
 * slower), and returns the first finding. Order matters: put the cheap built-in scanner first so
 * a finding skips the network round trip. When all pass, the verdict names every scanner that ran.
 * Errors propagate unchanged: one unavailable scanner makes the whole scan unavailable.
 */
export async function scanAll(
  scanners: readonly Scanner[],
  makeStream: () => Promise<ReadableStream<Uint8Array>>,
  info: ScanInfo,
): Promise<ScanVerdict> {
  if (scanners.length === 0) throw new Error('scanAll needs at least one scanner');
  for (const scanner of scanners) {
    const verdict = await scanner.scan(await makeStream(), info);
    if (!verdict.clean) return verdict;
  }
  return { clean: true, scanner: scanners.map((scanner) => scanner.name).join('+') };
}

/**
 * Throws unavailable when a scanner saw a different number of bytes than the object has: a
 * truncated read must not pass as a clean scan of the whole object.
 */
export function checkLength(scanner: string, seen: number, expected: number): void {
  if (seen !== expected) {
    throw new ScannerUnavailableError(scanner, `the stream had ${seen} bytes but the object has ${expected}`);
  }
}
