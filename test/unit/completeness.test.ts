import { describe, expect, it } from 'vitest';
import { looksComplete } from '../../src/domain/completeness';

const u8 = (...b: number[]) => new Uint8Array(b);
const riff = (size: number) => u8(0x52, 0x49, 0x46, 0x46, size & 0xff, (size >> 8) & 0xff, 0, 0, 0x57, 0x45, 0x42, 0x50);

describe('looksComplete', () => {
  it.each([
    ['jpeg ending in EOI', 'image/jpeg', u8(), u8(1, 2, 0xff, 0xd9), 100, true],
    ['jpeg with bytes after EOI', 'image/jpeg', u8(), u8(0xff, 0xd9, 0, 0, 0), 100, true],
    ['jpeg cut off', 'image/jpeg', u8(), u8(1, 2, 3, 0xff), 100, false],
    ['png ending in IEND', 'image/png', u8(), u8(9, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82), 100, true],
    ['png cut off', 'image/png', u8(), u8(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44), 100, false],
    ['gif with trailer', 'image/gif', u8(), u8(0, 0x3b), 100, true],
    ['gif cut off', 'image/gif', u8(), u8(0x3b, 0), 100, false],
    ['webp whose RIFF size matches', 'image/webp', riff(92), u8(), 100, true],
    ['webp cut off', 'image/webp', riff(500), u8(), 100, false],
    ['types without a check', 'application/pdf', u8(), u8(), 100, true],
  ])('%s', (_name, type, head, tail, size, expected) => {
    expect(looksComplete(type, head, tail, size)).toBe(expected);
  });
});
