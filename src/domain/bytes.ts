/** @module Byte helpers with no runtime imports. */

/** The chunks, `length` bytes in all, as one array. */
export function concatBytes(chunks: Uint8Array[], length = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
