/**
 * @module The files API for the app: list (newest first, from the D1 index, cursor-paginated),
 * look up, change (name, metadata, visibility) and delete files. A creator JWT sees its own
 * files; an API key sees every owner's (`?owner=` narrows a list). Look-ups and changes go to the
 * upload's session, the source of truth; lists come from the index, which trails it by moments.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { loadConfig, requireKeyRing, requireMediaKeys } from '../config';
import { AppError, unwrap } from '../domain/errors';
import { mediaPath, signMediaPath } from '../domain/media-signature';
import { metadataSchema } from '../domain/metadata';
import { signPayload, verifyPayload } from '../domain/signed-payload';
import { sessionStub } from '../durable/session-stub';
import type { FileView } from '../durable/upload-session';
import { fileEntry, type FileEntry } from '../files/file-entry';
import { FilesIndex } from '../files/files-index';
import { UPLOAD_STATES } from '../contracts/messages';
import { eventSubject } from '../webhooks/upload-event';
import type { AppEnv } from './app-env';
import { requireAppOrCreator } from './api-keys';
import { sanitizeName } from './open-upload';
import { uploadIdSchema } from './schemas';
import { parseJsonBody, parseWith } from './validation';

export const files = new Hono<AppEnv>();

files.use('*', requireAppOrCreator());

const CURSOR_PURPOSE = 'files-cursor';

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
  state: z
    .string()
    .max(200)
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(UPLOAD_STATES)).max(UPLOAD_STATES.length))
    .optional(),
  type: z
    .string()
    .max(255)
    .regex(/^[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+)$/, 'a MIME type such as image/png, or image/*')
    .optional(),
  owner: z.string().min(1).max(256).optional(),
});

const patchSchema = z
  .object({
    name: z.string().max(1024).refine((name) => name.trim().length > 0, 'must not be blank').optional(),
    metadata: metadataSchema.optional(),
    visibility: z.enum(['public', 'private']).optional(),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.metadata !== undefined || b.visibility !== undefined, 'change at least one of name, metadata, visibility');

/** Which owner's files the caller may list: the creator's own; any (or `?owner=`) with an API key. */
function listOwner(c: Context<AppEnv>, asked: string | undefined): string | undefined {
  if (c.get('apiKey')) return asked;
  const owner = c.get('owner');
  if (asked !== undefined && asked !== owner) throw new AppError('ERR_OWNER_SCOPE', 'A creator token lists only its own files.');
  return owner;
}

files.get('/', async (c) => {
  const query = parseWith(listQuerySchema, c.req.query(), 'query');
  const owner = listOwner(c, query.owner);
  const ring = requireKeyRing(loadConfig(c.env));
  // The cursor is bound to the filters it was made for: reusing it with others is refused.
  const filters = JSON.stringify([owner ?? null, query.state ?? null, query.type ?? null]);
  let after: { createdAt: number; id: string } | undefined;
  if (query.cursor) {
    const payload = await verifyPayload(ring, CURSOR_PURPOSE, query.cursor);
    if (!payload || payload.f !== filters || typeof payload.c !== 'number' || typeof payload.i !== 'string') {
      throw new AppError('ERR_CURSOR_INVALID', 'The cursor is not one this list gave out (altered, or used with other filters).');
    }
    after = { createdAt: payload.c, id: payload.i };
  }
  const rows = await new FilesIndex(c.env.DB).list({ owner, states: query.state, type: query.type, limit: query.limit + 1, after });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last ? await signPayload(ring, CURSOR_PURPOSE, { f: filters, c: Date.parse(last.createdAt), i: last.id }) : null;
  c.header('Cache-Control', 'no-store');
  return c.json({ files: page, nextCursor });
});

/** The session's view of a file the caller may see; another owner's file is "not found" to a creator. */
async function visibleFile(c: Context<AppEnv>, id: string): Promise<FileView> {
  const view = unwrap(await sessionStub(c.env, id).fileView());
  if (!c.get('apiKey') && view.owner !== c.get('owner')) throw new AppError('ERR_UPLOAD_NOT_FOUND', 'No upload with this id.');
  return view;
}

const entryOf = (c: Context<AppEnv>, view: FileView): FileEntry => fileEntry(eventSubject(c.env, view));
const idOf = (c: Context<AppEnv>) => parseWith(uploadIdSchema, c.req.param('id'), 'file id');

files.get('/:id', async (c) => {
  const view = await visibleFile(c, idOf(c));
  c.header('Cache-Control', 'no-store');
  return c.json(entryOf(c, view));
});

files.patch('/:id', async (c) => {
  const id = idOf(c);
  const changes = await parseJsonBody(c, patchSchema);
  await visibleFile(c, id);
  const view = unwrap(
    await sessionStub(c.env, id).updateFile({ ...changes, ...(changes.name !== undefined ? { name: sanitizeName(changes.name) } : {}) }),
  );
  return c.json(entryOf(c, view));
});

files.delete('/:id', async (c) => {
  const id = idOf(c);
  await visibleFile(c, id);
  const { state } = unwrap(await sessionStub(c.env, id).abort(c.get('requestId')));
  return c.json({ id, state });
});

const signedUrlSchema = z
  .object({
    variant: z.string().regex(/^[a-z0-9-]{1,32}$/, 'not a variant name').optional(),
    /** Seconds, up to 7 days; 1 hour by default. */
    expiresIn: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  })
  .strict();

/** A signed, expiring URL for the file (or one variant): how private files are opened. */
files.post('/:id/url', async (c) => {
  const id = idOf(c);
  const body = await parseJsonBody(c, signedUrlSchema);
  await visibleFile(c, id);
  const config = loadConfig(c.env);
  const exp = Math.floor(Date.now() / 1000) + body.expiresIn;
  const path = mediaPath(id, body.variant);
  const query = await signMediaPath(requireMediaKeys(config), path, exp);
  const base = config.publicBaseUrl ?? new URL(c.req.url).origin;
  c.header('Cache-Control', 'no-store');
  return c.json({ url: `${base}${path}?${query}`, expiresAt: new Date(exp * 1000).toISOString() });
});
