import { describe, expect, it } from 'vitest';
import { parseContentDigest } from '../../src/domain/content-digest';
import { matchesDeclaredType, sniffType } from '../../src/domain/sniff';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((ch) => ch.charCodeAt(0)) : p)));
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], compatible.join(''));
};

describe('sniffType', () => {
  it.each([
    ['image/jpeg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['image/png', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['image/gif', bytes('GIF89a')],
    ['image/webp', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')],
    ['image/avif', ftyp('avif', 'mif1', 'miaf')],
    ['image/heic', ftyp('heic', 'mif1')],
    ['video/mp4', ftyp('isom', 'iso2', 'mp41')],
    ['video/quicktime', ftyp('qt  ')],
    ['video/webm', bytes([0x1a, 0x45, 0xdf, 0xa3])],
    ['application/pdf', bytes('%PDF-1.7')],
    ['application/x-msdownload', bytes('MZ', [0x90, 0])],
    ['application/x-elf', bytes([0x7f], 'ELF')],
    [null, bytes('hello world')],
    [null, new Uint8Array()],
  ])('sees %s', (type, input) => {
    expect(sniffType(input)).toBe(type);
  });

  it('matches declared types, with aliases, and refuses spoofing', () => {
    expect(matchesDeclaredType('image/jpeg', 'image/jpeg')).toBe(true);
    expect(matchesDeclaredType('IMAGE/JPG', 'image/jpeg')).toBe(true);
    expect(matchesDeclaredType('image/heif', 'image/heic')).toBe(true);
    expect(matchesDeclaredType('video/quicktime', 'video/mp4')).toBe(true);
    expect(matchesDeclaredType('image/png', 'image/jpeg')).toBe(false);
    expect(matchesDeclaredType('image/jpeg', 'application/x-msdownload')).toBe(false);
    expect(matchesDeclaredType('image/jpeg', null)).toBe(false);
  });
});

describe('parseContentDigest (RFC 9530)', () => {
  const digest = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
  it('reads sha-256 and ignores other algorithms', () => {
    expect(parseContentDigest(`sha-256=:${digest}:`)).toEqual({ ok: true, sha256: new Uint8Array(32).fill(7) });
    expect(parseContentDigest(`sha-512=:${btoa('x'.repeat(64))}:, sha-256=:${digest}:`)).toMatchObject({ ok: true });
    expect(parseContentDigest(`md5=:${btoa('x'.repeat(16))}:`)).toEqual({ ok: true, sha256: null });
    expect(parseContentDigest(null)).toEqual({ ok: true, sha256: null });
  });
  it.each(['sha-256=abc', 'sha-256=:abc:', `sha-256=:${btoa('short')}:`, 'garbage'])('refuses %j', (header) => {
    expect(parseContentDigest(header)).toEqual({ ok: false });
  });
});
