/**
 * @module The files index in D1: every owner's uploads, newest first, for listing. D1 rather than the
 * per-owner ledger: an app's backend lists across owners, which one Durable Object per owner cannot
 * answer, and this index is eventually consistent by design (written from upload events, so a list may
 * trail the session by moments; a look-up by id asks the session itself). The only SQL about files.
 */
import type { UploadState } from '../contracts/messages';
import type { FileEntry } from './file-entry';

export interface FileQuery {
  owner?: string;
  states?: UploadState[];
  /** An exact type ("image/png") or a family ("image/*"). */
  type?: string;
  limit: number;
  /** Start after this entry (newest first). */
  after?: { createdAt: number; id: string };
}

export class FilesIndex {
  constructor(private readonly db: D1Database) {}

  /** Writes the entry unless the index already holds a newer state of the same file. */
  async upsert(entry: FileEntry): Promise<void> {
    await this.db
      .prepare(
        `INSERT INTO files (id, owner, state, type, created_at, updated_at, entry) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, state = excluded.state, type = excluded.type,
           updated_at = excluded.updated_at, entry = excluded.entry
         WHERE excluded.updated_at >= files.updated_at`,
      )
      .bind(entry.id, entry.owner, entry.state, entry.type, Date.parse(entry.createdAt), Date.parse(entry.updatedAt), JSON.stringify(entry))
      .run();
  }

  /** Newest first. Deleted (aborted) files are left out unless asked for by state. */
  async list(query: FileQuery): Promise<FileEntry[]> {
    const where: string[] = [];
    const binds: unknown[] = [];
    if (query.owner !== undefined) {
      where.push('owner = ?');
      binds.push(query.owner);
    }
    if (query.states && query.states.length > 0) {
      where.push(`state IN (${query.states.map(() => '?').join(',')})`);
      binds.push(...query.states);
    } else {
      where.push("state != 'aborted'");
    }
    if (query.type?.endsWith('/*')) {
      where.push('type LIKE ?');
      binds.push(`${query.type.slice(0, -1)}%`);
    } else if (query.type) {
      where.push('type = ?');
      binds.push(query.type);
    }
    if (query.after) {
      where.push('(created_at, id) < (?, ?)');
      binds.push(query.after.createdAt, query.after.id);
    }
    const { results } = await this.db
      .prepare(`SELECT entry FROM files WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .bind(...binds, query.limit)
      .all<{ entry: string }>();
    return results.map((r) => JSON.parse(r.entry) as FileEntry);
  }
}
