/**
 * @module One slice of the processing pass: reads a bounded byte range of the assembled object
 * from R2, feeds it to the SHA-256 (whose state was saved by the previous slice) and to the
 * built-in signature matcher, and returns the state to save. A slice's cost is bounded by its
 * size, so a file of any size is processed within the per-invocation CPU limit, slice by slice.
 *
 * No byte is hashed twice: the hash continues exactly at `offset`. The signature search re-reads
 * the 67 bytes before `offset` (a signature straddling two slices is still found); re-scanning
 * is harmless, re-hashing would not be.
 *
 * A file that fits in one slice has no state to save, so it is hashed by Web Crypto's native
 * digest (~6× cheaper, `npm run bench:processing`); only larger files pay for the saveable one.
 */
import { Sha256, type Sha256State } from '../domain/sha256';
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

/** The hash of one slice: continued from a saved state, or (a whole file in one slice) native. */
interface SliceHasher {
  update(chunk: Uint8Array): void | Promise<void>;
  /** The state to save after this slice (null for the native one, which never needs saving). */
  save(): Sha256State | null;
  digest(): Promise<string>;
}

function savedHasher(state: Sha256State): SliceHasher {
  const hasher = Sha256.load(state);
  return { update: (chunk) => void hasher.update(chunk), save: () => hasher.save(), digest: async () => toHex(hasher.digest()) };
}

function nativeHasher(): SliceHasher {
  const stream = new crypto.DigestStream('SHA-256');
  const writer = stream.getWriter();
  return {
    update: (chunk) => writer.write(chunk),
    save: () => null,
    digest: async () => {
      await writer.close();
      return toHex(await stream.digest);
    },
  };
}

/** Hashes and scans `[state.offset, state.offset + sliceBytes)`; returns the new state, the digest at the end, or a finding. */
export async function hashAndScanSlice(store: R2Store, state: SliceState, sliceBytes: number): Promise<SliceResult> {
  if (state.digest) return { kind: 'finished', state, sha256: state.digest, bytes: 0 }; // every byte was hashed before
  const end = Math.min(state.size, state.offset + sliceBytes);
  const hasher = state.offset === 0 && end === state.size ? nativeHasher() : savedHasher(state.sha256);
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
          await hasher.update(skip > 0 ? value.subarray(skip) : value);
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
  const bytes = end - state.offset;
  const advanced: SliceState = { ...state, offset: end, slices: state.slices + 1 };
  if (end < state.size) return { kind: 'advanced', state: { ...advanced, sha256: hasher.save()! }, bytes };
  const sha256 = await hasher.digest();
  return { kind: 'finished', state: { ...advanced, digest: sha256 }, sha256, bytes };
}
