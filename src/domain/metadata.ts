/** @module The one rule for upload metadata (creation, grants, the files API): at most 32 short text entries. */
import { z } from 'zod';

export const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(1024))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries');
