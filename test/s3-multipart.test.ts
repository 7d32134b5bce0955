/**
 * The Uppy/Companion S3 multipart API (/s3/multipart…) in workerd: the calls @uppy/aws-s3 makes in
 * Companion mode, in its order, with the bytes served identical at `location`; the capability in
 * the uploadId; every way a call can be wrong; the JWT for creation (header or /jwt/ path); CORS;
 * and direct mode (presigned R2 part URLs, part sizes from R2's ListParts).
 */
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatUploadHandle, parseUploadHandle, redactPath } from '../src/api/s3/upload-handle';
import { listUploadedParts, parseListParts } from '../src/storage/s3-list-parts';
import { deployment, expectError, MiB, pdfBytes, sha256Hex, waitForState, api, type CreatedUpload } from './helpers';

type Fetch = (path: string, init?: RequestInit) => Promise<Response> | Response;

interface Created {
  key: string;
  uploadId: string;
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const q = (key: string) => `?${new URLSearchParams({ key })}`;
const enc = encodeURIComponent;

async function create(fetcher: Fetch = api, body: Record<string, unknown> = {}): Promise<Created> {
  const res = await fetcher('/s3/multipart', json({ filename: 'report.pdf', type: 'application/pdf', metadata: { name: 'report.pdf', relativePath: null, size: 1 }, ...body }));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** What Uppy does per part: ask for a URL, PUT the bytes there, read the ETag header. */
async function sendPart(up: Created, n: number, bytes: Uint8Array, fetcher: Fetch = api): Promise<string> {
  const signed = await fetcher(`/s3/multipart/${enc(up.uploadId)}/${n}${q(up.key)}`);
  expect(signed.status, await signed.clone().text()).toBe(200);
  const { url, expires } = await signed.json<{ url: string; expires: number }>();
  expect(expires).toBeGreaterThan(0);
  const put = await fetcher(url, { method: 'PUT', headers: { 'content-length': String(bytes.length) }, body: bytes });
  expect(put.status, await put.clone().text()).toBe(200);
  const etag = put.headers.get('etag');
  expect(etag).toMatch(/^".+"$/);
  return etag!.replace(/"/g, '');
}

/** The native view of the same upload: id and token are inside the uploadId. */
function native(up: Created): CreatedUpload {
  const [id, uploadToken] = up.uploadId.split('~') as [string, string];
  return { id, uploadToken } as CreatedUpload;
}

const complete = (up: Created, parts: { PartNumber: number; ETag: string }[], fetcher: Fetch = api) =>
  fetcher(`/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, json({ parts }));

describe('S3 multipart API (Uppy Companion mode)', () => {
  it('create → sign and PUT parts (any order) → list → complete: ready, identical bytes at location', async () => {
    const file = pdfBytes(11 * MiB + 12345, 41);
    const up = await create();
    expect(up.uploadId).toMatch(/^[0-9a-f]{32}~[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(up.key).toBe(up.uploadId.slice(0, 32));

    const slices = [file.subarray(0, 5 * MiB), file.subarray(5 * MiB, 10 * MiB), file.subarray(10 * MiB)];
    const etags: string[] = [];
    for (const n of [2, 3, 1]) etags[n - 1] = await sendPart(up, n, slices[n - 1]!);

    const listed = await api(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([
      { PartNumber: 1, ETag: `"${etags[0]}"`, Size: 5 * MiB },
      { PartNumber: 2, ETag: `"${etags[1]}"`, Size: 5 * MiB },
      { PartNumber: 3, ETag: `"${etags[2]}"`, Size: file.length - 10 * MiB },
    ]);

    const done = await complete(up, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })));
    expect(done.status, await done.clone().text()).toBe(200);
    const { location, key } = await done.json<{ location: string; key: string }>();
    expect(location).toBe(`http://uploads.test/media/${up.key}`);
    expect(key).toBe(up.key);
    // Completing again (Uppy retries) changes nothing.
    expect((await complete(up, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })))).status).toBe(200);

    const manifest = await waitForState(native(up), ['ready', 'rejected', 'failed']);
    expect(manifest).toMatchObject({ state: 'ready', size: file.length, partSize: 5 * MiB, partCount: 3, name: 'report.pdf' });
    expect(manifest.metadata).toEqual({ name: 'report.pdf', size: '1' });
    const media = await api(new URL(location).pathname);
    expect(media.status).toBe(200);
    expect(await sha256Hex(await media.arrayBuffer())).toBe(await sha256Hex(file));
  });

  it('a one-part upload (smaller than the minimum part) completes', async () => {
    const file = pdfBytes(300_000, 42);
    const up = await create();
    const etag = await sendPart(up, 1, file);
    expect((await complete(up, [{ PartNumber: 1, ETag: `"${etag}"` }])).status).toBe(200);
    expect((await waitForState(native(up), ['ready', 'rejected', 'failed'])).state).toBe('ready');
  });

  it('DELETE aborts: {} as JSON, then the upload is gone', async () => {
    const up = await create();
    await sendPart(up, 1, pdfBytes(5 * MiB, 43));
    const res = await api(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({});
    await expectError(await api(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`), 410, 'ERR_UPLOAD_GONE');
    // Deleting again is harmless.
    expect((await api(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`, { method: 'DELETE' })).status).toBe(200);
  });

  describe('refuses', () => {
    it('types outside the allowlist, and bad create bodies', async () => {
      await expectError(await api('/s3/multipart', json({ filename: 'x.exe', type: 'application/x-msdownload' })), 415, 'ERR_TYPE_NOT_ALLOWED');
      // Uppy's fallback type when the browser knows none.
      await expectError(await api('/s3/multipart', json({ filename: 'x', type: 'application/octet-stream' })), 415, 'ERR_TYPE_NOT_ALLOWED');
      await expectError(await api('/s3/multipart', json({ type: 'application/pdf' })), 400, 'ERR_VALIDATION');
      await expectError(await api('/s3/multipart', json({ filename: 'a.pdf', type: 'application/pdf', metadata: { ['k'.repeat(65)]: 'v' } })), 400, 'ERR_VALIDATION');
      await expectError(await api('/s3/multipart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), 400, 'ERR_INVALID_JSON');
    });

    it('uploadIds that are not ours, tampered, or for another upload, and keys that do not match', async () => {
      const a = await create();
      const b = await create();
      const [idA, tokenA] = a.uploadId.split('~') as [string, string];
      const tokenB = b.uploadId.split('~')[1]!;
      const tampered = `${idA}~${tokenA.slice(0, -2)}${tokenA.endsWith('AA') ? 'BB' : 'AA'}`;
      const cases: [string, string, number, string][] = [
        ['garbage', 'nonsense', 401, 'ERR_TOKEN_INVALID'],
        ['id only', idA, 401, 'ERR_TOKEN_INVALID'],
        ['tampered token', tampered, 401, 'ERR_TOKEN_INVALID'],
        ["another upload's token", `${idA}~${tokenB}`, 403, 'ERR_TOKEN_SCOPE'],
      ];
      for (const [, uploadId, status, code] of cases) {
        await expectError(await api(`/s3/multipart/${enc(uploadId)}/1${q(idA)}`), status, code);
        await expectError(await api(`/s3/multipart/${enc(uploadId)}${q(idA)}`), status, code);
        await expectError(await complete({ uploadId, key: idA }, [{ PartNumber: 1, ETag: 'x' }]), status, code);
        await expectError(await api(`/s3/multipart/${enc(uploadId)}${q(idA)}`, { method: 'DELETE' }), status, code);
      }
      await expectError(await api(`/s3/multipart/${enc(a.uploadId)}/1${q(b.key)}`), 403, 'ERR_TOKEN_SCOPE');
      await expectError(await api(`/s3/multipart/${enc(a.uploadId)}/1`), 400, 'ERR_VALIDATION');
    });

    it('part numbers outside 1…10000', async () => {
      const up = await create();
      for (const n of ['0', '10001', 'x', '-1']) await expectError(await api(`/s3/multipart/${enc(up.uploadId)}/${n}${q(up.key)}`), 400, 'ERR_PART_NUMBER');
    });

    it('completing with parts missing, gaps, wrong ETags, unequal or too small parts, or a bad list', async () => {
      const up = await create();
      const e1 = await sendPart(up, 1, pdfBytes(5 * MiB, 44));
      const e2 = await sendPart(up, 2, pdfBytes(6 * MiB, 45));
      const e4 = await sendPart(up, 4, pdfBytes(1000, 46));
      const missing = await expectError(await complete(up, [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }, { PartNumber: 3, ETag: 'x' }]), 409, 'ERR_PARTS_MISSING');
      expect(missing.details).toMatchObject({ missingParts: [3] });
      await expectError(await complete(up, [{ PartNumber: 1, ETag: e1 }, { PartNumber: 4, ETag: e4 }]), 400, 'ERR_PART_LIST');
      await expectError(await complete(up, [{ PartNumber: 1, ETag: e2 }]), 400, 'ERR_PART_LIST');
      // 5 MiB then 6 MiB: R2 wants all parts but the last of one size.
      await expectError(await complete(up, [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }]), 400, 'ERR_PART_LIST');
      for (const body of [{}, { parts: [] }, { parts: [{ PartNumber: 0, ETag: e1 }] }, { parts: [{ PartNumber: 1 }] }]) {
        await expectError(await api(`/s3/multipart/${enc(up.uploadId)}/complete${q(up.key)}`, json(body)), 400, 'ERR_VALIDATION');
      }
      // Nothing was settled by the refusals: the upload still takes parts.
      const manifest = await (await api(`/api/uploads/${up.key}`, { headers: { authorization: `Bearer ${native(up).uploadToken}` } })).json<{ state: string; size: number | null }>();
      expect(manifest).toMatchObject({ state: 'uploading', size: null });

      const small = await create();
      const s1 = await sendPart(small, 1, pdfBytes(1 * MiB, 47));
      const s2 = await sendPart(small, 2, pdfBytes(1 * MiB, 48));
      const tooSmall = await expectError(await complete(small, [{ PartNumber: 1, ETag: s1 }, { PartNumber: 2, ETag: s2 }]), 400, 'ERR_PART_SIZE');
      expect(tooSmall.details).toMatchObject({ partNumber: 1, minPartSize: 5 * MiB });
    });
  });

  describe('who may create', () => {
    const locked = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: 'false' });
    const jwt = (sub: string, secret = env.AUTH_JWT_SECRET!) => sign({ sub, exp: Math.floor(Date.now() / 1000) + 60 }, secret, 'HS256');

    it('without dev mode: a bearer JWT in the header, or in the /jwt/ path for clients that cannot set headers', async () => {
      await expectError(await locked('/s3/multipart', json({ filename: 'a.pdf', type: 'application/pdf' })), 401, 'ERR_UNAUTHORIZED');
      await expectError(await locked('/s3/params?filename=a.pdf&type=application/pdf'), 401, 'ERR_UNAUTHORIZED');
      const token = await jwt('carol');
      const viaHeader = await locked('/s3/multipart', { ...json({ filename: 'a.pdf', type: 'application/pdf' }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
      expect(viaHeader.status, await viaHeader.clone().text()).toBe(200);

      const base = `/jwt/${token}`;
      const viaPath = await create((path, init) => locked(path.startsWith('/s3/') ? `${base}${path}` : path, init));
      const [id, uploadToken] = viaPath.uploadId.split('~') as [string, string];
      // The owner is the JWT's subject: the token says so.
      expect(JSON.parse(atob(uploadToken.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')))).toMatchObject({ sub: 'carol', uid: id });
      // Per-upload calls work under the same prefix (Uppy uses one endpoint for everything).
      expect((await locked(`${base}/s3/multipart/${enc(viaPath.uploadId)}${q(viaPath.key)}`)).status).toBe(200);
      const params = await locked(`${base}/s3/params?filename=a.pdf&type=application/pdf`);
      expect(params.status).toBe(200);

      await expectError(await locked(`/jwt/${await jwt('carol', 'another-secret-another-secret')}/s3/multipart`, json({ filename: 'a.pdf', type: 'application/pdf' })), 401, 'ERR_UNAUTHORIZED');
      await expectError(await locked('/jwt/not-a-jwt/s3/multipart', json({ filename: 'a.pdf', type: 'application/pdf' })), 401, 'ERR_UNAUTHORIZED');
    });
  });

  it('CORS: preflights answered for allowed origins, ETag readable on part PUTs, other origins refused', async () => {
    const site = deployment({ CORS_ORIGINS: 'https://app.example.com' });
    const origin = { origin: 'https://app.example.com' };
    const preflight = await site('/s3/multipart', { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/i);

    const up = await create((path, init) => site(path, { ...init, headers: { ...(init?.headers as Record<string, string>), ...origin } }));
    const signed = await site(`/s3/multipart/${enc(up.uploadId)}/1${q(up.key)}`, { headers: origin });
    expect(signed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const { url } = await signed.json<{ url: string }>();
    const bytes = pdfBytes(1000, 49);
    const put = await site(url, { method: 'PUT', headers: { ...origin, 'content-length': '1000' }, body: bytes });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-expose-headers')).toMatch(/\bETag\b/);

    await expectError(await site('/s3/multipart', { ...json({ filename: 'a.pdf', type: 'application/pdf' }), headers: { 'content-type': 'application/json', origin: 'https://evil.example' } }), 403, 'ERR_ORIGIN_NOT_ALLOWED');
  });
});

describe('S3 multipart API, direct mode (presigned R2 part URLs)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('signs R2 UploadPart URLs; sizes come from R2 ListParts; completes with identical bytes', async () => {
    const direct = deployment({ S3_DIRECT_PARTS: 'true', R2_S3_ENDPOINT: 'https://account.r2.test' });
    const file = pdfBytes(10 * MiB + 777, 50);
    const up = await create(direct);
    const slices = [file.subarray(0, 5 * MiB), file.subarray(5 * MiB, 10 * MiB), file.subarray(10 * MiB)];
    // Stands in for R2's S3 API: the part PUTs go into the real (local) R2 upload, ListParts answers from them.
    const uploaded = new Map<number, { etag: string; size: number }>();
    let r2 = { key: '', uploadId: '' };
    const etags: string[] = [];
    for (const n of [1, 2, 3]) {
      const signed = await direct(`/s3/multipart/${enc(up.uploadId)}/${n}${q(up.key)}`);
      expect(signed.status, await signed.clone().text()).toBe(200);
      const { url, expires } = await signed.json<{ url: string; expires: number }>();
      expect(expires).toBe(900);
      const target = new URL(url);
      expect(target.origin).toBe('https://account.r2.test');
      expect(target.searchParams.get('partNumber')).toBe(String(n));
      expect(target.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      r2 = { key: decodeURIComponent(target.pathname.replace(/^\/edge-uploads\//, '')), uploadId: target.searchParams.get('uploadId')! };
      const part = await env.BUCKET.resumeMultipartUpload(r2.key, r2.uploadId).uploadPart(n, slices[n - 1]!);
      uploaded.set(n, { etag: part.etag, size: slices[n - 1]!.length });
      etags.push(part.etag);
    }
    const listing = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      expect(url.origin).toBe('https://account.r2.test');
      expect(url.searchParams.get('uploadId')).toBe(r2.uploadId);
      const parts = [...uploaded].map(([n, p]) => `<Part><PartNumber>${n}</PartNumber><ETag>&quot;${p.etag}&quot;</ETag><Size>${p.size}</Size></Part>`).join('');
      return new Response(`<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`);
    });

    const listed = await direct(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`);
    expect(await listed.json()).toEqual(etags.map((etag, i) => ({ PartNumber: i + 1, ETag: `"${etag}"`, Size: slices[i]!.length })));
    const done = await complete(up, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag: `"${ETag}"` })), direct);
    expect(done.status, await done.clone().text()).toBe(200);
    expect(listing).toHaveBeenCalled();
    listing.mockRestore();

    const manifest = await waitForState(native(up), ['ready', 'rejected', 'failed']);
    expect(manifest).toMatchObject({ state: 'ready', size: file.length });
    expect(await sha256Hex(await (await api(`/media/${up.key}`)).arrayBuffer())).toBe(await sha256Hex(file));
  });
});

describe('the uploadId', () => {
  it('round-trips id and token through Uppy\'s URL encoding, and is never logged', () => {
    const id = '0123456789abcdef0123456789abcdef';
    const token = 'eyJ2IjoxfQ.c2lnbmF0dXJl-_';
    const handle = formatUploadHandle(id, token);
    expect(encodeURIComponent(handle)).toBe(handle);
    expect(parseUploadHandle(decodeURIComponent(encodeURIComponent(handle)))).toEqual({ id, token });
    for (const bad of ['', id, `${id}~`, `${id}~a.b.c`, `${id.toUpperCase()}~${token}`, `${id}.${token}`, `${id}~${token}~x`]) expect(parseUploadHandle(bad)).toBeNull();
    expect(redactPath(`/s3/multipart/${handle}/3`)).toBe('/s3/multipart/0123456789abcdef0123456789abcdef~…/3');
    expect(redactPath('/jwt/eyJhbGciOi.x.y/s3/multipart')).toBe('/jwt/…/s3/multipart');
  });

  it('unexpected failures answer a generic 500 and log the path without the token', async () => {
    const up = await create();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = deployment({
      UPLOAD_SESSION: {
        idFromName() {
          throw new Error('boom');
        },
      } as unknown as typeof env.UPLOAD_SESSION,
    });
    await expectError(await broken(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`), 500, 'ERR_INTERNAL');
    const logged = JSON.stringify(errors.mock.calls.map((call) => call.slice(0, 3)));
    expect(logged).toContain('/s3/multipart/');
    expect(logged).not.toContain(up.uploadId.split('~')[1]!);
    errors.mockRestore();
  });

  it('direct mode: R2 failing to list parts is a 502 to retry', async () => {
    const direct = deployment({ S3_DIRECT_PARTS: 'true', R2_S3_ENDPOINT: 'https://account.r2.test' });
    const up = await create(direct);
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('<Error><Code>InternalError</Code></Error>', { status: 500 }));
    await expectError(await direct(`/s3/multipart/${enc(up.uploadId)}${q(up.key)}`), 502, 'ERR_STORAGE');
    vi.restoreAllMocks();
  });
});

describe('R2 ListParts', () => {
  it('parses parts (quoted ETags in any spelling) and pages with the marker', async () => {
    const page = (parts: [number, string, number][], next?: number) =>
      `<?xml version="1.0"?><ListPartsResult><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${next ? `<NextPartNumberMarker>${next}</NextPartNumberMarker>` : ''}${parts
        .map(([n, etag, size]) => `<Part><PartNumber>${n}</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>${etag}</ETag><Size>${size}</Size></Part>`)
        .join('')}</ListPartsResult>`;
    expect(parseListParts(page([[1, '&quot;abc&quot;', 5], [2, '"def"', 3]]))).toEqual({
      parts: [{ partNumber: 1, etag: 'abc', size: 5 }, { partNumber: 2, etag: 'def', size: 3 }],
      nextMarker: null,
    });
    const markers: (string | null)[] = [];
    const fake = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      markers.push(url.searchParams.get('part-number-marker'));
      expect(new Headers(init?.headers).get('authorization')).toMatch(/^AWS4-HMAC-SHA256 Credential=key-id\//);
      return new Response(markers.length === 1 ? page([[1, '"a"', 5]], 1) : page([[2, '"b"', 2]]));
    }) as typeof fetch;
    const target = { endpoint: 'https://r2.test/', bucket: 'b', accessKeyId: 'key-id', secretAccessKey: 'secret' };
    expect(await listUploadedParts(target, 'originals/o/x y', 'up-1', fake)).toEqual([
      { partNumber: 1, etag: 'a', size: 5 },
      { partNumber: 2, etag: 'b', size: 2 },
    ]);
    expect(markers).toEqual([null, '1']);
  });
});
