/**
 * @module How many uploads each limited grant (`maxFiles`, by `jti`) has created, in D1: one
 * statement takes a use only while uses < max, so concurrent creations cannot overshoot. Read and
 * written at creation only, never on the part path.
 */
export class GrantUses {
  constructor(private readonly db: D1Database) {}

  /** Takes one use of the grant; false when all `max` are spent. */
  async take(owner: string, jti: string, max: number): Promise<boolean> {
    const row = await this.db
      .prepare(
        `INSERT INTO grant_uses (grant_key, uses, created_at) VALUES (?, 1, ?)
         ON CONFLICT(grant_key) DO UPDATE SET uses = uses + 1 WHERE uses < ?
         RETURNING uses`,
      )
      .bind(`${owner}\n${jti}`, Date.now(), max)
      .first<{ uses: number }>();
    return row !== null;
  }

  /** Gives a use back (the upload could not be opened after all). */
  async giveBack(owner: string, jti: string): Promise<void> {
    await this.db.prepare('UPDATE grant_uses SET uses = uses - 1 WHERE grant_key = ? AND uses > 0').bind(`${owner}\n${jti}`).run();
  }
}
