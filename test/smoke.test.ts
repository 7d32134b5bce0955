import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';

it('serves config', async () => {
  const res = await exports.default.fetch('http://x/api/config');
  expect(res.status).toBe(200);
  console.log(await res.json());
});
