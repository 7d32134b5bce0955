/**
 * @module The body of a part PUT on its way to R2: passed through untouched when no digest was
 * sent (zero-copy), or through a SHA-256 tap and a FixedLengthStream (R2 needs a known length
 * for a stream it did not get straight from a request) when the client sent `Content-Digest`.
 */

export interface PartBody {
  stream: ReadableStream;
  /** SHA-256 of what went through, once the stream has been fully read; null when not hashed. */
  digest: Promise<Uint8Array> | null;
}

export function partBody(body: ReadableStream<Uint8Array>, length: number, hash: boolean): PartBody {
  if (!hash) return { stream: body, digest: null };
  const digestStream = new crypto.DigestStream('SHA-256');
  const digestWriter = digestStream.getWriter();
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      await digestWriter.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      await digestWriter.close();
    },
  });
  const fixed = new FixedLengthStream(length);
  body.pipeThrough(tap).pipeTo(fixed.writable).catch(() => {
    // The consumer (R2) sees the failure on its side of the stream.
  });
  return { stream: fixed.readable, digest: digestStream.digest.then((d) => new Uint8Array(d)) };
}
