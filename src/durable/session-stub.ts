/** @module How Worker-side callers reach the Durable Objects: an upload's session, an owner's ledger, the sweeper's shards. */
import type { Env } from '../env';

export function sessionStub(env: Env, uploadId: string) {
  return env.UPLOAD_SESSION.get(env.UPLOAD_SESSION.idFromName(uploadId));
}

export function ledgerStub(env: Env, owner: string) {
  return env.OWNER_LEDGER.get(env.OWNER_LEDGER.idFromName(owner));
}

/**
 * The sweeper is sharded by the upload id's first hex digit (ids are random hex), so concurrent
 * creates do not queue on one object. `global` is the single object of earlier versions: the cron
 * still reads it until its rows are gone.
 */
export const SWEEPER_SHARDS = [...Array.from({ length: 16 }, (_, i) => `shard-${i.toString(16)}`), 'global'];

export function sweeperShardOf(uploadId: string): string {
  const digit = Number.parseInt(uploadId.charAt(0), 16);
  return Number.isNaN(digit) ? 'global' : `shard-${digit.toString(16)}`;
}

export function sweeperStub(env: Env, shard: string) {
  return env.SWEEPER.get(env.SWEEPER.idFromName(shard));
}

/** The sweeper shard that watches this upload. */
export const sweeperFor = (env: Env, uploadId: string) => sweeperStub(env, sweeperShardOf(uploadId));
