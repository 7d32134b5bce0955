import { describe, expect, it } from 'vitest';
import { deployment, expectError } from './helpers';

const KEY_OLD = 'old-key-0123456789abcdef0123456789abcdef';
const KEY_NEW = 'new-key-0123456789abcdef0123456789abcdef';
const app = deployment({ API_KEYS: `${KEY_NEW}, ${KEY_OLD}`, CORS_ORIGINS: 'https://app.example' });
const path = `/api/webhooks/deliveries?uploadId=${'a'.repeat(32)}`;

describe('server-to-server API keys', () => {
  it('accepts every configured key, so keys rotate without downtime', async () => {
    for (const key of [KEY_OLD, KEY_NEW]) {
      const res = await app(path, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ deliveries: [] });
    }
  });

  it('refuses a wrong key, no key, and a key shorter than 32 characters in the configuration', async () => {
    await expectError(await app(path, { headers: { authorization: `Bearer ${KEY_OLD}x` } }), 401, 'ERR_API_KEY_INVALID');
    await expectError(await app(path), 401, 'ERR_UNAUTHORIZED');
    await expectError(await deployment({ API_KEYS: 'short' })(path, { headers: { authorization: 'Bearer short' } }), 503, 'ERR_NOT_CONFIGURED');
    await expectError(await deployment({ API_KEYS: undefined })(path, { headers: { authorization: `Bearer ${KEY_OLD}` } }), 503, 'ERR_NOT_CONFIGURED');
  });

  it('never from a browser, even from an allowed origin with a valid key', async () => {
    const fromPage = { authorization: `Bearer ${KEY_NEW}`, origin: 'https://app.example' };
    await expectError(await app(path, { headers: fromPage }), 403, 'ERR_API_KEY_FROM_BROWSER');
    await expectError(await app(path, { headers: { authorization: `Bearer ${KEY_NEW}`, 'sec-fetch-site': 'none' } }), 403, 'ERR_API_KEY_FROM_BROWSER');
  });
});
