/**
 * @module The cron sweep: asks every session past its deadline to do what its alarm should have
 * done (expire, resend cleanup), and logs a summary.
 */
import { SWEEPER_SHARDS, sessionStub, sweeperShardOf, sweeperStub } from '../durable/session-stub';
import type { Env } from '../env';

export interface SweepSummary {
  checked: number;
  states: Record<string, number>;
  errors: number;
}

export async function sweep(env: Env, now = Date.now()): Promise<SweepSummary> {
  const summary: SweepSummary = { checked: 0, states: {}, errors: 0 };
  for (const shard of SWEEPER_SHARDS) await sweepShard(env, shard, now, summary);
  console.log('sweep', JSON.stringify(summary));
  return summary;
}

async function sweepShard(env: Env, shard: string, now: number, summary: SweepSummary): Promise<void> {
  const due = await sweeperStub(env, shard).due(now);
  summary.checked += due.length;
  for (const id of due) {
    try {
      const { state } = await sessionStub(env, id).sweep();
      const name = state ?? 'missing';
      summary.states[name] = (summary.states[name] ?? 0) + 1;
      // Missing, or a row of the legacy shard: the session re-registered in its own shard if it still needs watching.
      if (state === null || shard !== sweeperShardOf(id)) await sweeperStub(env, shard).unwatch(id);
    } catch (error) {
      summary.errors += 1;
      console.error('sweep failed for', id, error);
    }
  }
}
