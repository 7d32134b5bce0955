/**
 * Which URLs an import may read, decided before any request leaves the Worker (so these cases need
 * no source server): https only, plain http to loopback only under the development setting, no
 * credentials, no internal addresses.
 */
import { describe, expect, it } from 'vitest';
import { deployment, expectError } from './helpers';

const importing = (fetcher: ReturnType<typeof deployment>, sourceUrl: string) =>
  fetcher('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sourceUrl }) });

describe('import URL policy', () => {
  it('without DEV_IMPORT_ALLOW_HTTP_LOOPBACK, plain http is refused even on loopback, and https to loopback too', async () => {
    const production = deployment({ DEV_IMPORT_ALLOW_HTTP_LOOPBACK: undefined });
    for (const url of ['http://127.0.0.1:9/file.pdf', 'http://localhost:9/file.pdf', 'http://[::1]:9/file.pdf', 'https://127.0.0.1/file.pdf', 'https://localhost/file.pdf']) {
      await expectError(await importing(production, url), 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    }
  });

  it('internal addresses and odd schemes are refused everywhere; credentials are named as such', async () => {
    const dev = deployment({});
    for (const url of ['https://192.168.1.1/f.pdf', 'https://172.16.0.1/f.pdf', 'https://169.254.169.254/latest', 'https://[::ffff:10.0.0.1]/f.pdf', 'https://0.0.0.0/f.pdf', 'file:///etc/passwd', 'data:application/pdf,x', 'javascript:alert(1)']) {
      await expectError(await importing(dev, url), 400, 'ERR_IMPORT_URL_NOT_ALLOWED');
    }
    const message = (await expectError(await importing(dev, 'https://alice:pw@example.com/f.pdf'), 400, 'ERR_IMPORT_CREDENTIALS')).message;
    expect(message).not.toContain('pw');
  });

  it('the import body is validated like any create: unknown fields and oversized values are refused', async () => {
    const dev = deployment({});
    const post = (body: unknown) => dev('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await expectError(await post({ sourceUrl: 'https://example.com/a.pdf', size: 5 }), 400, 'ERR_VALIDATION');
    await expectError(await post({ sourceUrl: `https://example.com/${'a'.repeat(2100)}` }), 400, 'ERR_VALIDATION');
    await expectError(await post({ sourceUrl: 'https://example.com/a.pdf', metadata: { k: 'v'.repeat(2000) } }), 400, 'ERR_VALIDATION');
  });
});
