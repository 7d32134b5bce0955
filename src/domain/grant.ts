/**
 * @module Scoped upload grants: optional claims in the creator JWT that narrow what its holder may
 * upload — `allowedTypes` (MIME patterns such as "image/*", intersected with the server's allowlist),
 * `maxFileSize`, `maxFiles` (uploads one token may create, counted by its `jti`), `metadata` (fixed
 * values merged over the client's) and `visibility`. Pure: parsing, the narrowed limits, the checks.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors';
import { metadataSchema } from './metadata';
import type { Visibility } from '../contracts/messages';

export interface Grant {
  allowedTypes?: string[];
  maxFileSize?: number;
  maxFiles?: number;
  /** The token's id, by which `maxFiles` is counted. */
  jti?: string;
  metadata?: Record<string, string>;
  visibility?: Visibility;
}

const mimePattern = z
  .string()
  .max(255)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(/^(\*\/\*|[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+))$/, 'a MIME type or pattern such as image/*'));

const grantSchema = z.object({
  allowedTypes: z.array(mimePattern).min(1).max(64).optional(),
  maxFileSize: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  maxFiles: z.number().int().positive().max(1_000_000).optional(),
  jti: z.string().min(1).max(256).optional(),
  metadata: metadataSchema.optional(),
  visibility: z.enum(['public', 'private']).optional(),
});

export type GrantResult = { ok: true; grant: Grant | undefined } | { ok: false; code: ErrorCode; message: string };

const GRANT_CLAIMS = ['allowedTypes', 'maxFileSize', 'maxFiles', 'metadata', 'visibility'] as const;

/**
 * The grant in a verified token's claims: undefined when it has none of the grant claims. A grant
 * claim of the wrong shape, `maxFiles` without a `jti` to count by, or `allowedTypes` that leave no
 * type the server accepts are refused rather than ignored: a grant that cannot be enforced as
 * written must not turn into a wider one.
 */
export function grantFromClaims(claims: Record<string, unknown>, serverTypes: readonly string[]): GrantResult {
  if (!GRANT_CLAIMS.some((name) => claims[name] !== undefined)) return { ok: true, grant: undefined };
  const parsed = grantSchema.safeParse({ ...Object.fromEntries(GRANT_CLAIMS.map((n) => [n, claims[n]])), jti: claims.jti });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, code: 'ERR_GRANT_INVALID', message: `The token's grant claim "${issue.path.join('.')}" is invalid: ${issue.message}.` };
  }
  const grant: Grant = parsed.data;
  if (grant.maxFiles !== undefined && grant.jti === undefined) {
    return { ok: false, code: 'ERR_GRANT_INVALID', message: 'A grant with "maxFiles" needs a "jti" claim to count its uploads by.' };
  }
  if (grant.allowedTypes && narrowTypes(serverTypes, grant).length === 0) {
    return { ok: false, code: 'ERR_GRANT_INVALID', message: 'The grant\'s "allowedTypes" allow no type this server accepts.' };
  }
  return { ok: true, grant };
}

export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*/*') return true;
  if (pattern.endsWith('/*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** The server's allowlist, narrowed to what the grant allows. */
export function narrowTypes(serverTypes: readonly string[], grant: Grant | undefined): string[] {
  const patterns = grant?.allowedTypes;
  return patterns ? serverTypes.filter((type) => patterns.some((p) => typeMatches(p, type))) : [...serverTypes];
}

export function narrowMaxFileSize(serverMax: number, grant: Grant | undefined): number {
  return Math.min(serverMax, grant?.maxFileSize ?? serverMax);
}

/** Why this grant refuses an upload of `type` and `size` (null size: not known yet), or null. */
export function grantRefusal(grant: Grant | undefined, type: string, size: number | null): { code: ErrorCode; message: string } | null {
  if (!grant) return null;
  if (grant.allowedTypes && !grant.allowedTypes.some((p) => typeMatches(p, type))) {
    return { code: 'ERR_GRANT_TYPE', message: `This upload grant does not allow files of type "${type}".` };
  }
  if (grant.maxFileSize !== undefined && size !== null && size > grant.maxFileSize) {
    return { code: 'ERR_GRANT_SIZE', message: `This upload grant allows files of at most ${grant.maxFileSize} bytes.` };
  }
  return null;
}

/** The client's metadata with the grant's fixed values over it. */
export function grantMetadata(grant: Grant | undefined, metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  return grant?.metadata ? { ...metadata, ...grant.metadata } : metadata;
}
