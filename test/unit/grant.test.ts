import { describe, expect, it } from 'vitest';
import { grantFromClaims, grantMetadata, grantRefusal, narrowMaxFileSize, narrowTypes, typeMatches } from '../../src/domain/grant';

const SERVER = ['image/jpeg', 'image/png', 'video/mp4', 'application/pdf'];

describe('upload grants', () => {
  it('a token without grant claims has no grant (the server limits apply)', () => {
    expect(grantFromClaims({ sub: 'a', exp: 1, email: 'a@example.com' }, SERVER)).toEqual({ ok: true, grant: undefined });
  });

  it.each([
    ['image/*', 'image/png', true],
    ['image/*', 'imagex/png', false],
    ['*/*', 'video/mp4', true],
    ['application/pdf', 'application/pdf', true],
    ['application/pdf', 'application/pdfx', false],
  ])('pattern %s vs %s → %s', (pattern, type, expected) => {
    expect(typeMatches(pattern, type)).toBe(expected);
  });

  it('narrows the allowlist and the size, never widens them', () => {
    const { grant } = grantFromClaims({ allowedTypes: ['IMAGE/*', 'text/plain'], maxFileSize: 10 }, SERVER) as { grant: NonNullable<unknown> };
    expect(narrowTypes(SERVER, grant)).toEqual(['image/jpeg', 'image/png']);
    expect(narrowMaxFileSize(100, grant)).toBe(10);
    expect(narrowMaxFileSize(5, grant)).toBe(5);
    expect(narrowTypes(SERVER, undefined)).toEqual(SERVER);
  });

  it('refuses an upload outside the grant with its own code', () => {
    const grant = { allowedTypes: ['image/*'], maxFileSize: 10 };
    expect(grantRefusal(grant, 'application/pdf', 5)?.code).toBe('ERR_GRANT_TYPE');
    expect(grantRefusal(grant, 'image/png', 11)?.code).toBe('ERR_GRANT_SIZE');
    expect(grantRefusal(grant, 'image/png', null)).toBeNull();
    expect(grantRefusal(grant, 'image/png', 10)).toBeNull();
  });

  it('the grant\'s metadata wins over the client\'s', () => {
    expect(grantMetadata({ metadata: { tenant: 'acme' } }, { tenant: 'evil', album: 'x' })).toEqual({ tenant: 'acme', album: 'x' });
    expect(grantMetadata(undefined, { a: '1' })).toEqual({ a: '1' });
  });

  it.each([
    [{ maxFiles: 2 }, /jti/],
    [{ allowedTypes: ['text/*'] }, /allow no type/],
    [{ allowedTypes: [] }, /allowedTypes/],
    [{ allowedTypes: 'image/*' }, /allowedTypes/],
    [{ visibility: 'hidden' }, /visibility/],
    [{ maxFileSize: 1.5 }, /maxFileSize/],
    [{ metadata: { k: 2 } }, /metadata/],
  ])('refuses the unenforceable grant %j', (claims, message) => {
    const result = grantFromClaims(claims, SERVER);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('ERR_GRANT_INVALID');
      expect(result.message).toMatch(message);
    }
  });
});
