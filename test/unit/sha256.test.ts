import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/domain/base64url';
import { Sha256 } from '../../src/domain/sha256';

const webCrypto = async (bytes: Uint8Array) => toHex(await crypto.subtle.digest('SHA-256', bytes));

describe('saveable SHA-256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(toHex(new Sha256().update(new Uint8Array()).digest())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(new Sha256().update(new TextEncoder().encode('abc')).digest())).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('equals Web Crypto for any bytes, cut anywhere, with the state saved and loaded as JSON at every cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 700 }), fc.array(fc.nat(700), { maxLength: 6 }), async (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let hasher = new Sha256();
        let from = 0;
        for (const to of [...points, bytes.length]) {
          hasher.update(bytes.subarray(from, to));
          hasher = Sha256.load(JSON.parse(JSON.stringify(hasher.save())));
          from = to;
        }
        expect(toHex(hasher.digest())).toBe(await webCrypto(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a state that is not one', () => {
    expect(() => Sha256.load({ h: [1, 2, 3], length: 0, pending: '' })).toThrow();
    expect(() => Sha256.load({ ...new Sha256().save(), length: 5 })).toThrow();
  });
});
