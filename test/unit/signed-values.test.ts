import { describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/domain/capability';
import { signMediaPath, verifyMediaSignature } from '../../src/domain/media-signature';
import { signPayload, verifyPayload } from '../../src/domain/signed-payload';

const ring = KeyRing.parse('k2:second-key-second-key-second-key-00,k1:first-key-first-key-first-key-first-0');
const oldRing = KeyRing.parse('k1:first-key-first-key-first-key-first-0');
const query = (q: string) => Object.fromEntries(new URLSearchParams(q));
const now = 1_900_000_000;

describe('signed media URLs', () => {
  it('open exactly one path until they expire; keys rotate', async () => {
    const q = query(await signMediaPath(ring, '/media/abc', now + 60));
    expect(q.kid).toBe('k2');
    expect(await verifyMediaSignature(ring, '/media/abc', q, now)).toEqual({ ok: true, exp: now + 60 });
    expect(await verifyMediaSignature(ring, '/media/abc/thumb', q, now)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyMediaSignature(ring, '/media/abc', { ...q, exp: String(now + 61) }, now)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyMediaSignature(ring, '/media/abc', q, now + 60)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyMediaSignature(oldRing, '/media/abc', q, now)).toEqual({ ok: false, reason: 'invalid' });
    const old = query(await signMediaPath(oldRing, '/media/abc', now + 60));
    expect((await verifyMediaSignature(ring, '/media/abc', old, now)).ok).toBe(true);
    expect(await verifyMediaSignature(ring, '/media/abc', {}, now)).toEqual({ ok: false, reason: 'missing' });
    expect(await verifyMediaSignature(ring, '/media/abc', { exp: 'soon', kid: 'k2', sig: q.sig }, now)).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('signed payloads (cursors)', () => {
  it('verify only unaltered, for the purpose they were made for', async () => {
    const value = await signPayload(ring, 'files-cursor', { c: 1, i: 'x' });
    expect(await verifyPayload(ring, 'files-cursor', value)).toMatchObject({ c: 1, i: 'x' });
    expect(await verifyPayload(ring, 'other', value)).toBeNull();
    const [body, sig] = value.split('.');
    expect(await verifyPayload(ring, 'files-cursor', `${body}x.${sig}`)).toBeNull();
    expect(await verifyPayload(ring, 'files-cursor', `${body}.${sig}.x`)).toBeNull();
    expect(await verifyPayload(oldRing, 'files-cursor', value)).toBeNull();
  });
});
