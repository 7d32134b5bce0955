/**
 * The S3 POST-policy path (GET /s3/params, then a multipart/form-data POST of the fields and the
 * file to /media), as @uppy/aws-s3 uses it for single-request uploads: sizes around the part size,
 * a cut-off body that keeps nothing and can be re-sent, a form used twice, and refusals.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, deployment, expectError, getManifest, MiB, pdfBytes, sha256Hex, waitForState, type CreatedUpload } from './helpers';

type Fetch = (path: string, init?: RequestInit) => Promise<Response> | Response;

interface Params {
  method: string;
  url: string;
  fields: { key: string; token: string };
}

async function params(fetcher: Fetch = api, query = 'filename=report.pdf&type=application%2Fpdf&metadata%5Bname%5D=report.pdf&metadata%5Bcaption%5D=Q3'): Promise<Params> {
  const res = await fetcher(`/s3/params?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** The form Uppy builds: the fields in order, the file last. */
function form(fields: Record<string, string>, file: Uint8Array | null, extra: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  if (file) data.set('file', new File([file], 'report.pdf', { type: 'application/pdf' }));
  for (const [name, value] of Object.entries(extra)) data.append(name, value);
  return data;
}

const post = (p: Params, body: FormData | ReadableStream | string, headers: Record<string, string> = {}, fetcher: Fetch = api) =>
  fetcher(new URL(p.url).pathname, { method: 'POST', body, headers, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);

const native = (p: Params) => ({ id: p.fields.key, uploadToken: p.fields.token }) as CreatedUpload;

async function expectServed(p: Params, file: Uint8Array): Promise<void> {
  const manifest = await waitForState(native(p), ['ready', 'rejected', 'failed']);
  expect(manifest).toMatchObject({ state: 'ready', size: file.length });
  const media = await api(`/media/${p.fields.key}`);
  expect(await sha256Hex(await media.arrayBuffer())).toBe(await sha256Hex(file));
}

describe('S3 POST-policy uploads (GET /s3/params + multipart/form-data POST)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('params name the form; the POST streams the file in; the bytes are served at url/key', async () => {
    const p = await params();
    expect(p).toMatchObject({ method: 'POST', url: 'http://uploads.test/media' });
    expect(p.fields.key).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(p.fields)).toEqual(['key', 'token']);
    const file = pdfBytes(3 * MiB + 17, 61);
    const res = await post(p, form(p.fields, file));
    expect(res.status, await res.clone().text()).toBe(201);
    const location = `http://uploads.test/media/${p.fields.key}`;
    expect(res.headers.get('location')).toBe(location);
    expect(await res.json()).toMatchObject({ key: p.fields.key, location, size: file.length });
    await expectServed(p, file);
    const manifest = await getManifest(native(p));
    expect(manifest).toMatchObject({ name: 'report.pdf', metadata: { name: 'report.pdf', caption: 'Q3' }, partCount: 1 });
  });

  it('files of whole parts, one byte over, and several parts', async () => {
    for (const [size, parts] of [
      [8 * MiB, 1],
      [8 * MiB + 1, 2],
      [16 * MiB, 2],
      [20 * MiB + 5, 3],
    ] as const) {
      const p = await params();
      const file = pdfBytes(size, 62 + parts);
      const res = await post(p, form(p.fields, file));
      expect(res.status, await res.clone().text()).toBe(201);
      await expectServed(p, file);
      expect((await getManifest(native(p))).partCount).toBe(parts);
    }
  });

  it('fields after the file are ignored, as S3 ignores them', async () => {
    const p = await params();
    const file = pdfBytes(100_000, 63);
    const res = await post(p, form(p.fields, file, { token: 'ignored', extra: 'x' }));
    expect(res.status, await res.clone().text()).toBe(201);
    await expectServed(p, file);
  });

  it('a body cut off inside the file keeps nothing, and the same form can be sent again', async () => {
    const p = await params();
    const file = pdfBytes(10 * MiB + 3, 64);
    const encoded = new Response(form(p.fields, file));
    const type = encoded.headers.get('content-type')!;
    const bytes = new Uint8Array(await encoded.arrayBuffer());
    // Past the first whole part (8 MiB), which R2 already has but the session must not count.
    const cut = bytes.subarray(0, 9 * MiB);
    const truncated = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(cut.slice());
        controller.close();
      },
    });
    await expectError(await post(p, truncated, { 'content-type': type }), 400, 'ERR_BAD_REQUEST');
    expect(await getManifest(native(p))).toMatchObject({ state: 'created', confirmedBytes: 0, size: null });

    const again = await post(p, form(p.fields, file));
    expect(again.status, await again.clone().text()).toBe(201);
    await expectServed(p, file);
  });

  it('a form is spent by its upload: sending it again is refused', async () => {
    const p = await params();
    const file = pdfBytes(200_000, 65);
    expect((await post(p, form(p.fields, file))).status).toBe(201);
    await expectError(await post(p, form(p.fields, file)), 409, 'ERR_UPLOAD_STATE');
    await expectServed(p, file);
  });

  it('CORS: the POST from an allowed origin may read Location', async () => {
    const site = deployment({ CORS_ORIGINS: 'https://app.example.com' });
    const origin = { origin: 'https://app.example.com' };
    const withOrigin: Fetch = (path, init) => site(path, { ...init, headers: { ...(init?.headers as Record<string, string>), ...origin } });
    const p = await params(withOrigin);
    const res = await post(p, form(p.fields, pdfBytes(1000, 69)), {}, withOrigin);
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/\bLocation\b/);
  });

  describe('refuses', () => {
    it('types outside the allowlist and bad params', async () => {
      await expectError(await api('/s3/params?filename=a.exe&type=application%2Fx-msdownload'), 415, 'ERR_TYPE_NOT_ALLOWED');
      await expectError(await api('/s3/params?type=application%2Fpdf'), 400, 'ERR_VALIDATION');
      await expectError(await api(`/s3/params?filename=a.pdf&type=application%2Fpdf&metadata%5B${'k'.repeat(65)}%5D=v`), 400, 'ERR_VALIDATION');
    });

    it('forms without their token, with a wrong or tampered one, or without a key', async () => {
      const a = await params();
      const b = await params();
      const file = pdfBytes(1000, 66);
      await expectError(await post(a, form({ key: a.fields.key }, file)), 401, 'ERR_UNAUTHORIZED');
      await expectError(await post(a, form({ key: a.fields.key, token: b.fields.token }, file)), 403, 'ERR_TOKEN_SCOPE');
      await expectError(await post(a, form({ key: a.fields.key, token: `${a.fields.token.slice(0, -3)}abc` }, file)), 401, 'ERR_TOKEN_INVALID');
      await expectError(await post(a, form({ token: a.fields.token }, file)), 400, 'ERR_VALIDATION');
      await expectError(await post(a, form({ key: 'not-an-id', token: a.fields.token }, file)), 400, 'ERR_VALIDATION');
      // The file before the fields: S3 ignores what follows the file, so the fields are missing.
      const fileFirst = new FormData();
      fileFirst.set('file', new File([file], 'a.pdf'));
      fileFirst.set('key', a.fields.key);
      fileFirst.set('token', a.fields.token);
      await expectError(await post(a, fileFirst), 400, 'ERR_VALIDATION');
      // None of that touched the upload.
      expect(await getManifest(native(a))).toMatchObject({ state: 'created', confirmedBytes: 0 });
    });

    it('bodies that are not multipart/form-data, have no file, or are malformed', async () => {
      const p = await params();
      await expectError(await post(p, 'key=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(await post(p, form(p.fields, null)), 400, 'ERR_VALIDATION');
      await expectError(await post(p, 'no delimiter here', { 'content-type': 'multipart/form-data; boundary=xyz' }), 400, 'ERR_BAD_REQUEST');
      const many = new FormData();
      for (let i = 0; i < 40; i++) many.set(`f${i}`, 'v');
      await expectError(await post(p, many), 413, 'ERR_PAYLOAD_TOO_LARGE');
    });

    it('an empty file: refused, and the upload is aborted', async () => {
      const p = await params();
      await expectError(await post(p, form(p.fields, new Uint8Array(0))), 400, 'ERR_EMPTY_FILE');
      expect((await getManifest(native(p))).state).toBe('aborted');
    });

    it('a file over the size limit: refused while streaming (and up front by Content-Length), the upload aborted', async () => {
      const small = deployment({ MAX_FILE_SIZE: String(1 * MiB) });
      const p = await params(small);
      const file = pdfBytes(2 * MiB, 67);
      // Sent as a stream, so there is no Content-Length to judge by: caught while counting.
      const encoded = new Response(form(p.fields, file));
      const type = encoded.headers.get('content-type')!;
      const body = encoded.body!;
      await expectError(await post(p, body, { 'content-type': type }, small), 413, 'ERR_FILE_TOO_LARGE');
      expect((await getManifest(native(p))).state).toBe('aborted');

      const q = await params(small);
      const big = pdfBytes(3 * MiB, 68);
      await expectError(await post(q, form(q.fields, big), {}, small), 413, 'ERR_FILE_TOO_LARGE');
    });
  });
});
