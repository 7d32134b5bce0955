/**
 * @module The session's short claims, one vocabulary for every write path: a part (one PUT at a
 * time per part number), the stream (one streamed write at a time per upload: tus PATCH, form
 * POST, URL import) and processing (one pipeline run at a time). Held in memory (see leases.ts).
 */
import { Leases } from './leases';

/** A PUT that stalls longer than this loses its claim on the part number. */
const PART_CLAIM_MS = 30_000;
/** A streamed write that stalls longer than this loses its lock on the upload. */
const STREAM_CLAIM_MS = 120_000;
/** One processing run at a time per upload (a redelivered message waits instead of redoing work). */
const PROCESSING_CLAIM_MS = 10 * 60_000;

export class SessionClaims {
  readonly parts = new Leases<number>(PART_CLAIM_MS);
  readonly stream = new Leases<'stream'>(STREAM_CLAIM_MS);
  readonly processing = new Leases<'processing'>(PROCESSING_CLAIM_MS);

  /** The upload stopped taking bytes: every write still in flight loses its claim. */
  dropWrites(): void {
    this.parts.clear();
    this.stream.clear();
  }
}
