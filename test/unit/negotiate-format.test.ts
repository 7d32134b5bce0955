import { describe, expect, it } from 'vitest';
import { chooseFormat, formatCacheKey, negotiateFormat } from '../../src/media/negotiate-format';

const ALL = ['image/jpeg', 'image/webp', 'image/avif'];

describe('negotiateFormat', () => {
  it.each([
    ['Chrome', 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', ALL, 'image/avif'],
    ['Chrome, no AVIF stored', 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8', ['image/jpeg', 'image/webp'], 'image/webp'],
    ['Safari 16', 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', ALL, 'image/avif'],
    ['Safari, no AVIF stored', 'image/webp,image/avif,image/*;q=0.8', ['image/jpeg', 'image/webp'], 'image/webp'],
    ['curl', '*/*', ALL, 'image/jpeg'],
    ['no Accept', undefined, ALL, 'image/jpeg'],
    ['image/* does not promise WebP', 'image/*', ALL, 'image/jpeg'],
    ['q=0 refuses', 'image/avif;q=0, image/webp', ALL, 'image/webp'],
    ['higher q wins', 'image/avif;q=0.5, image/webp;q=0.9', ALL, 'image/webp'],
    ['only JPEG stored', 'image/avif,image/webp', ['image/jpeg'], 'image/jpeg'],
    ['junk', ';;,,q=abc, image/webp;q=2', ALL, 'image/jpeg'],
  ])('%s', (_label, accept, available, expected) => {
    expect(negotiateFormat(accept, available)).toBe(expected);
  });

  it('keys the cache by format class', () => {
    const key = (accept?: string) => formatCacheKey(new Request('https://x.test/media/u/thumb?a=1', accept ? { headers: { accept } } : {})).url;
    expect(key('image/webp,*/*')).toBe('https://x.test/media/u/thumb?a=1&format=webp');
    expect(key('*/*')).toBe('https://x.test/media/u/thumb?a=1&format=jpg');
    expect(key()).toBe('https://x.test/media/u/thumb?a=1&format=jpg');
  });

  it('switches key, type, size and file name to the chosen format', () => {
    const info = {
      key: 'derived/o/abc/thumb.jpg',
      type: 'image/jpeg',
      name: 'flag-thumb.jpg',
      size: 1000,
      derivative: { formats: [{ type: 'image/jpeg', bytes: 1000 }, { type: 'image/webp', bytes: 700 }] },
    };
    expect(chooseFormat(info, 'image/webp')).toMatchObject({ key: 'derived/o/abc/thumb.webp', type: 'image/webp', size: 700, name: 'flag-thumb.webp' });
    expect(chooseFormat(info, 'image/jpeg')).toBe(info);
    expect(chooseFormat({ ...info, derivative: undefined }, 'image/webp')).toMatchObject({ type: 'image/jpeg' });
  });
});
