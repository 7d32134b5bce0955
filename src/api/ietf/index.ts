/**
 * @module The IETF resumable-upload draft at its current interop version, at the same /files/
 * endpoints as tus (requests are told apart by `Upload-Draft-Interop-Version`). Its errors are RFC
 * 9457 problem details; everything else it shares with tus: the session, the stream writer, the
 * upload URLs and their tokens.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { AppError } from '../../domain/errors';
import type { AppEnv } from '../app-env';
import { requirePrincipal } from '../auth';
import { appendHandler, cancelHandler, createHandler, offsetHandler, optionsHandler } from './handlers';
import { problemResponse } from './problem';
import { isCurrentDraft } from './protocol';

const draft = new Hono<AppEnv>({ strict: false }).basePath('/files');

draft.options('/', optionsHandler);
draft.options('/:id', optionsHandler);
draft.post('/', requirePrincipal(), createHandler);
// Hono routes HEAD to GET handlers; "serving response content for a GET request is unexpected", so both retrieve the offset.
draft.get('/:id', offsetHandler);
draft.patch('/:id', appendHandler);
draft.delete('/:id', cancelHandler);
draft.notFound((c) => problemResponse(new AppError('ERR_METHOD_NOT_ALLOWED', `${c.req.method} is not part of the resumable-upload draft here.`)));
// Protocol errors: "Upload-Complete can be false in response to an invalid operation".
draft.onError((error) => problemResponse(error, { 'Upload-Complete': '?0' }));

/** Hands requests of the current draft to its adapter; tus 1.0 and older drafts go on to the tus handlers. */
export function currentDraft(): MiddlewareHandler<AppEnv> {
  return async function currentDraft(c, next) {
    if (!isCurrentDraft(c.req.raw.headers)) return next();
    return draft.fetch(c.req.raw, c.env, c.executionCtx);
  };
}
