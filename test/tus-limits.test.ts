import { describe, expect, it } from 'vitest';
import { api } from './helpers';

describe('tus limits', () => {
  it('a PATCH announced larger than a Worker may receive is refused from its headers: 413, with the limit', async () => {
    const create = await api('/files/', {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(300 * 1024 * 1024), 'Upload-Metadata': `filetype ${btoa('application/pdf')}` },
    });
    expect(create.status).toBe(201);
    const location = new URL(create.headers.get('location')!);
    const res = await api(location.pathname + location.search, {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(200 * 1024 * 1024),
      },
      body: new ReadableStream({ start: (c) => c.close() }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    const body = (await res.json()) as { error: { code: string; details: { maxChunkSize: number } } };
    expect(body.error.code).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(body.error.details.maxChunkSize).toBe(95 * 1024 * 1024);
    const options = await api('/files/', { method: 'OPTIONS' });
    expect(options.headers.get('upload-max-chunk-size')).toBe(String(95 * 1024 * 1024));
  });
});
