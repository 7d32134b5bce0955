/**
 * @module The progress of processing one upload in slices, kept in R2 between invocations (a small
 * JSON object under `staging/processing/<upload id>.json`, deleted when processing ends; the
 * staging lifecycle rule removes any left behind). R2 rather than the session: the session stays
 * the state machine, this is the consumer's scratch work, and a put is atomic, so a crash leaves
 * either the previous slice's state or the new one, never half of one.
 */
import { z } from 'zod';
import type { R2Store } from '../storage/r2-store';
import { processingStateKey } from '../storage/object-keys';

const sliceStateSchema = z.object({
  v: z.literal(1),
  /** The object being read and its ETag: if either changed, the saved work is for other bytes. */
  key: z.string().min(1).max(1024),
  etag: z.string().min(1).max(200),
  size: z.number().int().nonnegative(),
  /** Bytes hashed and scanned so far: the next slice starts here. */
  offset: z.number().int().nonnegative(),
  /** Invocations that advanced the work (for logs and the per-invocation accounting). */
  slices: z.number().int().nonnegative(),
  detectedType: z.string().min(1).max(255),
  /** The scanners the slices so far went through ("builtin+clamd"): other scanners, other work. */
  scannedBy: z.string().min(1).max(200),
  sha256: z.object({ h: z.array(z.number().int()).length(8), length: z.number().int().nonnegative(), pending: z.string().max(100) }),
  /** Set once every byte is hashed: the digest, so a redelivery after the last slice needs no reading. */
  digest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});

export type SliceState = z.infer<typeof sliceStateSchema>;

export async function loadSliceState(store: R2Store, uploadId: string): Promise<SliceState | null> {
  const bytes = await store.readAll(processingStateKey(uploadId));
  if (!bytes) return null;
  const parsed = sliceStateSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  // An unreadable state (another version, a partial write by hand) only costs starting over.
  return parsed.success ? parsed.data : null;
}

export async function saveSliceState(store: R2Store, uploadId: string, state: SliceState): Promise<void> {
  await store.put(processingStateKey(uploadId), new TextEncoder().encode(JSON.stringify(state)), 'application/json');
}

export async function deleteSliceState(store: R2Store, uploadId: string): Promise<void> {
  await store.delete(processingStateKey(uploadId));
}
