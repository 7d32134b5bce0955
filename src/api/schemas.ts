/** @module zod schemas for the native API's inputs. */
import { normalizeEtag } from '../storage/presign';
import { z } from 'zod';
import { metadataSchema } from '../domain/metadata';

export { METADATA_LIMITS, metadataSchema } from '../domain/metadata';

/** Upload ids are 128 random bits in hex; anything else never reaches a Durable Object. */
export const uploadIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'not an upload id');

export const partNumberSchema = z
  .string()
  .regex(/^[0-9]{1,6}$/, 'must be a positive integer')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1'));

export const createUploadSchema = z.object({
  name: z.string().max(1024).refine((name) => name.trim().length > 0, 'must not be blank'),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  type: z.string().min(1).max(255),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
    .transform((s) => s.toLowerCase())
    .optional(),
  /** Optional part size in bytes (within the advertised bounds); the server grows it if needed. */
  partSize: z.number().int().positive().optional(),
  metadata: metadataSchema.optional(),
  /** "private": served only through signed URLs (issue 13). */
  visibility: z.enum(['public', 'private']).optional(),
  /** Direct-to-R2 mode: the answer carries presigned URLs for the first parts (issue 17 item 7). */
  direct: z.boolean().optional(),
});

/** `POST /api/uploads` with `sourceUrl`: import from a URL (the Worker fetches the file; see import-source.ts for what is allowed). */
export const importUploadSchema = z
  .object({
    sourceUrl: z.string().min(1).max(2048),
    name: z.string().max(1024).refine((name) => name.trim().length > 0, 'must not be blank').optional(),
    type: z.string().min(1).max(255).optional(),
    sha256: createUploadSchema.shape.sha256,
    partSize: createUploadSchema.shape.partSize,
    metadata: metadataSchema.optional(),
  })
  .strict();

export type CreateUploadBody = z.output<typeof createUploadSchema>;

/** Seconds a presigned part URL stays valid. */
export const presignExpirySchema = z
  .string()
  .regex(/^[0-9]{1,5}$/, 'must be a whole number of seconds')
  .transform(Number)
  .pipe(z.number().int().min(1).max(3600))
  .optional();

const etagSchema = z
  .string()
  .min(1)
  .max(200)
  .transform(normalizeEtag)
  .pipe(z.string().regex(/^[\x21\x23-\x7e]{1,256}$/, 'not an ETag'));

/** The ETag R2's S3 API answered for a part (quotes optional). */
export const directPartSchema = z.object({ etag: etagSchema });

/** Parts one batch request may presign or confirm: an upload of up to 1,008 parts needs ≤ N + 3 requests. */
export const DIRECT_BATCH_MAX = 1000;

const partRange = z
  .object({ from: z.number().int().min(1).max(10_000), to: z.number().int().min(1).max(10_000) })
  .strict()
  .refine((r) => r.to >= r.from, 'to must not be below from')
  .refine((r) => r.to - r.from < DIRECT_BATCH_MAX, `at most ${DIRECT_BATCH_MAX} parts at once`);

/** `POST …/parts/presign`: `{ from, to }` in the body, or `?parts=1-8` (a single number is one part). */
export const presignRangeSchema = z.union([
  partRange,
  z
    .string()
    .regex(/^[0-9]{1,5}(-[0-9]{1,5})?$/, 'must look like 1-8')
    .transform((s) => {
      const [from, to = from] = s.split('-').map(Number) as [number, number?];
      return { from, to };
    })
    .pipe(partRange),
]);

/** `PUT …/parts/etags`: the ETags of parts sent straight to R2, in one request. */
export const directPartsSchema = z
  .object({
    parts: z
      .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: etagSchema }).strict())
      .min(1)
      .max(DIRECT_BATCH_MAX)
      .refine((list) => new Set(list.map((p) => p.partNumber)).size === list.length, 'each part once'),
  })
  .strict();
