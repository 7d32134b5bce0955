/**
 * The stream writer's last write: when an upload of unknown length turns out to be an exact
 * multiple of the part size, every part is already confirmed when the length is declared, and the
 * closing (empty) write must still start assembly.
 */
import { describe, expect, it } from 'vitest';
import { api, MiB, pdfBytes } from './helpers';

const tus = { 'Tus-Resumable': '1.0.0' };

describe('stream writer: the end of an upload whose length is learnt last', () => {
  it('tus deferred length, 8 MiB of data (exactly one part), then Upload-Length with an empty PATCH: assembled and ready', async () => {
    const bytes = pdfBytes(8 * MiB, 4242);
    const create = await api('/files/', { method: 'POST', headers: { ...tus, 'Upload-Defer-Length': '1', 'Upload-Metadata': `filetype ${btoa('application/pdf')}` } });
    expect(create.status).toBe(201);
    const url = new URL(create.headers.get('location')!);
    const path = url.pathname + url.search;
    const patch = (offset: number, body: Uint8Array, extra: Record<string, string> = {}) =>
      api(path, { method: 'PATCH', headers: { ...tus, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...extra }, body });
    expect((await patch(0, bytes)).headers.get('upload-offset')).toBe(String(bytes.length));
    const last = await patch(bytes.length, new Uint8Array(0), { 'Upload-Length': String(bytes.length) });
    expect(last.status).toBe(204);
    const id = url.pathname.split('/').pop()!;
    const token = url.searchParams.get('token')!;
    let state = '';
    for (let i = 0; i < 200 && !['ready', 'rejected', 'failed'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = ((await (await api(`/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string }).state;
    }
    expect(state).toBe('ready');
  });
});
