/**
 * @module Named image variants as configuration (`VARIANTS`): name → box, quality, formats, and
 * whether the variant belongs in `srcset`. Parsed and bounded once (absurd sizes refuse to start),
 * plus the `srcset`/`sizes` strings a page can put on `<img>` directly. Pure.
 */
import { z } from 'zod';
import type { DerivativeInfo } from '../contracts/messages';
import { DEFAULT_DERIVATIVES, type DerivativeSpec } from './image-engine';

/** Output formats a variant can be served in; JPEG is always made (every browser reads it). */
export const VARIANT_FORMATS = ['image/jpeg', 'image/webp', 'image/avif'] as const;
export type VariantFormat = (typeof VARIANT_FORMATS)[number];

/** Largest side a variant may ask for: past this it is an original, not a derivative. */
export const MAX_VARIANT_SIDE = 4096;
/** Variants per image, at most: each costs an encode (or an Images call) per format. */
export const MAX_VARIANTS = 12;

export interface VariantSpec extends DerivativeSpec {
  /** Formats stored besides JPEG, made where an encoder for them is available. */
  formats: VariantFormat[];
  /** Listed in `result.srcset`. */
  srcset: boolean;
}

const side = z.number().int().min(16, 'is smaller than 16 px').max(MAX_VARIANT_SIDE, `is larger than ${MAX_VARIANT_SIDE} px`);
const variantSchema = z
  .object({
    width: side,
    height: side.optional(),
    /** The only fit: inside width × height, aspect kept, never upscaled. */
    fit: z.literal('inside').default('inside'),
    quality: z.number().int().min(30).max(95).default(80),
    formats: z.array(z.enum(VARIANT_FORMATS)).max(3).default(['image/jpeg', 'image/webp']),
    srcset: z.boolean().default(true),
  })
  .strict();
const NAME = /^[a-z0-9-]{1,32}$/;
const variantsSchema = z
  .record(z.string(), variantSchema)
  .superRefine((v, ctx) => {
    for (const name of Object.keys(v)) {
      if (!NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}": variant names are 1–32 of a–z, 0–9 and -` });
    }
  })
  .refine((v) => Object.keys(v).length >= 1, 'at least one variant')
  .refine((v) => Object.keys(v).length <= MAX_VARIANTS, `at most ${MAX_VARIANTS} variants`);

/** Today's thumb and display, plus widths for `srcset` (320, 640, 1280, 1920). */
export const DEFAULT_VARIANTS: VariantSpec[] = [
  ...DEFAULT_DERIVATIVES.map((d) => ({ ...d, formats: ['image/jpeg', 'image/webp'] as VariantFormat[], srcset: true })),
  { variant: 'w640', width: 640, quality: 80, formats: ['image/jpeg', 'image/webp'], srcset: true },
  { variant: 'w1920', width: 1920, quality: 80, formats: ['image/jpeg', 'image/webp'], srcset: true },
];

/** Parses `VARIANTS` (JSON); throws an Error whose message says which setting is wrong and why. */
export function parseVariants(json: string | undefined): VariantSpec[] {
  if (json === undefined || json.trim() === '') return DEFAULT_VARIANTS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`VARIANTS is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = variantsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'VARIANTS'} ${i.message}`);
    throw new Error(`VARIANTS is refused: ${problems.join('; ')}`);
  }
  return Object.entries(parsed.data).map(([variant, v]) => ({
    variant,
    width: v.width,
    ...(v.height !== undefined ? { height: v.height } : {}),
    quality: v.quality,
    // JPEG always: it is the fallback every browser reads.
    formats: [...new Set<VariantFormat>(['image/jpeg', ...v.formats])],
    srcset: v.srcset,
  }));
}

export interface Srcset {
  /** `<img srcset>`: each srcset variant's URL and width, narrowest first, one entry per width. */
  srcset: string;
  /** `<img sizes>`: full viewport width up to the widest variant. */
  sizes: string;
}

/** The srcset of the derivatives made for `variants` (their real widths: small images are never upscaled). */
export function srcsetOf(derivatives: DerivativeInfo[], variants: VariantSpec[]): Srcset | null {
  const listed = new Set(variants.filter((v) => v.srcset).map((v) => v.variant));
  const byWidth = new Map<number, DerivativeInfo>();
  for (const d of derivatives) if (listed.has(d.variant) && !byWidth.has(d.width)) byWidth.set(d.width, d);
  if (byWidth.size === 0) return null;
  const sorted = [...byWidth.values()].sort((a, b) => a.width - b.width);
  const widest = sorted[sorted.length - 1]!.width;
  return {
    srcset: sorted.map((d) => `${d.url} ${d.width}w`).join(', '),
    sizes: `(max-width: ${widest}px) 100vw, ${widest}px`,
  };
}
