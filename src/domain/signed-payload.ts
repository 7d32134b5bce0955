/**
 * @module Small tamper-proof values (e.g. list cursors): base64url(JSON) "." base64url(HMAC-SHA256),
 * signed with a key ring so keys rotate. A purpose string is signed in, so a value minted for one use
 * is never accepted for another. Pure Web Crypto.
 */
import { decodeBase64, encodeBase64Url } from './base64url';
import type { KeyRing } from './capability';

const encoder = new TextEncoder();

export async function signPayload(ring: KeyRing, purpose: string, payload: Record<string, unknown>): Promise<string> {
  const body = encodeBase64Url(encoder.encode(JSON.stringify({ ...payload, kid: ring.signingKeyId, p: purpose })));
  const signature = await crypto.subtle.sign('HMAC', (await ring.key(ring.signingKeyId))!, encoder.encode(body));
  return `${body}.${encodeBase64Url(signature)}`;
}

/** The payload, or null when the value is malformed, signed by an unknown key, altered, or for another purpose. */
export async function verifyPayload(ring: KeyRing, purpose: string, value: string): Promise<Record<string, unknown> | null> {
  if (value.length > 2048) return null;
  const [body, sig, extra] = value.split('.');
  if (!body || !sig || extra !== undefined) return null;
  const bytes = decodeBase64(body);
  const signature = decodeBase64(sig);
  if (!bytes || !signature || encodeBase64Url(signature) !== sig) return null;
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof payload !== 'object' || payload === null || payload.p !== purpose || typeof payload.kid !== 'string') return null;
  const key = ring.key(payload.kid);
  if (!key || !(await crypto.subtle.verify('HMAC', await key, signature, encoder.encode(body)))) return null;
  return payload;
}
