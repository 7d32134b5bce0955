/** @module How Worker-side callers reach the Durable Objects: an upload's session, an owner's ledger, the sweeper. */
import type { Env } from '../env';

export function sessionStub(env: Env, uploadId: string) {
  return env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(uploadId));
}

export function ledgerStub(env: Env, owner: string) {
  return env.OWNER_LEDGER.get(env.OWNER_LEDGER.idFromName(owner));
}

export function sweeperStub(env: Env) {
  return env.SWEEPER.get(env.SWEEPER.idFromName('global'));
}
