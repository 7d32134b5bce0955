/**
 * @module OwnerLedger: one Durable Object per owner. Enforces quotas (unfinished uploads, stored
 * bytes) at creation and keeps the owner's content index (SHA-256 → stored object, with a
 * reference count) for deduplication. A Durable Object rather than D1: each owner's checks are a
 * read-modify-write that must be serialised, which one object per owner gives for free and with
 * no cross-owner contention.
 */
import { DurableObject } from 'cloudflare:workers';
import { fail, ok, type Result } from '../domain/errors';
import type { Env } from '../env';

export interface QuotaLimits {
  maxActiveUploads: number;
  maxStoredBytes: number;
}

export interface ContentClaim {
  /** True when identical bytes were already stored: serve `key`, delete your own copy. */
  duplicate: boolean;
  key: string;
}

export interface Release {
  /** Object keys nothing references any more (delete them), plus the content hash they held. */
  deleteKeys: string[];
  sha256: string | null;
  /** False when the upload never stored validated content: its own bytes are nobody else's. */
  claimed: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  status TEXT NOT NULL,            -- active | stored | released
  sha256 TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contents (
  sha256 TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL
);
-- usage() runs on every create: count the active rows without reading every upload the owner ever had.
CREATE INDEX IF NOT EXISTS uploads_by_status ON uploads (status, size);
`;

export class OwnerLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Counts a new unfinished upload against the quotas, or refuses it. Idempotent per upload id. */
  reserve(uploadId: string, size: number, limits: QuotaLimits): Result<{ activeUploads: number; usedBytes: number }> {
    const usage = this.usage();
    if (this.sql.exec('SELECT 1 FROM uploads WHERE upload_id = ?', uploadId).toArray().length > 0) return ok(usage);
    if (usage.activeUploads >= limits.maxActiveUploads) {
      return fail('ERR_QUOTA_ACTIVE_UPLOADS', `You have ${usage.activeUploads} unfinished uploads; finish or cancel some first.`, {
        limit: limits.maxActiveUploads,
      });
    }
    if (usage.usedBytes + size > limits.maxStoredBytes) {
      return fail('ERR_QUOTA_STORAGE', `This upload would exceed your storage quota of ${limits.maxStoredBytes} bytes.`, {
        limit: limits.maxStoredBytes,
        used: usage.usedBytes,
      });
    }
    this.sql.exec("INSERT INTO uploads (upload_id, size, status, created_at) VALUES (?, ?, 'active', ?)", uploadId, size, Date.now());
    return ok({ activeUploads: usage.activeUploads + 1, usedBytes: usage.usedBytes + size });
  }

  /**
   * The upload's size became known, or grew (uploads of unknown size): count `bytes` for it, or
   * refuse if that would pass the storage quota. Never shrinks a reservation. Idempotent.
   */
  resize(uploadId: string, bytes: number, limits: QuotaLimits): Result<{ usedBytes: number }> {
    return this.ctx.storage.transactionSync(() => {
      const row = this.sql.exec<{ size: number; status: string }>('SELECT size, status FROM uploads WHERE upload_id = ?', uploadId).toArray()[0];
      if (!row || row.status !== 'active') return fail('ERR_UPLOAD_STATE', 'This upload holds no reservation.');
      const usage = this.usage();
      if (bytes <= row.size) return ok({ usedBytes: usage.usedBytes });
      if (usage.usedBytes - row.size + bytes > limits.maxStoredBytes) {
        return fail('ERR_QUOTA_STORAGE', `This upload would exceed your storage quota of ${limits.maxStoredBytes} bytes.`, {
          limit: limits.maxStoredBytes,
          used: usage.usedBytes,
        });
      }
      this.sql.exec('UPDATE uploads SET size = ? WHERE upload_id = ?', bytes, uploadId);
      return ok({ usedBytes: usage.usedBytes - row.size + bytes });
    });
  }

  /** Whether any upload of this owner still stores content with this hash (its derivatives stay). */
  holdsContent(sha256: string): boolean {
    return this.sql.exec('SELECT 1 FROM contents WHERE sha256 = ?', sha256).toArray().length > 0;
  }

  /**
   * Records that an upload's validated bytes have this hash. If the owner already stores the same
   * bytes, the upload shares them (reference counted). Idempotent per upload id.
   */
  claimContent(uploadId: string, sha256: string, key: string, size: number): ContentClaim {
    return this.ctx.storage.transactionSync(() => {
      const upload = this.sql.exec<{ status: string; sha256: string | null }>('SELECT status, sha256 FROM uploads WHERE upload_id = ?', uploadId).toArray()[0];
      const existing = this.sql.exec<{ key: string }>('SELECT key FROM contents WHERE sha256 = ?', sha256).toArray()[0];
      if (upload?.status === 'stored' && upload.sha256 === sha256) {
        return { duplicate: existing !== undefined && existing.key !== key, key: existing?.key ?? key };
      }
      if (existing) this.sql.exec('UPDATE contents SET refs = refs + 1 WHERE sha256 = ?', sha256);
      else this.sql.exec('INSERT INTO contents (sha256, key, size, refs) VALUES (?, ?, ?, 1)', sha256, key, size);
      this.sql.exec(
        `INSERT INTO uploads (upload_id, size, status, sha256, created_at) VALUES (?, ?, 'stored', ?, ?)
         ON CONFLICT(upload_id) DO UPDATE SET status = 'stored', sha256 = excluded.sha256`,
        uploadId, size, sha256, Date.now(),
      );
      return { duplicate: existing !== undefined && existing.key !== key, key: existing?.key ?? key };
    });
  }

  /** The upload is over (aborted, expired, rejected, failed or deleted). Idempotent. */
  release(uploadId: string): Release {
    return this.ctx.storage.transactionSync(() => {
      const upload = this.sql.exec<{ status: string; sha256: string | null }>('SELECT status, sha256 FROM uploads WHERE upload_id = ?', uploadId).toArray()[0];
      const claimed = upload?.sha256 != null;
      if (!upload || upload.status === 'released') return { deleteKeys: [], sha256: upload?.sha256 ?? null, claimed };
      this.sql.exec("UPDATE uploads SET status = 'released' WHERE upload_id = ?", uploadId);
      if (upload.status !== 'stored' || !upload.sha256) return { deleteKeys: [], sha256: null, claimed };
      const content = this.sql.exec<{ key: string; refs: number }>('SELECT key, refs FROM contents WHERE sha256 = ?', upload.sha256).toArray()[0];
      if (!content) return { deleteKeys: [], sha256: null, claimed };
      if (content.refs > 1) {
        this.sql.exec('UPDATE contents SET refs = refs - 1 WHERE sha256 = ?', upload.sha256);
        return { deleteKeys: [], sha256: upload.sha256, claimed };
      }
      this.sql.exec('DELETE FROM contents WHERE sha256 = ?', upload.sha256);
      return { deleteKeys: [content.key], sha256: upload.sha256, claimed };
    });
  }

  usage(): { activeUploads: number; usedBytes: number } {
    const active = this.sql.exec<{ n: number; bytes: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM uploads WHERE status = 'active'").one();
    const stored = this.sql.exec<{ bytes: number }>('SELECT COALESCE(SUM(size), 0) AS bytes FROM contents').one();
    return { activeUploads: active.n, usedBytes: active.bytes + stored.bytes };
  }
}
