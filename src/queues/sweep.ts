/**
 * @module The cron sweep: asks every session past its deadline to do what its alarm should have
 * done (expire, resend cleanup), and logs a summary.
 */
import { sessionStub, sweeperStub } from '../durable/session-stub';
import type { Env } from '../env';

export interface SweepSummary {
  checked: number;
  states: Record<string, number>;
  errors: number;
}

export async function sweep(env: Env, now = Date.now()): Promise<SweepSummary> {
  const due = await sweeperStub(env).due(now);
  const summary: SweepSummary = { checked: due.length, states: {}, errors: 0 };
  for (const id of due) {
    try {
      const { state } = await sessionStub(env, id).sweep();
      const name = state ?? 'missing';
      summary.states[name] = (summary.states[name] ?? 0) + 1;
      if (state === null) await sweeperStub(env).unwatch(id);
    } catch (error) {
      summary.errors += 1;
      console.error('sweep failed for', id, error);
    }
  }
  console.log('sweep', JSON.stringify(summary));
  return summary;
}
