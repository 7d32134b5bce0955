/**
 * @module Validation before finalization: the assembled object's magic bytes against the declared
 * type and the allowlist, one streaming pass for the SHA-256 and the built-in scanner, then any
 * other scanners (clamd); for videos, the container's metadata through ranged reads. Never reads
 * the whole object into memory.
 */
import { loadConfig } from '../config';
import { looksComplete, TAIL_BYTES } from '../domain/completeness';
import { matchesDeclaredType, SNIFF_BYTES, sniffType } from '../domain/sniff';
import { toHex } from '../domain/base64url';
import type { Env } from '../env';
import { BuiltinScanner } from '../media/builtin-scanner';
import { ClamdScanner } from '../media/clamd-scanner';
import { scanAll, type Scanner } from '../media/scanner';
import { readVideoMetadata, VIDEO_CONTAINERS } from '../media/video-metadata';
import type { MediaMetadata, ProcessMessage } from '../protocol/messages';
import type { R2Store } from '../storage/r2-store';

export type Validation =
  | { ok: true; detectedType: string; sha256: string; scannedBy: string; media?: MediaMetadata; mediaSkipped?: string }
  | { ok: false; code: string; message: string };

/** Scanners after the built-in one, from configuration (CLAMD_HOST / CLAMD_PORT). */
export function extraScanners(env: Env): Scanner[] {
  const clamd = loadConfig(env).clamd;
  return clamd ? [new ClamdScanner(clamd)] : [];
}

/**
 * Splits `body` in two: one branch piped natively into SHA-256 (no JS per chunk), the other for a
 * scanner to read. The scanner is faster than storage, so the tee never holds much.
 */
function hashing(body: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; digest: Promise<ArrayBuffer> } {
  const [forHash, forScan] = body.tee();
  const digestStream = new crypto.DigestStream('SHA-256');
  const piped = forHash.pipeTo(digestStream);
  const digest = piped.then(() => digestStream.digest);
  digest.catch(() => undefined); // read only when the scan passes; never an unhandled rejection
  return { stream: forScan, digest };
}

export async function validateUpload(message: ProcessMessage, store: R2Store, env: Env): Promise<Validation> {
  const head = await store.readHead(message.key, SNIFF_BYTES);
  if (!head) return { ok: false, code: 'ERR_OBJECT_MISSING', message: 'The assembled file is missing from storage.' };
  const detected = sniffType(head);
  if (!detected || !loadConfig(env).allowedTypes.includes(detected) || !matchesDeclaredType(message.declaredType, detected)) {
    return {
      ok: false,
      code: 'ERR_TYPE_MISMATCH',
      message: `The file was declared ${message.declaredType} but its content is ${detected ?? 'of an unknown or disallowed type'}.`,
    };
  }
  const tail = await store.readTail(message.key, Math.min(TAIL_BYTES, message.size));
  if (tail && !looksComplete(detected, head, tail, message.size)) {
    return { ok: false, code: 'ERR_IMAGE_TRUNCATED', message: `The ${detected} file ends before its format says it should: it looks cut off.` };
  }
  // A video's index, read with a few ranged reads: a cut-off or mislabelled container stops here.
  let video: { media?: MediaMetadata; mediaSkipped?: string } = {};
  if (VIDEO_CONTAINERS.has(detected)) {
    const source = { readRange: (offset: number, length: number) => store.readRange(message.key, offset, length) };
    const verdict = await readVideoMetadata(source, message.size, detected, message.declaredType);
    if (!verdict.ok) return verdict;
    video = 'media' in verdict ? { media: verdict.media } : { mediaSkipped: verdict.skipped };
  }
  const info = { size: message.size, declaredType: message.declaredType };

  // One pass: SHA-256 and the built-in scanner read the same bytes.
  const object = await store.getStream(message.key);
  if (!object) return { ok: false, code: 'ERR_OBJECT_MISSING', message: 'The assembled file is missing from storage.' };
  const { stream, digest } = hashing(object);
  const builtin = await new BuiltinScanner().scan(stream, info);
  if (!builtin.clean) return { ok: false, code: 'ERR_MALWARE_FOUND', message: `${builtin.signature} (${builtin.scanner})` };
  const sha256 = toHex(await digest);
  if (message.sha256 && message.sha256 !== sha256) {
    return { ok: false, code: 'ERR_CHECKSUM_MISMATCH', message: `The file's SHA-256 is ${sha256}, not the ${message.sha256} declared.` };
  }

  let scannedBy = builtin.scanner;
  const others = extraScanners(env);
  if (others.length > 0) {
    // Throws ScannerUnavailableError when a scanner cannot answer: the job retries, then fails closed.
    const verdict = await scanAll(others, async () => (await store.getStream(message.key)) ?? new ReadableStream(), info);
    if (!verdict.clean) return { ok: false, code: 'ERR_MALWARE_FOUND', message: `${verdict.signature} (${verdict.scanner})` };
    scannedBy += `+${verdict.scanner}`;
  }
  return { ok: true, detectedType: detected, sha256, scannedBy, ...video };
}
