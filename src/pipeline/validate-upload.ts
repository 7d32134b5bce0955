/**
 * @module Validation before finalization: the assembled object's magic bytes against the declared
 * type and the allowlist, then the SHA-256 and every scanner (built-in, clamd) over every byte, in
 * slices of bounded size (one per invocation, progress saved in R2 between them, see
 * hash-scan-slice.ts); for videos, the container's metadata through ranged reads.
 * Never reads the whole object into memory.
 */
import { loadConfig } from '../config';
import { looksComplete, TAIL_BYTES } from '../domain/completeness';
import type { ReasonCode } from '../domain/errors';
import { matchesDeclaredType, sniffType } from '../domain/sniff';
import type { Env } from '../env';
import { BuiltinScanner, HEAD_BYTES, structuralFinding } from '../media/builtin-scanner';
import { ClamdScanner } from '../media/clamd-scanner';
import type { Scanner } from '../media/scanner';
import { readVideoMetadata, VIDEO_CONTAINERS } from '../media/video-metadata';
import type { MediaMetadata, ProcessMessage } from '../contracts/messages';
import type { R2Store } from '../storage/r2-store';
import { firstSliceState, hashAndScanSlice, ObjectChangedError } from './hash-scan-slice';
import { deleteSliceState, loadSliceState, saveSliceState, type SliceState } from './slice-state';

export type Validation =
  | { ok: true; detectedType: string; sha256: string; scannedBy: string; scannedBytes?: number; media?: MediaMetadata; mediaSkipped?: string }
  | { ok: false; code: ReasonCode; message: string };

/** A slice was hashed and scanned and its progress saved; the rest needs another invocation. */
export type ValidationContinues = { ok: 'continue'; bytes: number; scannedBytes: number; offset: number; slices: number };

/** Every byte goes through these: the built-in scanner first, then clamd when configured (CLAMD_HOST / CLAMD_PORT). */
export function scannersFor(env: Env): Scanner[] {
  const clamd = loadConfig(env).clamd;
  return [new BuiltinScanner(), ...(clamd ? [new ClamdScanner(clamd)] : [])];
}

const namesOf = (scanners: readonly Scanner[]) => scanners.map((scanner) => scanner.name).join('+');

const missing: Validation = { ok: false, code: 'ERR_OBJECT_MISSING', message: 'The assembled file is missing from storage.' };

/** The checks on the object's first and last bytes, before any slice; a verdict, or the state to start slicing from. */
async function firstChecks(message: ProcessMessage, store: R2Store, env: Env, scannedBy: string): Promise<Validation | SliceState> {
  const [object, head] = await Promise.all([store.head(message.key), store.readHead(message.key, Math.min(HEAD_BYTES, message.size))]);
  if (!object || !head) return missing;
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
  const structural = structuralFinding(head, message.declaredType);
  if (structural) return { ok: false, code: 'ERR_MALWARE_FOUND', message: `${structural} (builtin)` };
  return firstSliceState(message.key, object.etag, message.size, detected, scannedBy);
}

/** A video's index, read with a few ranged reads: a cut-off or mislabelled container is refused here. */
async function videoMetadata(message: ProcessMessage, store: R2Store, detected: string): Promise<Validation | { media?: MediaMetadata; mediaSkipped?: string }> {
  if (!VIDEO_CONTAINERS.has(detected)) return {};
  const source = { readRange: (offset: number, length: number) => store.readRange(message.key, offset, length) };
  const verdict = await readVideoMetadata(source, message.size, detected, message.declaredType);
  if (!verdict.ok) return verdict as Validation;
  return 'media' in verdict ? { media: verdict.media } : { mediaSkipped: verdict.skipped };
}

/**
 * Runs the next step of validation for this upload: the first checks (first invocation only),
 * one slice, and, after the last slice, the digest check and the other scanners.
 */
export async function validateUpload(message: ProcessMessage, store: R2Store, env: Env): Promise<Validation | ValidationContinues> {
  const scanners = scannersFor(env);
  const scannedBy = namesOf(scanners);
  const saved = await loadSliceState(store, message.uploadId);
  // Saved work for another object (after deduplication the session points elsewhere), or done
  // with other scanners (clamd configured since), does not count.
  const resumable = saved && saved.key === message.key && saved.size === message.size && saved.scannedBy === scannedBy;
  let state: SliceState | Validation = resumable ? saved : await firstChecks(message, store, env, scannedBy);
  if ('ok' in state) return state;

  let slice;
  try {
    // A scanner that cannot answer (clamd down, a stall) throws ScannerUnavailableError: the
    // delivery retries this slice, then fails closed; nothing is saved for it.
    slice = await hashAndScanSlice(store, state, loadConfig(env).processingSliceBytes, scanners, message.declaredType);
  } catch (error) {
    if (error instanceof ObjectChangedError) await deleteSliceState(store, message.uploadId); // the retry starts over
    throw error;
  }
  if (slice.kind === 'finding') return { ok: false, code: 'ERR_MALWARE_FOUND', message: slice.signature };
  // Saved before anything else happens: a crash from here on resumes after this slice.
  await saveSliceState(store, message.uploadId, slice.state);
  if (slice.kind === 'advanced') {
    return { ok: 'continue', bytes: slice.bytes, scannedBytes: slice.scannedBytes, offset: slice.state.offset, slices: slice.state.slices };
  }

  state = slice.state;
  const sha256 = slice.sha256;
  if (message.sha256 && message.sha256 !== sha256) {
    return { ok: false, code: 'ERR_CHECKSUM_MISMATCH', message: `The file's SHA-256 is ${sha256}, not the ${message.sha256} declared.` };
  }
  // After the last slice (a few ranged reads; the slices carry no state for it).
  const video = await videoMetadata(message, store, state.detectedType);
  if ('ok' in video) return video;
  return { ok: true, detectedType: state.detectedType, sha256, scannedBy, scannedBytes: slice.scannedBytes, ...video };
}
