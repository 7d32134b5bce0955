import { describe, expect, it } from 'vitest';
import { assertStartupConfig } from '../../src/config';
import { DEFAULT_VARIANTS, parseVariants, srcsetOf } from '../../src/media/variants';
import type { DerivativeInfo } from '../../src/contracts/messages';

describe('VARIANTS', () => {
  it('defaults to thumb and display plus srcset widths 640 and 1920, JPEG and WebP', () => {
    expect(parseVariants(undefined)).toBe(DEFAULT_VARIANTS);
    expect(DEFAULT_VARIANTS.map((v) => [v.variant, v.width, v.formats])).toEqual([
      ['thumb', 320, ['image/jpeg', 'image/webp']],
      ['display', 1280, ['image/jpeg', 'image/webp']],
      ['w640', 640, ['image/jpeg', 'image/webp']],
      ['w1920', 1920, ['image/jpeg', 'image/webp']],
    ]);
  });

  it('parses names, boxes, quality and formats; JPEG is always made', () => {
    expect(parseVariants('{"card":{"width":400,"height":300,"quality":70,"formats":["image/avif"],"srcset":false}}')).toEqual([
      { variant: 'card', width: 400, height: 300, quality: 70, formats: ['image/jpeg', 'image/avif'], srcset: false },
    ]);
  });

  it.each([
    ['{"thumb":{"width":100000}}', /thumb\.width is larger than 4096 px/],
    ['{"thumb":{"width":0}}', /thumb\.width is smaller than 16 px/],
    ['{"thumb":{"width":320,"height":-5}}', /thumb\.height/],
    ['{"thumb":{"width":320,"quality":150}}', /thumb\.quality/],
    ['{"Thumb Nail":{"width":320}}', /variant names are 1–32 of a–z/],
    ['{"thumb":{"width":320,"format":"gif"}}', /thumb/],
    ['{"thumb":{"width":320,"formats":["image/gif"]}}', /thumb\.formats/],
    ['{}', /at least one variant/],
    [JSON.stringify(Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`v${i}`, { width: 100 }]))), /at most 12 variants/],
    ['{thumb: 320}', /VARIANTS is not valid JSON/],
  ])('refuses %s with a clear message', (json, message) => {
    expect(() => parseVariants(json)).toThrow(message);
    // The Worker refuses to start with the same message.
    expect(() => assertStartupConfig({ VARIANTS: json })).toThrow(message);
  });
});

describe('srcsetOf', () => {
  const d = (variant: string, width: number): DerivativeInfo => ({ variant, url: `/media/u/${variant}`, width, height: width / 2, type: 'image/jpeg', bytes: 1 });
  it('lists srcset variants by real width, once per width, with sizes up to the widest', () => {
    const variants = parseVariants('{"thumb":{"width":320},"big":{"width":1920},"mid":{"width":800},"card":{"width":500,"srcset":false}}');
    // A 800 px image: "big" is 800 px too and is listed once.
    expect(srcsetOf([d('thumb', 320), d('big', 800), d('mid', 800), d('card', 500)], variants)).toEqual({
      srcset: '/media/u/thumb 320w, /media/u/big 800w',
      sizes: '(max-width: 800px) 100vw, 800px',
    });
    expect(srcsetOf([], variants)).toBeNull();
  });
});
