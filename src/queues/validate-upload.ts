/**
 * @module Validation before finalization: the assembled object's magic bytes against the declared
 * type and the allowlist, one streaming pass for the SHA-256 and the built-in scanner, then any
 * other scanners (clamd). Never reads the whole object into memory.
 */
import { loadConfig } from '../config';
import { looksComplete, TAIL_BYTES } from '../domain/completeness';
import { matchesDeclaredType, SNIFF_BYTES, sniffType } from '../domain/sniff';
import { toHex } from '../domain/base64url';
import type { ReasonCode } from '../domain/errors';
import type { Env } from '../env';
import { BuiltinScanner } from '../media/builtin-scanner';
import { ClamdScanner } from '../media/clamd-scanner';
import { scanAll, type Scanner } from '../media/scanner';
import type { ProcessMessage } from '../protocol/messages';
import type { R2Store } from '../storage/r2-store';

export type Validation =
  | { ok: true; detectedType: string; sha256: string; scannedBy: string }
  | { ok: false; code: ReasonCode; message: string };

/** Scanners after the built-in one, from configuration (CLAMD_HOST / CLAMD_PORT). */
export function extraScanners(env: Env): Scanner[] {
  if (!env.CLAMD_HOST || !env.CLAMD_PORT) return [];
  return [new ClamdScanner({ host: env.CLAMD_HOST, port: Number(env.CLAMD_PORT) })];
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
  return { ok: true, detectedType: detected, sha256, scannedBy };
}
