/**
 * The IETF draft adapter's edges that need no dev server: what workerd can send (no 1xx), the
 * per-request size limit announced as Upload-Limit, and which interop versions go where.
 */
import { describe, expect, it } from 'vitest';
import { api } from './helpers';

const draft = (headers: Record<string, string> = {}) => ({ 'Upload-Draft-Interop-Version': '8', ...headers });

describe('IETF draft adapter (interop version 8)', () => {
  it('workerd cannot send 104 (Upload Resumption Supported): a Worker cannot even construct a 1xx response', () => {
    // A fetch handler answers with exactly one Response; the runtime refuses interim statuses.
    for (const status of [103, 104]) expect(() => new Response(null, { status })).toThrow(RangeError);
  });

  it('an append announced larger than max-append-size is refused from its headers: 413 problem with Upload-Limit', async () => {
    const created = await api('/files/', {
      method: 'POST',
      headers: draft({ 'Upload-Complete': '?0', 'Upload-Length': String(300 * 1024 * 1024), 'Content-Type': 'application/pdf', 'Content-Length': '0' }),
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get('location')!);
    const res = await api(location.pathname + location.search, {
      method: 'PATCH',
      headers: draft({ 'Upload-Complete': '?0', 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload', 'Content-Length': String(200 * 1024 * 1024) }),
      body: new ReadableStream({ start: (c) => c.close() }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    // "A server responding with a 413 (Content Too Large) status code as a result of its upload limits SHOULD include the Upload-Limit header field".
    expect(res.headers.get('upload-limit')).toContain(`max-append-size=${95 * 1024 * 1024}`);
    const body = (await res.json()) as { type: string; status: number; error: { code: string } };
    expect(body).toMatchObject({ type: 'about:blank', status: 413, error: { code: 'ERR_PAYLOAD_TOO_LARGE' } });
  });

  it('creation refuses what the upload could never be: a type off the allowlist, more than max-size', async () => {
    const html = await api('/files/', { method: 'POST', headers: draft({ 'Upload-Complete': '?0', 'Content-Type': 'text/html', 'Content-Length': '0' }) });
    expect(html.status).toBe(415);
    expect(((await html.json()) as { error: { code: string } }).error.code).toBe('ERR_TYPE_NOT_ALLOWED');
    const huge = await api('/files/', {
      method: 'POST',
      headers: draft({ 'Upload-Complete': '?0', 'Upload-Length': String(10 * 1024 ** 4), 'Content-Type': 'application/pdf', 'Content-Length': '0' }),
    });
    expect(huge.status).toBe(413);
  });

  it('older interop versions stay with the tus handlers; an unknown one is refused', async () => {
    const six = await api('/files/', {
      method: 'POST',
      headers: { 'Upload-Draft-Interop-Version': '6', 'Upload-Complete': '?0', 'Upload-Length': '100', 'Upload-Metadata': `filetype ${btoa('application/pdf')}` },
    });
    expect(six.status).toBe(201);
    expect(six.headers.get('upload-limit')).toBeNull();
    const seven = await api('/files/', { method: 'POST', headers: { 'Upload-Draft-Interop-Version': '7', 'Upload-Complete': '?0' } });
    expect(seven.status).toBe(412);
  });
});
