/**
 * @module Direct-to-R2 mode for the upload engine: presigned part URLs fetched in ranges (the first
 * ones come with the create answer), parts PUT straight to R2, and their ETags reported in
 * batches, so an upload of N parts costs about N + 3 requests instead of 3N + 2.
 */
import type { PartReceipt } from '../contracts/messages';
import type { ApiClient, PresignedPart } from './api-client';

/** Parts presigned per request. */
const PRESIGN_BATCH = 64;
/** ETags are reported once every part is sent, or whenever this many are waiting (progress). */
export const ETAG_BATCH = 32;
/** A URL with less than this left is presigned again rather than risk a 403 mid-PUT. */
const EXPIRY_MARGIN_MS = 60_000;

export class DirectParts {
  private readonly urls = new Map<number, PresignedPart>();
  private presigning: Promise<void> | undefined;
  private pending: { partNumber: number; etag: string; size: number }[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly upload: () => { id: string; token: string; partCount: number },
    first: PresignedPart[] = [],
  ) {
    for (const part of first) this.urls.set(part.partNumber, part);
  }

  /** Bytes sent to R2 whose ETags are not reported yet (the bar counts them as in flight). */
  get pendingBytes(): number {
    return this.pending.reduce((sum, p) => sum + p.size, 0);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** PUTs part `partNumber` to R2 and keeps its ETag for the next report. */
  async send(partNumber: number, body: Blob, signal: AbortSignal): Promise<void> {
    const url = await this.urlFor(partNumber);
    try {
      const etag = await this.api.putDirect(url, body, signal);
      // A part sent again (its report failed and it was retried) is reported once, with its last ETag.
      this.pending = [...this.pending.filter((p) => p.partNumber !== partNumber), { partNumber, etag, size: body.size }];
    } catch (error) {
      this.urls.delete(partNumber); // a retry gets a fresh URL
      throw error;
    }
  }

  /** Reports every waiting ETag in one request; answers the last receipt (server-confirmed totals). */
  async flush(): Promise<PartReceipt | undefined> {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending;
    this.pending = [];
    const { id, token } = this.upload();
    try {
      const { parts } = await this.api.reportEtags(id, token, batch.map(({ partNumber, etag }) => ({ partNumber, etag })));
      return parts.at(-1);
    } catch (error) {
      this.pending = [...batch, ...this.pending];
      throw error;
    }
  }

  private async urlFor(partNumber: number): Promise<string> {
    for (let tries = 0; tries < 2; tries++) {
      const known = this.urls.get(partNumber);
      if (known && Date.parse(known.expiresAt) - Date.now() > EXPIRY_MARGIN_MS) return known.url;
      // One range request at a time; parts asked for meanwhile wait for it.
      this.presigning ??= this.presign(partNumber).finally(() => (this.presigning = undefined));
      await this.presigning;
    }
    const known = this.urls.get(partNumber);
    if (!known) throw new Error(`no presigned URL for part ${partNumber}`);
    return known.url;
  }

  private async presign(from: number): Promise<void> {
    const { id, token, partCount } = this.upload();
    const { parts } = await this.api.presignParts(id, token, from, Math.min(partCount, from + PRESIGN_BATCH - 1));
    for (const part of parts) this.urls.set(part.partNumber, part);
  }
}
