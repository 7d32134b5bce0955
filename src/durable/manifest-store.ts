/**
 * @module The session's SQLite manifest: one upload row and its confirmed parts.
 * Synchronous `sql.exec` calls only, so each method is atomic under the input gate; callers
 * combine several in `transactionSync` where they must commit together.
 */
import type { PartInfo, UploadResult, UploadState } from '../protocol/messages';

export interface UploadRow {
  id: string;
  owner: string;
  key: string;
  name: string;
  type: string;
  /** Null while the size is not known yet (tus Upload-Defer-Length, S3-style multipart). */
  size: number | null;
  partSize: number;
  partCount: number | null;
  r2UploadId: string;
  state: UploadState;
  reason: string | null;
  sha256: string | null;
  metadata: Record<string, string> | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  assemblyAttempts: number;
  jobQueued: boolean;
  /** When the processing job was last queued, and how often. */
  jobQueuedAt: number | null;
  jobAttempts: number;
  result: UploadResult | null;
  /** For expired uploads: the cleanup message was sent / the R2 upload was aborted. */
  cleanupQueued: boolean;
  cleaned: boolean;
  /** Bytes held in the staging object after the last full part (streamed protocols such as tus). */
  stagedBytes: number;
  /** A fragment to be concatenated (tus Upload-Concat: partial): assembled, never processed or served. */
  partial: boolean;
}

export interface PartRow extends PartInfo {
  etag: string;
  digest: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS upload (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER,
  part_size INTEGER NOT NULL,
  part_count INTEGER,
  r2_upload_id TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  sha256 TEXT,
  metadata TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  assembly_attempts INTEGER NOT NULL DEFAULT 0,
  job_queued INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  cleanup_queued INTEGER NOT NULL DEFAULT 0,
  cleaned INTEGER NOT NULL DEFAULT 0,
  staged_bytes INTEGER NOT NULL DEFAULT 0,
  partial INTEGER NOT NULL DEFAULT 0,
  job_queued_at INTEGER,
  job_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS parts (
  part_number INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  digest TEXT,
  confirmed_at INTEGER NOT NULL
);
`;

type Raw = Record<string, SqlStorageValue>;

function toUploadRow(raw: Raw): UploadRow {
  return {
    id: raw.id as string,
    owner: raw.owner as string,
    key: raw.key as string,
    name: raw.name as string,
    type: raw.type as string,
    size: (raw.size as number | null) ?? null,
    partSize: raw.part_size as number,
    partCount: (raw.part_count as number | null) ?? null,
    r2UploadId: raw.r2_upload_id as string,
    state: raw.state as UploadState,
    reason: (raw.reason as string | null) ?? null,
    sha256: (raw.sha256 as string | null) ?? null,
    metadata: raw.metadata ? (JSON.parse(raw.metadata as string) as Record<string, string>) : null,
    createdAt: raw.created_at as number,
    updatedAt: raw.updated_at as number,
    expiresAt: raw.expires_at as number,
    assemblyAttempts: raw.assembly_attempts as number,
    jobQueued: raw.job_queued === 1,
    jobQueuedAt: (raw.job_queued_at as number | null) ?? null,
    jobAttempts: raw.job_attempts as number,
    result: raw.result ? (JSON.parse(raw.result as string) as UploadResult) : null,
    cleanupQueued: raw.cleanup_queued === 1,
    cleaned: raw.cleaned === 1,
    stagedBytes: raw.staged_bytes as number,
    partial: raw.partial === 1,
  };
}

export type NewUpload = Omit<
  UploadRow,
  'state' | 'reason' | 'updatedAt' | 'assemblyAttempts' | 'jobQueued' | 'jobQueuedAt' | 'jobAttempts' | 'result' | 'cleanupQueued' | 'cleaned' | 'stagedBytes' | 'partial'
> & { partial?: boolean };

export class ManifestStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  upload(): UploadRow | null {
    const rows = this.sql.exec<Raw>('SELECT * FROM upload LIMIT 1').toArray();
    return rows[0] ? toUploadRow(rows[0]) : null;
  }

  insert(u: NewUpload): void {
    this.sql.exec(
      `INSERT INTO upload (id, owner, key, name, type, size, part_size, part_count, r2_upload_id, state,
         sha256, metadata, created_at, updated_at, expires_at, partial)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?)`,
      u.id, u.owner, u.key, u.name, u.type, u.size, u.partSize, u.partCount, u.r2UploadId,
      u.sha256, u.metadata ? JSON.stringify(u.metadata) : null, u.createdAt, u.createdAt, u.expiresAt, u.partial ? 1 : 0,
    );
  }

  setState(state: UploadState, reason: string | null = null, now = Date.now()): void {
    this.sql.exec('UPDATE upload SET state = ?, reason = ?, updated_at = ?', state, reason, now);
  }

  /** The files API (issue 13): the name and metadata an app may change after creation. */
  setDetails(name: string, metadata: Record<string, string> | null, now = Date.now()): void {
    this.sql.exec('UPDATE upload SET name = ?, metadata = ?, updated_at = ?', name, metadata ? JSON.stringify(metadata) : null, now);
  }

  setResult(result: UploadResult): void {
    this.sql.exec('UPDATE upload SET result = ?', JSON.stringify(result));
  }

  bumpAssemblyAttempts(): number {
    return this.sql.exec<{ n: number }>(
      'UPDATE upload SET assembly_attempts = assembly_attempts + 1 RETURNING assembly_attempts AS n',
    ).one().n;
  }

  setJobQueued(now = Date.now()): void {
    this.sql.exec('UPDATE upload SET job_queued = 1, job_queued_at = ?, job_attempts = job_attempts + 1', now);
  }

  setCleanupQueued(): void {
    this.sql.exec('UPDATE upload SET cleanup_queued = 1');
  }

  setCleaned(): void {
    this.sql.exec('UPDATE upload SET cleaned = 1');
  }

  /** Serves the upload from another key (deduplicated content). */
  setKey(key: string): void {
    this.sql.exec('UPDATE upload SET key = ?', key);
  }

  /** Unfinished uploads live `ttl` after their last confirmed part. */
  extendExpiry(expiresAt: number): void {
    this.sql.exec('UPDATE upload SET expires_at = MAX(expires_at, ?)', expiresAt);
  }

  /** Fixes the size once it is known: the plan follows from it. */
  setSize(size: number, partSize: number, partCount: number): void {
    this.sql.exec('UPDATE upload SET size = ?, part_size = ?, part_count = ?', size, partSize, partCount);
  }

  /** Forgets parts that are not in the final list (S3-style completion names the parts it wants). */
  keepOnlyParts(partNumbers: number[]): void {
    this.sql.exec(`DELETE FROM parts WHERE part_number NOT IN (${partNumbers.map(() => '?').join(',') || 'NULL'})`, ...partNumbers);
  }

  setStagedBytes(bytes: number): void {
    this.sql.exec('UPDATE upload SET staged_bytes = ?, updated_at = ?', bytes, Date.now());
  }



  /** Drops everything but the upload row: what an expired upload keeps as its tombstone. */
  clearParts(): void {
    this.sql.exec('DELETE FROM parts');
  }

  part(partNumber: number): PartRow | null {
    const rows = this.sql
      .exec<Raw>('SELECT part_number, size, etag, digest FROM parts WHERE part_number = ?', partNumber)
      .toArray();
    const raw = rows[0];
    return raw
      ? { partNumber: raw.part_number as number, size: raw.size as number, etag: raw.etag as string, digest: (raw.digest as string | null) ?? null }
      : null;
  }

  parts(): PartRow[] {
    return this.sql
      .exec<Raw>('SELECT part_number, size, etag, digest FROM parts ORDER BY part_number')
      .toArray()
      .map((raw) => ({
        partNumber: raw.part_number as number,
        size: raw.size as number,
        etag: raw.etag as string,
        digest: (raw.digest as string | null) ?? null,
      }));
  }

  /** Confirmed parts and bytes, derived from the parts table rather than kept twice. */
  totals(): { confirmedParts: number; confirmedBytes: number } {
    const row = this.sql
      .exec<{ n: number; bytes: number }>('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM parts')
      .one();
    return { confirmedParts: row.n, confirmedBytes: row.bytes };
  }

  /** Records a confirmed part (replacing an earlier copy of it), atomically. */
  confirmPart(part: PartRow, now = Date.now()): void {
    this.sql.exec(
      `INSERT INTO parts (part_number, size, etag, digest, confirmed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
         digest = excluded.digest, confirmed_at = excluded.confirmed_at`,
      part.partNumber, part.size, part.etag, part.digest, now,
    );
    this.sql.exec(
      "UPDATE upload SET updated_at = ?, state = CASE WHEN state = 'created' THEN 'uploading' ELSE state END",
      now,
    );
  }




}
