/**
 * @module The webhook delivery log in D1: one row per (event, endpoint) with the body to send, one
 * row per attempt. The only module that speaks SQL about deliveries.
 */
import { toHex } from '../domain/base64url';
import type { DeliveryStatus, DeliveryView } from './delivery-view';

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  upload_id: string;
  endpoint: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface AttemptRow {
  delivery_id: string;
  n: number;
  at: number;
  outcome: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Deterministic per (event, endpoint), so a re-delivered event message creates no second delivery. */
export async function deliveryIdFor(eventId: string, endpoint: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${eventId}\n${endpoint}`));
  return `dlv_${toHex(digest).slice(0, 32)}`;
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  event: string;
  uploadId: string;
  endpoint: string;
  body: string;
}

export class DeliveryLog {
  constructor(private readonly db: D1Database) {}

  /** Records deliveries (existing ones are kept as they are); returns the ids still waiting for a first attempt. */
  async open(deliveries: NewDelivery[], now = Date.now()): Promise<string[]> {
    if (deliveries.length === 0) return [];
    await this.db.batch(
      deliveries.map((d) =>
        this.db
          .prepare(
            `INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, event, upload_id, endpoint, body, status, attempts, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
          )
          .bind(d.id, d.webhookId, d.eventId, d.event, d.uploadId, d.endpoint, d.body, now, now),
      ),
    );
    const placeholders = deliveries.map(() => '?').join(',');
    const { results } = await this.db
      .prepare(`SELECT id FROM webhook_deliveries WHERE id IN (${placeholders}) AND status = 'pending' AND attempts = 0`)
      .bind(...deliveries.map((d) => d.id))
      .all<{ id: string }>();
    return results.map((r) => r.id);
  }

  get(id: string): Promise<DeliveryRow | null> {
    return this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').bind(id).first<DeliveryRow>();
  }

  /** Records one attempt and the delivery's new status, atomically. */
  async recordAttempt(
    row: DeliveryRow,
    attempt: { status: DeliveryStatus; outcome: string; httpStatus: number | null; error: string | null; durationMs: number; nextAttemptAt: number | null },
    now = Date.now(),
  ): Promise<void> {
    await this.db.batch([
      this.db
        .prepare(
          `INSERT INTO webhook_attempts (delivery_id, n, at, outcome, status, error, duration_ms)
           VALUES (?, (SELECT COALESCE(MAX(n), 0) + 1 FROM webhook_attempts WHERE delivery_id = ?), ?, ?, ?, ?, ?)`,
        )
        .bind(row.id, row.id, now, attempt.outcome, attempt.httpStatus, attempt.error, attempt.durationMs),
      this.db
        .prepare(
          `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ?,
             updated_at = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
           WHERE id = ?`,
        )
        .bind(attempt.status, attempt.httpStatus, attempt.error, attempt.nextAttemptAt, now, attempt.status, now, row.id),
    ]);
  }

  /** A delivery that will not be attempted (e.g. its endpoint was removed from the configuration). */
  async close(id: string, status: DeliveryStatus, error: string, now = Date.now()): Promise<void> {
    await this.db.prepare('UPDATE webhook_deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?').bind(status, error, now, id).run();
  }

  /** Starts a new round of attempts (redeliver). False when the delivery is still being attempted. */
  async restart(id: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .prepare("UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ? AND status != 'pending'")
      .bind(now, now, id)
      .run();
    return result.meta.changes > 0;
  }

  async forUpload(uploadId: string): Promise<DeliveryView[]> {
    const [deliveries, attempts] = await this.db.batch([
      this.db.prepare('SELECT * FROM webhook_deliveries WHERE upload_id = ? ORDER BY created_at, event, endpoint LIMIT 200').bind(uploadId),
      this.db
        .prepare('SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.upload_id = ? ORDER BY a.delivery_id, a.n LIMIT 5000')
        .bind(uploadId),
    ]);
    return this.views(deliveries!.results as unknown as DeliveryRow[], attempts!.results as unknown as AttemptRow[]);
  }

  async view(id: string): Promise<DeliveryView | null> {
    const row = await this.get(id);
    if (!row) return null;
    const { results } = await this.db.prepare('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY n').bind(id).all<AttemptRow>();
    return this.views([row], results)[0]!;
  }

  private views(rows: DeliveryRow[], attempts: AttemptRow[]): DeliveryView[] {
    return rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      event: row.event,
      uploadId: row.upload_id,
      endpoint: row.endpoint,
      status: row.status,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastError: row.last_error,
      nextAttemptAt: iso(row.next_attempt_at),
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
      deliveredAt: iso(row.delivered_at),
      log: attempts
        .filter((a) => a.delivery_id === row.id)
        .map((a) => ({ n: a.n, at: iso(a.at)!, outcome: a.outcome, status: a.status, error: a.error, durationMs: a.duration_ms })),
    }));
  }
}
