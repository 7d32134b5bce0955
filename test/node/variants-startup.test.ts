/** A deployment whose VARIANTS asks for absurd sizes does not start, and says why (real `wrangler dev`). */
import { expect, it } from 'vitest';
import { startDevServer } from '../e2e/dev-server';

it('wrangler dev refuses to start with VARIANTS asking for a 100,000 px variant', async () => {
  const started = startDevServer({ vars: { VARIANTS: '{"thumb":{"width":100000}}' } });
  await expect(started).rejects.toThrow(/VARIANTS is refused: thumb\.width is larger than 4096 px/);
});
