/**
 * @module The one rule for upload metadata (creation on every protocol, grants, the files API):
 * bounded so it stays small in the session's manifest, which every snapshot echoes.
 */
import { z } from 'zod';

/**
 * Bounds on an upload's free-form metadata, the same for every protocol (native `metadata`, tus
 * `Upload-Metadata`): it is stored in the session's manifest and echoed in every snapshot, so it
 * must stay small whatever the client sends.
 */
export const METADATA_LIMITS = { maxEntries: 32, maxKeyLength: 64, maxValueLength: 1024, maxTotalBytes: 8 * 1024 } as const;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Upload metadata within METADATA_LIMITS (the total counts the UTF-8 bytes of keys and values). */
export const metadataSchema = z
  .record(
    z.string().min(1, 'keys must not be empty').max(METADATA_LIMITS.maxKeyLength, `keys are at most ${METADATA_LIMITS.maxKeyLength} characters`),
    z.string().max(METADATA_LIMITS.maxValueLength, `values are at most ${METADATA_LIMITS.maxValueLength} characters`),
  )
  .refine((m) => Object.keys(m).length <= METADATA_LIMITS.maxEntries, `at most ${METADATA_LIMITS.maxEntries} entries`)
  .refine(
    (m) => Object.entries(m).reduce((sum, [k, v]) => sum + utf8Length(k) + utf8Length(v), 0) <= METADATA_LIMITS.maxTotalBytes,
    `at most ${METADATA_LIMITS.maxTotalBytes} bytes of keys and values in all`,
  );

