/** @module zod schemas for the S3-style (Uppy/Companion) API's inputs. */
import { normalizeEtag } from '../../storage/presign';
import { z } from 'zod';
import { MAX_PARTS } from '../../domain/part-plan';

/** R2 (like S3) numbers parts 1 to 10,000. */
export const s3PartNumberSchema = z
  .string()
  .regex(/^[0-9]{1,5}$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(MAX_PARTS, `must be at most ${MAX_PARTS}`));

/**
 * Uppy sends the file's meta fields as they are: strings mostly, but also numbers, booleans and
 * nulls (`relativePath: null`). Scalars are kept as strings, nulls and structures dropped; then the
 * same bounds as the native API (32 entries, names up to 64 characters, values up to 1 KiB).
 */
export const metadataSchema = z
  .record(z.string(), z.unknown())
  .transform((raw) => {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    }
    return out;
  })
  .pipe(
    z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries'),
  );

/** `POST /s3/multipart` (Uppy's createMultipartUpload). */
export const createMultipartSchema = z.object({
  filename: z.string().min(1).max(1024),
  type: z.string().max(255).optional(),
  metadata: metadataSchema.optional(),
});

/** `POST /s3/multipart/:uploadId/complete`: S3's part list, as Companion takes it. */
export const completeMultipartSchema = z.object({
  parts: z
    .array(
      z.object({
        PartNumber: z.union([z.number(), z.string().regex(/^[0-9]{1,5}$/).transform(Number)]).pipe(z.number().int().min(1).max(MAX_PARTS)),
        ETag: z
          .string()
          .min(1)
          .max(200)
          .transform(normalizeEtag)
          .pipe(z.string().regex(/^[\x21\x23-\x7e]{1,200}$/, 'not an ETag')),
      }),
    )
    .min(1, 'name at least one part')
    .max(MAX_PARTS),
});

/** `GET /s3/params?filename=&type=&metadata[name]=value`. */
export const paramsQuerySchema = z.object({
  filename: z.string().min(1).max(1024),
  type: z.string().max(255).optional(),
  metadata: metadataSchema,
});
