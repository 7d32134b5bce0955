/**
 * @module Structured logging: one JSON object per line on the console, which Workers Logs
 * (`[observability]`) indexes field by field. Owners are logged only as a hash.
 */

/** Field values a log line may hold: plain scalars, so nothing large or secret slips in as an object. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Writes one line `{ event, ...fields }`; undefined fields are left out. */
export function logLine(event: string, fields: LogFields, level: 'info' | 'warn' | 'error' = 'info'): void {
  const line = JSON.stringify({ event, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * A stable pseudonym for an owner: the first 16 hex digits of SHA-256("owner:" + owner). It lets
 * one owner's requests be grouped without writing the owner (often an email or user id) to logs.
 */
export async function hashOwner(owner: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`owner:${owner}`));
  return Array.from(new Uint8Array(digest).subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
