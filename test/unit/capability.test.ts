import { describe, expect, it } from 'vitest';
import { KeyRing, signCapability, verifyCapability } from '../../src/domain/capability';

const old = { id: 'k1', secret: 'a'.repeat(32) };
const current = { id: 'k2', secret: 'b'.repeat(32) };
const now = 1_800_000_000;

describe('upload capabilities', () => {
  it('verifies a token for its upload and refuses other uploads', async () => {
    const ring = new KeyRing([current]);
    const token = await signCapability(ring, { uid: 'u1', sub: 'alice', exp: now + 60 });
    expect(await verifyCapability(ring, token, 'u1', now)).toEqual({
      ok: true,
      claims: { v: 1, kid: 'k2', uid: 'u1', sub: 'alice', exp: now + 60 },
    });
    expect(await verifyCapability(ring, token, 'u2', now)).toEqual({ ok: false, reason: 'wrong-upload' });
  });

  it('expires', async () => {
    const ring = new KeyRing([current]);
    const token = await signCapability(ring, { uid: 'u1', sub: 'alice', exp: now });
    expect(await verifyCapability(ring, token, 'u1', now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rotates: tokens of a retired-but-accepted key verify, unknown keys do not', async () => {
    const before = await signCapability(new KeyRing([old]), { uid: 'u1', sub: 'a', exp: now + 60 });
    const rotated = new KeyRing([old, current], 'k2');
    expect((await verifyCapability(rotated, before, 'u1', now)).ok).toBe(true);
    expect(JSON.parse(atob((await signCapability(rotated, { uid: 'u1', sub: 'a', exp: now + 60 })).split('.')[0]!)).kid).toBe('k2');
    expect(await verifyCapability(new KeyRing([current]), before, 'u1', now)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('refuses tampering with claims or signature', async () => {
    const ring = new KeyRing([current]);
    const token = await signCapability(ring, { uid: 'u1', sub: 'alice', exp: now + 60 });
    const [payload, signature] = token.split('.') as [string, string];
    const forged = btoa(JSON.stringify({ v: 1, kid: 'k2', uid: 'u1', sub: 'mallory', exp: now + 60 })).replace(/=+$/, '');
    expect(await verifyCapability(ring, `${forged}.${signature}`, 'u1', now)).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    expect(await verifyCapability(ring, `${payload}.${flipped}`, 'u1', now)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each(['', 'abc', 'a.b.c', '.', '!!!.???', `${btoa('{"v":2}')}.AAAA`, 'x'.repeat(5000)])('calls %j malformed', async (token) => {
    expect(await verifyCapability(new KeyRing([current]), token, 'u1', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('parses key specs and refuses short secrets', () => {
    const ring = KeyRing.parse(`k1:${old.secret}, k2:${current.secret}`, 'k2');
    expect(ring.signingKeyId).toBe('k2');
    expect(ring.key('k1')).toBeDefined();
    expect(ring.key('k3')).toBeUndefined();
    expect(() => KeyRing.parse('k1:short')).toThrow(/shorter than 32/);
    expect(() => KeyRing.parse(`k1:${old.secret}`, 'k9')).toThrow(/not among/);
  });
});
