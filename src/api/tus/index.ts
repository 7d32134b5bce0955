/**
 * @module tus 1.0 (and the IETF resumable-upload drafts) at /files/: an adapter over the same
 * upload session as the native API, so events, validation, scanning, derivatives and expiry are
 * shared. Every response carries Tus-Resumable.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { requirePrincipal } from '../auth';
import { currentDraft } from '../ietf';
import { deleteHandler, getHandler, optionsHandler, patchHandler, postHandler } from './handlers';
import { TUS_VERSION } from './protocol';

export const tus = new Hono<AppEnv>();

tus.use('*', async function tusResumable(c, next) {
  // X-HTTP-Method-Override lets clients behind proxies that drop PATCH send a POST.
  await next();
  c.res.headers.set('Tus-Resumable', TUS_VERSION);
});

// Requests of the IETF draft's current interop version have their own adapter (src/api/ietf).
tus.use('*', currentDraft());
tus.options('/', optionsHandler);
tus.post('/', requirePrincipal(), postHandler);
tus.options('/:id', optionsHandler);
tus.patch('/:id', patchHandler);
tus.post('/:id', async (c, next) => {
  if (c.req.header('x-http-method-override')?.toUpperCase() === 'PATCH') return patchHandler(c);
  return next();
});
tus.delete('/:id', deleteHandler);
// GET serves a finished upload; HEAD (routed here by Hono) reports the offset.
tus.get('/:id', getHandler);
