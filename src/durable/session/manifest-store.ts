/**
 * @module The session's SQLite manifest: one upload row and its confirmed parts. SQL only: no
 * rule and no state change of its own (the state machine decides; the session writes).
 * Synchronous `sql.exec` calls only, so each method is atomic under the input gate; callers
 * combine several in `transactionSync` where they must commit together. The schema is created by
 * the first write, so reading an unknown upload stores nothing.
 */
import type { PartInfo, UploadResult, Visibility } from '../../contracts/messages';
import type { UploadState } from '../../contracts/upload-states';

/** The limits that applied when the upload was opened; the session enforces them as sizes become known. */
export interface UploadLimits {
  maxFileSize: number;
  maxStoredBytes: number;
  maxActiveUploads: number;
}

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
  /** When the processing job was last queued (null: not yet), and how often. */
  jobQueuedAt: number | null;
  jobAttempts: number;
  result: UploadResult | null;
  /** For uploads that ended without a file: cleanup was handed to the queue / everything is removed. */
  cleanupQueued: boolean;
  cleaned: boolean;
  /** Null for uploads opened before limits were recorded: the deployment's settings apply. */
  limits: UploadLimits | null;
  /** Bytes counted against the owner's storage quota for this upload so far. */
  reservedBytes: number;
  /** "private": served only through signed URLs. */
  visibility: Visibility;
  /** The request that last moved the upload: carried into the queue messages and notices it causes. */
  requestId: string | null;
  /** Parts sent again after they were confirmed (a client retrying): for the metrics. */
  partRetries: number;
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
  result TEXT,
  cleanup_queued INTEGER NOT NULL DEFAULT 0,
  cleaned INTEGER NOT NULL DEFAULT 0,
  staged_bytes INTEGER NOT NULL DEFAULT 0,
  partial INTEGER NOT NULL DEFAULT 0,
  job_queued_at INTEGER,
  job_attempts INTEGER NOT NULL DEFAULT 0,
  limits TEXT,
  reserved_bytes INTEGER NOT NULL DEFAULT 0,
  visibility TEXT NOT NULL DEFAULT 'public',
  request_id TEXT,
  part_retries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message TEXT NOT NULL
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

const json = <T>(value: SqlStorageValue | undefined): T | null => (value ? (JSON.parse(value as string) as T) : null);
const orNull = <T>(value: SqlStorageValue | undefined): T | null => (value as T | null) ?? null;

function toUploadRow(raw: Raw): UploadRow {
  return {
    id: raw.id as string,
    owner: raw.owner as string,
    key: raw.key as string,
    name: raw.name as string,
    type: raw.type as string,
    size: orNull<number>(raw.size),
    partSize: raw.part_size as number,
    partCount: orNull<number>(raw.part_count),
    r2UploadId: raw.r2_upload_id as string,
    state: raw.state as UploadState,
    reason: orNull<string>(raw.reason),
    sha256: orNull<string>(raw.sha256),
    metadata: json<Record<string, string>>(raw.metadata),
    createdAt: raw.created_at as number,
    updatedAt: raw.updated_at as number,
    expiresAt: raw.expires_at as number,
    assemblyAttempts: raw.assembly_attempts as number,
    jobQueuedAt: orNull<number>(raw.job_queued_at),
    jobAttempts: raw.job_attempts as number,
    result: json<UploadResult>(raw.result),
    cleanupQueued: raw.cleanup_queued === 1,
    cleaned: raw.cleaned === 1,
    stagedBytes: raw.staged_bytes as number,
    partial: raw.partial === 1,
    limits: json<UploadLimits>(raw.limits),
    reservedBytes: (raw.reserved_bytes as number | null) ?? 0,
    visibility: raw.visibility === 'private' ? 'private' : 'public',
    requestId: orNull<string>(raw.request_id),
    partRetries: (raw.part_retries as number | null) ?? 0,
  };
}

/** Columns added after the first schema: existing tables gain them on first access. */
const ADDED_COLUMNS: [string, string][] = [
  ['limits', 'TEXT'],
  ['reserved_bytes', 'INTEGER NOT NULL DEFAULT 0'],
  ['visibility', "TEXT NOT NULL DEFAULT 'public'"],
  ['request_id', 'TEXT'],
  ['part_retries', 'INTEGER NOT NULL DEFAULT 0'],
];

export type NewUpload = Omit<
  UploadRow,
  'state' | 'reason' | 'updatedAt' | 'assemblyAttempts' | 'jobQueuedAt' | 'jobAttempts' | 'result' | 'cleanupQueued' | 'cleaned' | 'stagedBytes' | 'partial' | 'limits' | 'visibility' | 'requestId' | 'partRetries'
> & { partial?: boolean; limits: UploadLimits; visibility?: Visibility; requestId?: string };

export class ManifestStore {
  /** Whether the tables exist: checked once per instance, never created by a read. */
  private ready = false;

  constructor(private readonly sql: SqlStorage) {}

  private exists(): boolean {
    if (this.ready) return true;
    const found = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upload'").toArray().length > 0;
    if (found) this.migrate();
    this.ready = found;
    return found;
  }

  private migrate(): void {
    this.sql.exec('CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL)');
    const have = new Set(this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('upload')").toArray().map((r) => r.name));
    for (const [name, type] of ADDED_COLUMNS) if (!have.has(name)) this.sql.exec(`ALTER TABLE upload ADD COLUMN ${name} ${type}`);
  }

  upload(): UploadRow | null {
    if (!this.exists()) return null;
    const rows = this.sql.exec<Raw>('SELECT * FROM upload LIMIT 1').toArray();
    return rows[0] ? toUploadRow(rows[0]) : null;
  }

  insert(u: NewUpload): void {
    this.sql.exec(SCHEMA);
    this.ready = true;
    this.migrate();
    this.sql.exec(
      `INSERT INTO upload (id, owner, key, name, type, size, part_size, part_count, r2_upload_id, state,
         sha256, metadata, created_at, updated_at, expires_at, partial, limits, reserved_bytes, visibility, request_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      u.id, u.owner, u.key, u.name, u.type, u.size, u.partSize, u.partCount, u.r2UploadId,
      u.sha256, u.metadata ? JSON.stringify(u.metadata) : null, u.createdAt, u.createdAt, u.expiresAt, u.partial ? 1 : 0,
      JSON.stringify(u.limits), u.reservedBytes, u.visibility ?? 'public', u.requestId ?? null,
    );
  }

  /** Remembers the request that is moving the upload now. */
  setRequestId(requestId: string): void {
    if (!this.exists()) return; // an unknown upload: nothing to note, and no schema to create
    this.sql.exec('UPDATE upload SET request_id = ?', requestId);
  }

  /** The files API: the name, metadata and visibility an app may change after creation. */
  setDetails(name: string, metadata: Record<string, string> | null, visibility: Visibility, now = Date.now()): void {
    this.sql.exec('UPDATE upload SET name = ?, metadata = ?, visibility = ?, updated_at = ?', name, metadata ? JSON.stringify(metadata) : null, visibility, now);
  }

  /** Notices for the app, written with the change they describe and removed once handed over. */
  addToOutbox(message: string): void {
    this.sql.exec('INSERT INTO outbox (message) VALUES (?)', message);
  }

  outbox(): { id: number; message: string }[] {
    if (!this.exists()) return [];
    return this.sql.exec<{ id: number; message: string }>('SELECT id, message FROM outbox ORDER BY id').toArray();
  }

  removeFromOutbox(id: number): void {
    this.sql.exec('DELETE FROM outbox WHERE id = ?', id);
  }

  setState(state: UploadState, reason: string | null = null, now = Date.now()): void {
    this.sql.exec('UPDATE upload SET state = ?, reason = ?, updated_at = ?', state, reason, now);
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
    this.sql.exec('UPDATE upload SET job_queued_at = ?, job_attempts = job_attempts + 1', now);
  }

  setReservedBytes(bytes: number): void {
    this.sql.exec('UPDATE upload SET reserved_bytes = ?', bytes);
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
      ? { partNumber: raw.part_number as number, size: raw.size as number, etag: raw.etag as string, digest: orNull<string>(raw.digest) }
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
        digest: orNull<string>(raw.digest),
      }));
  }

  /** Confirmed parts and bytes, derived from the parts table rather than kept twice. */
  totals(): { confirmedParts: number; confirmedBytes: number } {
    const row = this.sql
      .exec<{ n: number; bytes: number }>('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM parts')
      .one();
    return { confirmedParts: row.n, confirmedBytes: row.bytes };
  }

  /** Records a confirmed part (replacing an earlier copy of it, which counts as a retry). */
  confirmPart(part: PartRow, now = Date.now()): void {
    if (this.part(part.partNumber)) this.sql.exec('UPDATE upload SET part_retries = part_retries + 1');
    this.sql.exec(
      `INSERT INTO parts (part_number, size, etag, digest, confirmed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
         digest = excluded.digest, confirmed_at = excluded.confirmed_at`,
      part.partNumber, part.size, part.etag, part.digest, now,
    );
    this.sql.exec('UPDATE upload SET updated_at = ?', now);
  }
}
