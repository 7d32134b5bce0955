/**
 * @module One slice of the processing pass: reads a bounded byte range of the assembled object
 * from R2, feeds it to the SHA-256 (whose state was saved by the previous slice) and to the
 * built-in signature matcher, and returns the state to save. A slice's cost is bounded by its
 * size, so a file of any size is processed within the per-invocation CPU limit, slice by slice.
 *
 * No byte is hashed twice: the hash continues exactly at `offset`. The signature search re-reads
 * the 67 bytes before `offset` (a signature straddling two slices is still found); re-scanning
 * is harmless, re-hashing would not be.
 */
import { Sha256 } from '../domain/sha256';
import { toHex } from '../domain/base64url';
import { EICAR, EICAR_SIGNATURE, SignatureMatcher } from '../media/builtin-scanner';
import { ScannerUnavailableError } from '../media/scanner';
import type { R2Store } from '../storage/r2-store';
import type { SliceState } from './slice-state';

/** A signature match ending in this slice can start this many bytes before it. */
export const SCAN_OVERLAP = EICAR.length - 1;

export type SliceResult =
  | { kind: 'advanced'; state: SliceState; bytes: number }
  | { kind: 'finished'; state: SliceState; sha256: string; bytes: number }
  | { kind: 'finding'; signature: string; bytes: number };

/** The state before the first slice. */
export function firstSliceState(key: string, etag: string, size: number, detectedType: string): SliceState {
  return { v: 1, key, etag, size, offset: 0, slices: 0, detectedType, sha256: new Sha256().save() };
}

/** The object changed under a saved state (a new upload under the key): start over. */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
}

/** Hashes and scans `[state.offset, state.offset + sliceBytes)`; returns the new state, the digest at the end, or a finding. */
export async function hashAndScanSlice(store: R2Store, state: SliceState, sliceBytes: number): Promise<SliceResult> {
  const hasher = Sha256.load(state.sha256);
  const end = Math.min(state.size, state.offset + sliceBytes);
  if (state.offset < end) {
    const readFrom = Math.max(0, state.offset - SCAN_OVERLAP);
    const range = await store.getRange(state.key, readFrom, end - readFrom);
    if (!range) throw new ScannerUnavailableError('builtin', 'the assembled object disappeared between slices');
    if (range.etag !== state.etag) {
      await range.body.cancel();
      throw new ObjectChangedError(`${state.key} changed since the last slice (ETag ${range.etag}, was ${state.etag})`);
    }
    const matcher = new SignatureMatcher();
    let skip = state.offset - readFrom; // the overlap: scanned again, never hashed again
    let seen = 0;
    const reader = range.body.getReader();
    let finished = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += value.length;
        if (matcher.push(value)) return { kind: 'finding', signature: `${EICAR_SIGNATURE} (builtin)`, bytes: seen };
        if (skip >= value.length) {
          skip -= value.length;
        } else {
          hasher.update(skip > 0 ? value.subarray(skip) : value);
          skip = 0;
        }
      }
      finished = true;
    } finally {
      if (!finished) reader.cancel().catch(() => {});
    }
    // A short read must never pass as a scanned, hashed slice: retry instead.
    if (seen !== end - readFrom) throw new ScannerUnavailableError('builtin', `read ${seen} bytes of a ${end - readFrom}-byte slice`);
  }
  const next: SliceState = { ...state, offset: end, slices: state.slices + 1, sha256: hasher.save() };
  const bytes = end - state.offset;
  if (end < state.size) return { kind: 'advanced', state: next, bytes };
  return { kind: 'finished', state: next, sha256: toHex(hasher.digest()), bytes };
}
