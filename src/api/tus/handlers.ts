/**
 * @module The tus 1.0 (and IETF draft) handlers, one per method as in tus-node-server, each
 * quoting the spec sentence it enforces. They parse and render only: the session keeps the
 * offset, the stream writer turns PATCH bodies into R2 parts.
 */
import type { Context } from 'hono';
import { loadConfig, requireKeyRing } from '../../config';
import { verifyCapability } from '../../domain/capability';
import { AppError, unwrap } from '../../domain/errors';
import { sessionStub } from '../../durable/session-stub';
import { R2Store } from '../../storage/r2-store';
import type { AppEnv } from '../app-env';
import { requireCapability } from '../auth';
import { serveObject } from '../media-route';
import { openUpload } from '../open-upload';
import { enforceCreateLimit, enforcePartLimit } from '../rate-limit';
import { metadataSchema, uploadIdSchema } from '../schemas';
import { uploadLimits } from '../ietf/limits';
import { serializeLimits } from '../ietf/protocol';
import { writeStream } from '../stream-writer';
import { parseWith } from '../validation';
import {
  CHECKSUM_ALGORITHMS,
  dialectOf,
  encodeMetadata,
  httpDate,
  integerHeader,
  isComplete,
  MAX_CHUNK_BYTES,
  MAX_METADATA_HEADER_CHARS,
  parseChecksum,
  parseMetadata,
  TUS_EXTENSIONS,
  TUS_VERSION,
  type Dialect,
} from './protocol';

type TusContext = Context<AppEnv>;

/** "The Server MUST … reject the request with 412 Precondition Failed" when the version is unsupported. */
function requireDialect(c: TusContext): Dialect {
  const dialect = dialectOf(c.req.raw.headers);
  if (!dialect) {
    c.header('Tus-Version', TUS_VERSION);
    throw new AppError('ERR_TUS_VERSION', `Send "Tus-Resumable: ${TUS_VERSION}" (or a supported Upload-Draft-Interop-Version).`);
  }
  return dialect;
}

export const uploadIdOf = (c: TusContext) => parseWith(uploadIdSchema, c.req.param('id'), 'upload id');

/** `Upload-Metadata`, decoded and held to the same bounds as the native API's `metadata` (METADATA_LIMITS). */
export function metadataFromHeader(header: string | null): Record<string, string> {
  if (header !== null && header.length > MAX_METADATA_HEADER_CHARS) {
    throw new AppError('ERR_VALIDATION', `Upload-Metadata is at most ${MAX_METADATA_HEADER_CHARS} characters (8 KiB of keys and values).`);
  }
  const parsed = parseMetadata(header);
  if (!parsed) throw new AppError('ERR_VALIDATION', 'Upload-Metadata must be comma-separated "key base64value" pairs.');
  return parseWith(metadataSchema, parsed, 'Upload-Metadata');
}

/** The upload URL carries its capability, since tus clients only keep the URL. */
export function uploadUrl(c: TusContext, id: string, token: string): string {
  const url = new URL(`/files/${id}`, c.req.url);
  url.searchParams.set('token', token);
  return url.toString();
}

/** OPTIONS: "The Server MUST … include the Tus-Version header"; extensions and limits are advertised. */
export function optionsHandler(c: TusContext): Response {
  const config = loadConfig(c.env);
  c.header('Tus-Version', TUS_VERSION);
  c.header('Tus-Extension', TUS_EXTENSIONS.join(','));
  c.header('Tus-Max-Size', String(config.maxFileSize));
  c.header('Tus-Checksum-Algorithm', Object.keys(CHECKSUM_ALGORITHMS).join(','));
  c.header('Upload-Max-Chunk-Size', String(MAX_CHUNK_BYTES));
  // IETF draft: "When responding to an OPTIONS request without the Upload-Complete header field, if
  // the resource … supports the creation of a resumable upload resource, the server MUST include
  // the Upload-Limit header field" (whichever interop version the client speaks).
  c.header('Upload-Limit', serializeLimits(uploadLimits(config)));
  c.header('Accept-Patch', 'application/partial-upload');
  return c.body(null, 204);
}

/** POST: creation, creation-with-upload, creation-defer-length. */
export async function postHandler(c: TusContext): Promise<Response> {
  const dialect = requireDialect(c);
  await enforceCreateLimit(c, c.get('owner'));
  const metadata = metadataFromHeader(c.req.header('upload-metadata') ?? null);
  const name = metadata.filename ?? metadata.name ?? 'file';
  const type = metadata.filetype ?? metadata.type ?? metadata.contentType ?? '';
  const concat = parseConcat(c.req.header('upload-concat') ?? null);
  if (concat === 'invalid') throw new AppError('ERR_VALIDATION', 'Upload-Concat must be "partial" or "final;<url> <url> …".');
  // "The Client MUST NOT include the Upload-Length header in the final upload creation."
  if (concat?.kind === 'final') return concatenate(c, concat.urls, { name, type, metadata });
  const length = integerHeader(c.req.header('upload-length') ?? null);
  const deferred = c.req.header('upload-defer-length');
  // "The Client MUST include either the Upload-Length or the Upload-Defer-Length header"; "The value MUST be 1".
  if (Number.isNaN(length) || (length === null && deferred !== '1') || (length !== null && deferred !== undefined)) {
    throw new AppError('ERR_VALIDATION', 'Send Upload-Length (a whole number of bytes) or Upload-Defer-Length: 1.');
  }
  const partial = concat?.kind === 'partial';
  const opened = await openUpload(c.env, { owner: c.get('owner'), grant: c.get('grant'), name, type, size: length, metadata, partial });
  const location = uploadUrl(c, opened.id, opened.uploadToken);
  c.header('Location', location);
  c.header('Upload-Expires', httpDate(opened.manifest.expiresAt));

  // creation-with-upload: "the Server MUST … Upload-Offset … if the body was processed".
  const body = c.req.raw.body;
  const contentLength = Number(c.req.header('content-length') ?? '0');
  if (body && contentLength > 0) {
    checkBodyType(c, dialect);
    const result = await writeStream(c.env, opened.id, 0, body, { requestId: c.get('requestId') });
    c.header('Upload-Offset', String(result.offset));
  } else if (dialect.kind === 'ietf') {
    c.header('Upload-Offset', '0');
  }
  return c.body(null, 201);
}

/**
 * concatenation, final: "the Server MUST … concatenate the partial uploads in the order given".
 * R2 cannot stitch objects, so their bytes are streamed, in order, into a new upload's parts
 * (one part in memory at a time); the partial uploads are then deleted. Suited to what tus
 * clients send in parallel (each partial within a request's CPU budget).
 */
async function concatenate(
  c: TusContext,
  urls: string[],
  file: { name: string; type: string; metadata: Record<string, string> },
): Promise<Response> {
  const config = loadConfig(c.env);
  const ring = requireKeyRing(config);
  const owner = c.get('owner');
  const sources: { id: string; key: string; size: number }[] = [];
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw, c.req.url);
    } catch {
      throw new AppError('ERR_VALIDATION', `"${raw.slice(0, 100)}" is not an upload URL.`);
    }
    const id = parseWith(uploadIdSchema, url.pathname.split('/').pop(), 'partial upload id');
    const verified = await verifyCapability(ring, url.searchParams.get('token') ?? '', id);
    if (!verified.ok) throw new AppError('ERR_TOKEN_INVALID', `The URL of partial upload ${id} does not carry a valid token.`);
    const source = unwrap(await sessionStub(c.env, id).partialSource());
    if (source.owner !== owner) throw new AppError('ERR_TOKEN_SCOPE', `Partial upload ${id} belongs to someone else.`);
    sources.push({ id, key: source.key, size: source.size });
  }
  if (sources.length === 0) throw new AppError('ERR_VALIDATION', 'Name the partial uploads to concatenate.');
  const size = sources.reduce((sum, s) => sum + s.size, 0);
  const opened = await openUpload(c.env, { owner, grant: c.get('grant'), ...file, size });
  const store = new R2Store(c.env.BUCKET);
  let offset = 0;
  for (const source of sources) {
    const body = await store.getStream(source.key);
    if (!body) throw new AppError('ERR_STORAGE', `The bytes of partial upload ${source.id} are missing.`);
    offset = (await writeStream(c.env, opened.id, offset, body, { requestId: c.get('requestId') })).offset;
  }
  for (const source of sources) await sessionStub(c.env, source.id).abort(c.get('requestId'));
  c.header('Location', uploadUrl(c, opened.id, opened.uploadToken));
  c.header('Upload-Expires', httpDate(opened.manifest.expiresAt));
  return c.body(null, 201);
}

/** `Upload-Concat`: "partial", or "final;" followed by space-separated upload URLs. */
function parseConcat(header: string | null): { kind: 'partial' } | { kind: 'final'; urls: string[] } | 'invalid' | null {
  if (header === null) return null;
  const value = header.trim();
  if (value === 'partial') return { kind: 'partial' };
  if (!value.startsWith('final;')) return 'invalid';
  const urls = value.slice('final;'.length).trim().split(/\s+/).filter(Boolean);
  return urls.length > 0 && urls.length <= 100 ? { kind: 'final', urls } : 'invalid';
}

/** HEAD: "The Server MUST always include the Upload-Offset header … MUST prevent the client … from caching". */
export async function headHandler(c: TusContext): Promise<Response> {
  const dialect = requireDialect(c);
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  const status = unwrap(await sessionStub(c.env, id).streamStatus());
  c.header('Cache-Control', 'no-store');
  c.header('Upload-Offset', String(status.offset));
  if (status.partial) c.header('Upload-Concat', 'partial');
  if (status.size === null) c.header('Upload-Defer-Length', '1');
  else c.header('Upload-Length', String(status.size));
  if (status.metadata && Object.keys(status.metadata).length > 0) c.header('Upload-Metadata', encodeMetadata(status.metadata));
  c.header('Upload-Expires', httpDate(status.expiresAt));
  if (dialect.kind === 'ietf') c.header('Upload-Complete', status.size !== null && status.offset === status.size ? '?1' : '?0');
  return c.body(null, 200);
}

/** "The Server MUST respond with 415 … if the Content-Type is not application/offset+octet-stream." */
function checkBodyType(c: TusContext, dialect: Dialect): void {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const allowed =
    dialect.kind === 'tus' ? type === 'application/offset+octet-stream' : dialect.interop === '5' || type === 'application/partial-upload';
  if (!allowed) {
    throw new AppError(
      'ERR_UNSUPPORTED_MEDIA_TYPE',
      dialect.kind === 'tus' ? 'PATCH bodies must be application/offset+octet-stream.' : 'PATCH bodies must be application/partial-upload.',
    );
  }
}

/** PATCH: append at Upload-Offset, optionally checksummed. */
export async function patchHandler(c: TusContext): Promise<Response> {
  const dialect = requireDialect(c);
  const id = uploadIdOf(c);
  const claims = await requireCapability(c, id);
  checkBodyType(c, dialect);
  await enforcePartLimit(c, claims.sub);
  const offset = integerHeader(c.req.header('upload-offset') ?? null);
  // "The Upload-Offset header's value MUST be equal to the current offset … otherwise 409 Conflict."
  if (offset === null || Number.isNaN(offset)) throw new AppError('ERR_VALIDATION', 'Send Upload-Offset with the byte offset this body starts at.');
  const contentLength = integerHeader(c.req.header('content-length') ?? null);
  if (contentLength !== null && contentLength > MAX_CHUNK_BYTES) {
    throw new AppError('ERR_PAYLOAD_TOO_LARGE', `A PATCH body may be at most ${MAX_CHUNK_BYTES} bytes; send smaller chunks (tus-js-client: chunkSize).`, {
      maxChunkSize: MAX_CHUNK_BYTES,
    });
  }
  const checksum = parseChecksum(c.req.header('upload-checksum') ?? null);
  if (!checksum.ok) {
    // "If the hash algorithm is not supported … 400 Bad Request."
    throw new AppError('ERR_CHECKSUM_ALGORITHM', `Upload-Checksum must be "<${Object.keys(CHECKSUM_ALGORITHMS).join('|')}> <base64>".`);
  }
  const session = sessionStub(c.env, id);
  // creation-defer-length: "The Client MUST set the Upload-Length header in the next PATCH" once known.
  const length = integerHeader(c.req.header('upload-length') ?? null);
  if (Number.isNaN(length)) throw new AppError('ERR_VALIDATION', 'Upload-Length must be a whole number of bytes.');
  if (length !== null) unwrap(await session.declareSize(length, c.get('requestId')));

  let verify: ((seen: number) => Promise<boolean>) | undefined;
  let tap: ((chunk: Uint8Array) => void) | undefined;
  if (checksum.checksum) {
    const { algorithm, digest: expected } = checksum.checksum;
    const hasher = new crypto.DigestStream(CHECKSUM_ALGORITHMS[algorithm]);
    const writer = hasher.getWriter();
    let writes = Promise.resolve();
    tap = (chunk) => {
      const copy = chunk.slice();
      writes = writes.then(() => writer.write(copy));
    };
    verify = async () => {
      await writes;
      await writer.close();
      const actual = new Uint8Array(await hasher.digest);
      return actual.length === expected.length && actual.every((b, i) => b === expected[i]);
    };
  }
  const result = await writeStream(c.env, id, offset, c.req.raw.body, { ...(verify ? { verify } : {}), ...(tap ? { tap } : {}), requestId: c.get('requestId') });
  // checksum: "the Server MUST respond with the 460 Checksum Mismatch status … and discard the chunk".
  if (!result.accepted && !result.truncated) throw new AppError('ERR_CHECKSUM_MISMATCH', 'The body does not match Upload-Checksum; it was discarded.');
  c.header('Upload-Offset', String(result.offset));
  const status = unwrap(await session.streamStatus());
  c.header('Upload-Expires', httpDate(status.expiresAt));
  if (dialect.kind === 'ietf') c.header('Upload-Complete', result.complete ? '?1' : '?0');
  if (dialect.kind === 'ietf' && isComplete(c.req.header('upload-complete') ?? null) && !result.complete) {
    throw new AppError('ERR_VALIDATION', 'Upload-Complete: ?1 was sent but bytes are still missing.');
  }
  return c.body(null, 204);
}

/** termination: "The Server SHOULD free up all resources … and MUST respond with 204 No Content." */
export async function deleteHandler(c: TusContext): Promise<Response> {
  requireDialect(c);
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  unwrap(await sessionStub(c.env, id).abort(c.get('requestId')));
  return c.body(null, 204);
}

/** GET on a finished upload serves its bytes, behind the same validation gate as /media/:id. */
export async function getHandler(c: TusContext): Promise<Response> {
  // Hono routes HEAD to GET handlers.
  if (c.req.method === 'HEAD') return headHandler(c);
  const id = uploadIdOf(c);
  await requireCapability(c, id);
  const info = unwrap(await sessionStub(c.env, id).media());
  // Served to the holder of the upload's token only: never from a shared cache.
  return serveObject(c.req.raw, info, 'private, max-age=3600', new R2Store(c.env.BUCKET));
}
