/**
 * @module Short claims held in a Durable Object's memory: one PUT per part, one streamed write per
 * upload, one processing run per upload. In memory on purpose: a restart or eviction drops them,
 * so a client resuming after a crash is never locked out by a claim nobody holds any more.
 */

export class Leases<K> {
  private readonly held = new Map<K, { id: string; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  /** Takes the claim on `key`, or says how long the current holder still has it. */
  acquire(key: K, now = Date.now()): { ok: true; id: string } | { ok: false; retryAfterMs: number } {
    const current = this.held.get(key);
    if (current && current.expiresAt > now) return { ok: false, retryAfterMs: current.expiresAt - now };
    const id = crypto.randomUUID();
    this.held.set(key, { id, expiresAt: now + this.ttlMs });
    return { ok: true, id };
  }

  /**
   * Whether the holder of `id` may still act on `key`: it holds the claim, or nobody else holds a
   * live one (the claim expired, or was lost when the object was evicted mid-request).
   */
  valid(key: K, id: string, now = Date.now()): boolean {
    const current = this.held.get(key);
    return !current || current.id === id || current.expiresAt <= now;
  }

  renew(key: K, id: string, now = Date.now()): void {
    if (this.valid(key, id, now)) this.held.set(key, { id, expiresAt: now + this.ttlMs });
  }

  /** Whether someone holds a live claim on `key`. */
  isHeld(key: K, now = Date.now()): boolean {
    const current = this.held.get(key);
    return current !== undefined && current.expiresAt > now;
  }

  release(key: K, id: string): void {
    if (this.held.get(key)?.id === id) this.held.delete(key);
  }

  clear(): void {
    this.held.clear();
  }
}
