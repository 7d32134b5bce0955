/**
 * @module Upload capabilities: HMAC-SHA256 signed, expiring tokens scoped to one upload and owner.
 * Format: base64url(JSON claims) "." base64url(HMAC(claims segment)). The claims name the key id,
 * so keys can rotate: several are accepted, one signs. Verification uses `crypto.subtle.verify`,
 * which compares in constant time. Pure Web Crypto, no runtime bindings.
 */
import { decodeBase64, encodeBase64Url } from './base64url';

export interface CapabilityClaims {
  /** Token format version. */
  v: 1;
  /** Id of the key that signed this token. */
  kid: string;
  /** Upload id this token is scoped to. */
  uid: string;
  /** Owner (principal) of the upload. */
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface TokenKey {
  id: string;
  secret: string;
}

export type VerifyFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'wrong-upload';
export type VerifyResult = { ok: true; claims: CapabilityClaims } | { ok: false; reason: VerifyFailure };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A set of accepted keys, one of which signs. CryptoKeys are imported once and cached. */
export class KeyRing {
  readonly signingKeyId: string;
  private readonly secrets = new Map<string, string>();
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(keys: TokenKey[], signingKeyId?: string) {
    if (keys.length === 0) throw new Error('KeyRing needs at least one key');
    for (const key of keys) this.secrets.set(key.id, key.secret);
    this.signingKeyId = signingKeyId ?? keys[0]!.id;
    if (!this.secrets.has(this.signingKeyId)) throw new Error(`signing key "${this.signingKeyId}" is not among the keys`);
  }

  /** Parses "id:secret,id:secret"; secrets must be at least 32 characters. */
  static parse(spec: string, signingKeyId?: string): KeyRing {
    const keys = spec
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const colon = entry.indexOf(':');
        if (colon < 1) throw new Error('UPLOAD_TOKEN_KEYS entries must look like "id:secret"');
        const key = { id: entry.slice(0, colon), secret: entry.slice(colon + 1) };
        if (key.secret.length < 32) throw new Error(`upload token key "${key.id}" is shorter than 32 characters`);
        return key;
      });
    return new KeyRing(keys, signingKeyId || undefined);
  }

  key(id: string): Promise<CryptoKey> | undefined {
    const secret = this.secrets.get(id);
    if (secret === undefined) return undefined;
    let key = this.imported.get(id);
    if (!key) {
      key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
      this.imported.set(id, key);
    }
    return key;
  }
}

export async function signCapability(ring: KeyRing, claims: Omit<CapabilityClaims, 'v' | 'kid'>): Promise<string> {
  const full: CapabilityClaims = { v: 1, kid: ring.signingKeyId, uid: claims.uid, sub: claims.sub, exp: claims.exp };
  const payload = encodeBase64Url(encoder.encode(JSON.stringify(full)));
  const signature = await crypto.subtle.sign('HMAC', (await ring.key(full.kid))!, encoder.encode(payload));
  return `${payload}.${encodeBase64Url(signature)}`;
}

/** Verifies signature, expiry and scope. `nowSeconds` is injectable for tests. */
export async function verifyCapability(
  ring: KeyRing,
  token: string,
  uploadId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  if (token.length > 2048) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot < 1 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const payload = token.slice(0, dot);
  const signature = decodeBase64(token.slice(dot + 1));
  const claimsBytes = decodeBase64(payload);
  if (!signature || !claimsBytes) return { ok: false, reason: 'malformed' };
  // Only the canonical encoding is accepted: unused low bits of the last character must not
  // give one signature many spellings.
  if (encodeBase64Url(signature) !== token.slice(dot + 1)) return { ok: false, reason: 'bad-signature' };

  let claims: CapabilityClaims;
  try {
    claims = JSON.parse(decoder.decode(claimsBytes)) as CapabilityClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    !claims || claims.v !== 1 || typeof claims.kid !== 'string' || typeof claims.uid !== 'string' ||
    typeof claims.sub !== 'string' || typeof claims.exp !== 'number'
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const key = ring.key(claims.kid);
  if (!key) return { ok: false, reason: 'unknown-key' };
  if (!(await crypto.subtle.verify('HMAC', await key, signature, encoder.encode(payload)))) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (claims.exp <= nowSeconds) return { ok: false, reason: 'expired' };
  if (claims.uid !== uploadId) return { ok: false, reason: 'wrong-upload' };
  return { ok: true, claims };
}
