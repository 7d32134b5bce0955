/**
 * @module Writes a byte stream of any length into an upload's fixed-size R2 parts: the shared
 * engine of protocols whose writes are not part-shaped (tus PATCH, form POSTs). R2 wants equal
 * parts, so bytes are gathered into one part-sized buffer (at most one part in memory); each full
 * part goes to R2 and is confirmed; the tail that does not fill a part is kept in a staging object
 * and counted by the session, so a crash between writes loses nothing acknowledged (as tusd's
 * S3 store does with its .part objects). The session holds a lock for the duration of a write.
 */
import { AppError, unwrap } from '../domain/errors';
import { sessionStub } from '../durable/session-stub';
import type { StreamClaim } from '../durable/upload-session';
import type { Env } from '../env';
import { stagingKey } from '../storage/object-keys';
import { R2Store } from '../storage/r2-store';

export interface StreamWriteOptions {
  /**
   * Confirm nothing until the whole body has arrived and `verify` accepted it (tus checksums):
   * parts still go to R2 as they fill, but the manifest only learns of them at the end.
   */
  verify?: (bytesSeen: number) => Promise<boolean>;
  /** Observes every chunk (e.g. to hash the body for a checksum). */
  tap?: (chunk: Uint8Array) => void;
  /** The request writing, carried into what its parts set off (assembly, processing, notices). */
  requestId?: string;
}

export interface StreamWriteResult {
  /** The upload's offset after this write. */
  offset: number;
  /** The last byte arrived: the upload assembles now. */
  complete: boolean;
  /** False when `verify` refused the body (nothing of it was kept). */
  accepted: boolean;
  /** The body ended early (client went away); what arrived was kept. */
  truncated: boolean;
}

export async function writeStream(
  env: Env,
  uploadId: string,
  offset: number,
  body: ReadableStream<Uint8Array> | null,
  options: StreamWriteOptions = {},
): Promise<StreamWriteResult> {
  const session = sessionStub(env, uploadId);
  const store = new R2Store(env.BUCKET);
  let lease: StreamClaim = unwrap(await session.claimStream(offset));
  const staging = stagingKey(lease.key);
  const buffer = new Uint8Array(lease.partSize);
  let filled = 0;
  let received = 0;
  let truncated = false;
  const deferred: { partNumber: number; size: number; etag: string }[] = [];
  let nextPart = lease.nextPart;
  // Known size: up to its end; unknown: up to the upload's file-size limit.
  const limit = (lease.size ?? lease.maxSize) - lease.offset;

  const commitPart = async (bytes: Uint8Array) => {
    const part = await store.uploadPart(lease.key, lease.r2UploadId, nextPart, bytes);
    if (options.verify) deferred.push({ partNumber: nextPart, size: bytes.length, etag: part.etag });
    else lease = unwrap(await session.confirmStreamedPart(lease.claimId, nextPart, bytes.length, part.etag, options.requestId));
    nextPart += 1;
  };

  try {
    if (lease.stagedBytes > 0) {
      const staged = await store.readHead(staging, lease.stagedBytes);
      if (!staged || staged.length !== lease.stagedBytes) throw new AppError('ERR_STORAGE', 'The bytes held since the last write are missing.');
      buffer.set(staged);
      filled = staged.length;
    }
    const reader = body?.getReader();
    while (reader) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        truncated = true; // the client went away: keep what arrived
        break;
      }
      if (chunk.done) break;
      let bytes = chunk.value;
      received += bytes.length;
      if (received > limit) {
        throw new AppError('ERR_PAYLOAD_TOO_LARGE', lease.size === null ? `The upload may hold at most ${lease.maxSize} bytes.` : `The body goes past the end of the upload (${lease.size} bytes).`);
      }
      options.tap?.(bytes);
      while (bytes.length > 0) {
        const take = Math.min(bytes.length, buffer.length - filled);
        buffer.set(bytes.subarray(0, take), filled);
        filled += take;
        bytes = bytes.subarray(take);
        if (filled === buffer.length) {
          await commitPart(buffer);
          filled = 0;
        }
      }
    }

    if (options.verify && (truncated || !(await options.verify(received)))) {
      return { offset: lease.offset, complete: false, accepted: false, truncated };
    }
    for (const part of deferred) lease = unwrap(await session.confirmStreamedPart(lease.claimId, part.partNumber, part.size, part.etag, options.requestId));

    // The buffer holds the staged bytes too: count from the confirmed prefix.
    const end = lease.size !== null && lease.offset - lease.stagedBytes + filled === lease.size;
    if (end) {
      if (filled > 0) await commitPart(buffer.subarray(0, filled));
      // Every part was confirmed before the length was known (a length that is a multiple of the
      // part size, declared last): no confirmation will start assembly, so ask for it (idempotent).
      else unwrap(await session.complete(options.requestId));
      await store.delete(staging);
      return { offset: lease.size!, complete: true, accepted: true, truncated };
    }
    if (filled > 0 || lease.stagedBytes > 0) {
      await store.put(staging, buffer.subarray(0, filled), 'application/octet-stream');
      lease = unwrap(await session.stageStream(lease.claimId, filled));
    }
    return { offset: lease.offset, complete: false, accepted: true, truncated };
  } finally {
    await session.releaseStream(lease.claimId);
  }
}
