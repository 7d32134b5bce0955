/**
 * @module Opening an upload, for every protocol adapter alike: allowlist and limits, the part
 * plan, the owner's quota, the session, and the upload token. The native API, tus and the
 * S3-style API all come through here, so they share one session model.
 */
import { loadConfig, requireKeyRing } from '../config';
import { signCapability } from '../domain/capability';
import { toHex } from '../domain/base64url';
import { AppError, unwrap } from '../domain/errors';
import { grantMetadata, grantRefusal, narrowMaxFileSize, type Grant } from '../domain/grant';
import { planParts } from '../domain/part-plan';
import { ledgerStub, sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import { GrantUses } from '../grants/grant-uses';
import type { Manifest, Visibility } from '../contracts/messages';
import { metricsFor } from '../observability/metrics';
import { originalKey, ownerSegment } from '../storage/object-keys';

export interface OpenUploadRequest {
  owner: string;
  name: string;
  type: string;
  /** Null when the client cannot tell yet (tus Upload-Defer-Length, S3-style multipart). */
  size: number | null;
  partSize?: number;
  sha256?: string;
  metadata?: Record<string, string>;
  /** A tus partial upload: a fragment whose type is checked on the final upload instead. */
  partial?: boolean;
  /** Private files are served only through signed URLs; DEFAULT_VISIBILITY otherwise. */
  visibility?: Visibility;
  /** The creator token's upload grant: narrower limits, fixed metadata and visibility. */
  grant?: Grant;
}

export interface OpenedUpload {
  id: string;
  key: string;
  manifest: Manifest;
  uploadToken: string;
}

/**
 * Characters that change how a name reads without being seen: bidi embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069; "\u202Egpj.exe" shows as "exe.jpg"), marks (U+061C,
 * U+200E, U+200F), zero-width characters (U+200B–U+200D, U+FEFF), and line/paragraph separators.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** Keeps a display name only: no path, no control or invisible characters, bounded length. Every protocol's name comes through here. */
export function sanitizeName(name: string): string {
  const base = name.normalize('NFC').split(/[\\/]/).pop() ?? '';
  const stripped = base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').replace(INVISIBLE, '').trim();
  // At most 255 UTF-16 units, cut between code points (never half a surrogate pair).
  let clean = '';
  for (const char of stripped) {
    if (clean.length + char.length > 255) break;
    clean += char;
  }
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

export const baseType = (type: string): string => type.split(';')[0]!.trim().toLowerCase();

export async function openUpload(env: Env, request: OpenUploadRequest): Promise<OpenedUpload> {
  const config = loadConfig(env);
  const ring = requireKeyRing(config);
  const type = request.partial ? 'application/octet-stream' : baseType(request.type);
  if (!request.partial && !config.allowedTypes.includes(type)) {
    throw new AppError('ERR_TYPE_NOT_ALLOWED', `Files of type "${type || '(none)'}" are not accepted.`, { allowedTypes: config.allowedTypes });
  }
  const refusal = request.partial ? null : grantRefusal(request.grant, type, request.size);
  if (refusal) throw new AppError(refusal.code, refusal.message, { allowedTypes: request.grant?.allowedTypes, maxFileSize: request.grant?.maxFileSize });
  if (request.size !== null && request.size > config.maxFileSize) {
    throw new AppError('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${config.maxFileSize} bytes.`, {
      maxFileSize: config.maxFileSize,
    });
  }
  let size: number | null = null;
  let partSize = request.partSize ?? config.partLimits.default;
  let partCount: number | null = null;
  if (request.size !== null) {
    const planned = planParts(request.size, config.partLimits, request.partSize);
    if (!planned.ok) {
      if (planned.reason === 'empty') throw new AppError('ERR_EMPTY_FILE', 'Empty (0-byte) files cannot be uploaded.');
      if (planned.reason === 'bad-part-size') {
        throw new AppError('ERR_VALIDATION', `partSize must be between ${config.partLimits.min} and ${config.partLimits.max} bytes.`);
      }
      throw new AppError('ERR_FILE_TOO_LARGE', 'The file is too large to plan into parts.');
    }
    ({ size, partSize, partCount } = planned.plan);
  } else if (partSize < config.partLimits.min || partSize > config.partLimits.max) {
    throw new AppError('ERR_VALIDATION', `partSize must be between ${config.partLimits.min} and ${config.partLimits.max} bytes.`);
  }

  const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const key = originalKey(await ownerSegment(request.owner), id);
  // maxFiles: one use of the grant per upload (fragments of a tus concatenation do not count).
  const { grant } = request;
  const counted = grant?.maxFiles !== undefined && grant.jti !== undefined && !request.partial;
  if (counted && !(await new GrantUses(env.DB).take(request.owner, grant.jti!, grant.maxFiles!))) {
    throw new AppError('ERR_GRANT_FILES', `This upload grant allows ${grant.maxFiles} upload(s), and they are used.`, { maxFiles: grant.maxFiles });
  }
  const ledger = ledgerStub(env, request.owner);
  const reserved = await ledger.reserve(id, size ?? 0, config.quotas);
  if (!reserved.ok && counted) await new GrantUses(env.DB).giveBack(request.owner, grant.jti!);
  unwrap(reserved);
  const created = await sessionStub(env, id)
    .create({
      id,
      owner: request.owner,
      key,
      name: sanitizeName(request.name),
      type,
      size,
      partSize,
      partCount,
      sha256: request.sha256,
      metadata: grantMetadata(grant, request.metadata),
      expiresAt: Date.now() + config.uploadTtlSeconds * 1000,
      partial: request.partial ?? false,
      visibility: grant?.visibility ?? request.visibility ?? config.defaultVisibility,
      // Sizes that become known later (tus Upload-Defer-Length, S3-style completion) are held to the grant too.
      limits: { maxFileSize: grant?.maxFileSize !== undefined ? narrowMaxFileSize(config.maxFileSize, grant) : config.maxFileSize, ...config.quotas },
      reservedBytes: size ?? 0,
    })
    .catch((error: unknown) => ({
      ok: false as const,
      error: { code: 'ERR_STORAGE' as const, message: `The upload could not be opened: ${String(error).slice(0, 200)}` },
    }));
  if (!created.ok) {
    await ledger.release(id);
    if (counted) await new GrantUses(env.DB).giveBack(request.owner, grant.jti!);
  }
  const manifest = unwrap(created);
  const uploadToken = await signCapability(ring, { uid: id, sub: request.owner, exp: Math.floor(Date.now() / 1000) + config.tokenTtlSeconds });
  metricsFor(env).record({ event: 'upload_created', detail: type, bytes: size ?? 0 });
  return { id, key, manifest, uploadToken };
}
