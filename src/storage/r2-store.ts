/**
 * @module The only module that talks R2 multipart: create, upload a part, complete, abort,
 * and reads for serving. Knows keys and R2 calls; knows nothing of sessions or HTTP.
 */

export interface StoredPart {
  partNumber: number;
  etag: string;
}

export class R2Store {
  constructor(private readonly bucket: R2Bucket) {}

  async createMultipart(key: string, contentType: string, customMetadata?: Record<string, string>): Promise<string> {
    const upload = await this.bucket.createMultipartUpload(key, { httpMetadata: { contentType }, customMetadata });
    return upload.uploadId;
  }

  /** Streams `body` (of a known length), or writes the bytes, into part `partNumber`. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream | Uint8Array): Promise<StoredPart> {
    const part = await this.bucket.resumeMultipartUpload(key, uploadId).uploadPart(partNumber, body);
    return { partNumber: part.partNumber, etag: part.etag };
  }

  /** Completes the upload. R2's complete() is not idempotent: callers must record that it ran. */
  async completeMultipart(key: string, uploadId: string, parts: StoredPart[]): Promise<{ size: number; etag: string }> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const object = await this.bucket.resumeMultipartUpload(key, uploadId).complete(sorted);
    return { size: object.size, etag: object.httpEtag };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.bucket.resumeMultipartUpload(key, uploadId).abort();
    } catch (error) {
      // Aborting an upload R2 no longer knows (already aborted or completed) is the desired end state.
      if (!/NoSuchUpload|does not exist|not found/i.test(String(error))) throw error;
    }
  }

  head(key: string): Promise<R2Object | null> {
    return this.bucket.head(key);
  }

  /** Reads `length` bytes from the start of the object. */
  async readHead(key: string, length: number): Promise<Uint8Array | null> {
    const object = await this.bucket.get(key, { range: { offset: 0, length } });
    if (!object) return null;
    return new Uint8Array(await object.arrayBuffer());
  }

  /** Reads the last `length` bytes of the object. */
  async readTail(key: string, length: number): Promise<Uint8Array | null> {
    const object = await this.bucket.get(key, { range: { suffix: length } });
    if (!object) return null;
    return new Uint8Array(await object.arrayBuffer());
  }

  /** Reads up to `length` bytes at `offset` (container parsers read a video's index this way). */
  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const object = await this.bucket.get(key, { range: { offset, length } });
    if (!object) throw new Error(`the object ${key} vanished while it was being read`);
    return new Uint8Array(await object.arrayBuffer());
  }

  /** `length` bytes from `offset` as a stream, with the object's ETag (processing in slices reads this way). */
  async getRange(key: string, offset: number, length: number): Promise<{ body: ReadableStream<Uint8Array>; etag: string } | null> {
    const object = await this.bucket.get(key, { range: { offset, length } });
    return object ? { body: object.body as ReadableStream<Uint8Array>, etag: object.etag } : null;
  }

  /** The whole object as a stream (validation and scanning read it this way). */
  async getStream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const object = await this.bucket.get(key);
    return object ? (object.body as ReadableStream<Uint8Array>) : null;
  }

  /** The whole object in memory: only for inputs already checked to be small (image decoding). */
  async readAll(key: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(key);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** Reads for serving: R2 parses `Range` and conditional headers itself. */
  get(key: string, headers: Headers): Promise<R2ObjectBody | R2Object | null> {
    return this.bucket.get(key, { range: headers, onlyIf: headers });
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(key);
  }

  async put(key: string, body: Uint8Array, contentType: string, cacheControl?: string, customMetadata?: Record<string, string>): Promise<void> {
    await this.bucket.put(key, body, { httpMetadata: { contentType, ...(cacheControl ? { cacheControl } : {}) }, customMetadata });
  }

  async deletePrefix(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const listing = await this.bucket.list({ prefix, cursor });
      if (listing.objects.length > 0) await this.bucket.delete(listing.objects.map((o) => o.key));
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor);
  }
}
