import { describe, expect, it } from 'vitest';
import { api, expectError } from './helpers';

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const tusCreate = (metadata: string) =>
  api('/files/', {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1000', 'Upload-Metadata': metadata },
  });
const nativeCreate = (metadata: Record<string, string>) =>
  api('/api/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'a.pdf', size: 1000, type: 'application/pdf', metadata }),
  });

describe('upload metadata limits: the same on tus and the native API', () => {
  it('tus: 900 keys are refused with 400 and the limit', async () => {
    const header = [`filetype ${b64('application/pdf')}`, ...Array.from({ length: 900 }, (_, i) => `k${i}`)].join(',');
    const error = await expectError(await tusCreate(header), 400, 'ERR_VALIDATION');
    expect(error.message).toMatch(/32/);
  });

  it('tus: a 6,000-character value is refused', async () => {
    const error = await expectError(await tusCreate(`filetype ${b64('application/pdf')},caption ${b64('x'.repeat(6000))}`), 400, 'ERR_VALIDATION');
    expect(error.message).toMatch(/1024/);
  });

  it('tus: a key longer than 64 characters is refused', async () => {
    await expectError(await tusCreate(`filetype ${b64('application/pdf')},${'k'.repeat(65)} ${b64('v')}`), 400, 'ERR_VALIDATION');
  });

  it('tus and native: more than 8 KiB in all is refused, though each entry is within bounds', async () => {
    const big = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'y'.repeat(1000)]));
    await expectError(await nativeCreate(big), 400, 'ERR_VALIDATION');
    // The header form of the same entries (base64 makes it longer than the decoded bytes).
    const header = [`filetype ${b64('application/pdf')}`, ...Object.entries(big).slice(0, 6).map(([k, v]) => `${k} ${b64(v)}`)].join(',');
    expect((await tusCreate(header)).status).toBe(201); // 6 KiB decoded: within bounds
  });

  it('within the limits, tus metadata is kept as sent', async () => {
    const res = await tusCreate(`filetype ${b64('application/pdf')},caption ${b64('é'.repeat(500))}`);
    expect(res.status).toBe(201);
    const location = new URL(res.headers.get('location')!);
    const head = await api(location.pathname + location.search, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.headers.get('upload-metadata')).toContain('caption ');
  });
});
