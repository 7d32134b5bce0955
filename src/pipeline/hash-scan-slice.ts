/**
 * @module One slice of the processing pass: reads a bounded byte range of the assembled object
 * from R2 once, feeds it to the SHA-256 (whose state was saved by the previous slice) and to
 * every scanner (the built-in one, and clamd relayed on its own INSTREAM per slice), and returns
 * the state to save. A slice's cost is bounded by its size, so a file of any size is processed
 * within the per-invocation CPU limit, slice by slice, scanners included.
 *
 * No byte is hashed twice: the hash continues exactly at `offset`. The scanners see again the
 * bytes just before `offset` (the largest `overlap` any of them asks for), so a signature
 * straddling two slices is still found; re-scanning is harmless, re-hashing would not be.
 *
 * A file that fits in one slice has no state to save, so it is hashed by Web Crypto's native
 * digest (~6× cheaper, `npm run bench:processing`); only larger files pay for the saveable one.
 */
import { Sha256, type Sha256State } from '../domain/sha256';
import { toHex } from '../domain/base64url';
import { pumpInto, ScannerUnavailableError, type Scanner, type ScanSession } from '../media/scanner';
import type { R2Store } from '../storage/r2-store';
import type { SliceState } from './slice-state';

/** Bytes before a slice that its scans read again: what the most demanding scanner asks for. */
export const overlapOf = (scanners: readonly Scanner[]): number => Math.max(0, ...scanners.map((scanner) => scanner.overlap));

export type SliceResult =
  | { kind: 'advanced'; state: SliceState; bytes: number; scannedBytes: number }
  | { kind: 'finished'; state: SliceState; sha256: string; bytes: number; scannedBytes: number }
  | { kind: 'finding'; signature: string; bytes: number };

/** What one slice read: hashed (`bytes`) and read for the scanners (`scannedBytes`, the overlap included). */

/** The state before the first slice. */
export function firstSliceState(key: string, etag: string, size: number, detectedType: string, scannedBy: string): SliceState {
  return { v: 1, key, etag, size, offset: 0, slices: 0, detectedType, scannedBy, sha256: new Sha256().save() };
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

/**
 * Hashes `[state.offset, state.offset + sliceBytes)` and scans it (with the overlap before it)
 * with every scanner, in one read; returns the new state, the digest at the end, or a finding.
 */
export async function hashAndScanSlice(
  store: R2Store,
  state: SliceState,
  sliceBytes: number,
  scanners: readonly Scanner[],
  declaredType: string,
): Promise<SliceResult> {
  if (state.digest) return { kind: 'finished', state, sha256: state.digest, bytes: 0, scannedBytes: 0 }; // every byte was hashed before
  const end = Math.min(state.size, state.offset + sliceBytes);
  const hasher = state.offset === 0 && end === state.size ? nativeHasher() : savedHasher(state.sha256);
  let scannedBytes = 0;
  if (state.offset < end) {
    const readFrom = Math.max(0, state.offset - overlapOf(scanners));
    scannedBytes = end - readFrom;
    const range = await store.getRange(state.key, readFrom, scannedBytes);
    if (!range) throw new ScannerUnavailableError('builtin', 'the assembled object disappeared between slices');
    if (range.etag !== state.etag) {
      await range.body.cancel();
      throw new ObjectChangedError(`${state.key} changed since the last slice (ETag ${range.etag}, was ${state.etag})`);
    }
    const sessions: ScanSession[] = [];
    try {
      for (const scanner of scanners) sessions.push(await scanner.open({ size: scannedBytes, declaredType, offset: readFrom }));
    } catch (error) {
      for (const session of sessions) session.abort();
      await range.body.cancel().catch(() => {});
      throw error;
    }
    let skip = state.offset - readFrom; // the overlap: scanned again, never hashed again
    let seen = 0;
    // Each scanner checks it saw exactly the slice's bytes, so a short read never passes as scanned.
    const finding = await pumpInto(sessions, range.body, async (value) => {
      seen += value.length;
      if (skip >= value.length) {
        skip -= value.length;
      } else {
        await hasher.update(skip > 0 ? value.subarray(skip) : value);
        skip = 0;
      }
    });
    if (finding && !finding.clean) return { kind: 'finding', signature: `${finding.signature} (${finding.scanner})`, bytes: seen };
    if (seen !== scannedBytes) throw new ScannerUnavailableError('builtin', `read ${seen} bytes of a ${scannedBytes}-byte slice`);
  }
  const bytes = end - state.offset;
  const advanced: SliceState = { ...state, offset: end, slices: state.slices + 1 };
  if (end < state.size) return { kind: 'advanced', state: { ...advanced, sha256: hasher.save()! }, bytes, scannedBytes };
  const sha256 = await hasher.digest();
  return { kind: 'finished', state: { ...advanced, digest: sha256 }, sha256, bytes, scannedBytes };
}
