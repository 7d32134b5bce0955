/**
 * @module Sweeper: the list of unfinished uploads and their deadlines, so the cron handler can
 * poke sessions whose alarm or cleanup did not do its job. Sharded by the upload id's first hex
 * digit (`sweeperShardOf` in session-stub.ts): registration is one RPC per create, and one global
 * object made concurrent creates queue on it.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class Sweeper extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS watch (upload_id TEXT PRIMARY KEY, due_at INTEGER NOT NULL)');
  }

  watch(uploadId: string, dueAt: number): void {
    this.sql.exec('INSERT OR REPLACE INTO watch (upload_id, due_at) VALUES (?, ?)', uploadId, dueAt);
  }

  unwatch(uploadId: string): void {
    this.sql.exec('DELETE FROM watch WHERE upload_id = ?', uploadId);
  }

  /** Upload ids whose deadline has passed, oldest first. */
  due(now: number, limit = 500): string[] {
    return this.sql
      .exec<{ upload_id: string }>('SELECT upload_id FROM watch WHERE due_at <= ? ORDER BY due_at LIMIT ?', now, limit)
      .toArray()
      .map((r) => r.upload_id);
  }
}
