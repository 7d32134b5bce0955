/**
 * A catalogue of named bad inputs from across the API: tokens (expired, tampered, another
 * upload's, another user's, unknown key), creation (zero bytes, oversize, disallowed and spoofed
 * types, hostile names on every path a name enters, oversize and chunked JSON, creator JWTs without
 * "exp" on every create path, look-alike principals), parts, completion, media (conditionals,
 * headers, what failed uploads reveal) and CORS. Each gets the answer it
 * should; the test prints a table of every input and the answer it got, then fails on any miss.
 * (Media-pipeline inputs, such as EICAR, pixel bombs, SVG scripts and truncated images, are the
 * media pipeline's own tests; see docs/reliability.md.)
 */
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { KeyRing, signCapability } from '../src/domain/capability';
import { encodeBase64Url } from '../src/domain/base64url';
import type { Manifest } from '../src/contracts/messages';
import { ownerSegment } from '../src/storage/object-keys';
import { api, createUpload, deployment, getManifest, MiB, partOf, pdfBytes, putPart, sha256Base64, sha256Hex, waitForState, type CreatedUpload } from './helpers';

interface Answer {
  status: number;
  code?: string;
  /** Anything else worth printing (state, reason, stored name …). */
  note?: string;
}

interface Entry {
  input: string;
  /** Expected status and code (code optional), or a predicate with its description. */
  expect: { status: number | number[]; code?: string; also?: (answer: Answer) => string | null; describe?: string };
  run: () => Promise<Answer>;
}

async function answer(res: Response, note?: string): Promise<Answer> {
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    // Not JSON: no code.
  }
  return { status: res.status, ...(code ? { code } : {}), ...(note ? { note } : {}) };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const ring = () => KeyRing.parse(env.UPLOAD_TOKEN_KEYS!);
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
const pdf = { name: 'a.pdf', size: 1000, type: 'application/pdf' };

/** A 10-byte part 3 of a 10 MiB + 10 file: small enough to send whole in any case below. */
async function threePartUpload(seed: number, owner?: string): Promise<{ upload: CreatedUpload; file: Uint8Array }> {
  const file = pdfBytes(10 * MiB + 10, seed);
  const headers = owner ? bearer(await sign({ sub: owner, exp: inSeconds(600) }, env.AUTH_JWT_SECRET!, 'HS256')) : {};
  const res = await api('/api/uploads', json({ name: 'c.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB }, headers));
  expect(res.status, await res.clone().text()).toBe(201);
  return { upload: (await res.json()) as CreatedUpload, file };
}

/** Uploads `bytes` declared as `type` and waits for the pipeline's verdict. */
async function uploadAndWait(bytes: Uint8Array, type: string, name: string): Promise<{ upload: CreatedUpload; manifest: Manifest }> {
  const upload = await createUpload({ name, size: bytes.length, type });
  const res = await putPart(upload, 1, bytes);
  expect(res.status, await res.clone().text()).toBe(200);
  return { upload, manifest: await waitForState(upload, ['ready', 'rejected', 'failed']) };
}

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** Every place a file name enters: opens an upload named `name`, answers its id and token. */
const nameEntrances: Record<string, (name: string) => Promise<{ status: number; id: string; token: string }>> = {
  native: async (name) => {
    const res = await api('/api/uploads', json({ ...pdf, name }));
    const body = (await res.json()) as CreatedUpload;
    return { status: res.status, id: body.id, token: body.uploadToken };
  },
  'tus Upload-Metadata': async (name) => {
    const res = await api('/files/', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1000', 'Upload-Metadata': `filename ${b64(name)},filetype ${b64('application/pdf')}` } });
    const url = new URL(res.headers.get('location') ?? 'http://x/');
    return { status: res.status, id: url.pathname.split('/').pop()!, token: url.searchParams.get('token') ?? '' };
  },
  'S3 multipart (Uppy)': async (name) => {
    const res = await api('/s3/multipart', json({ filename: name, type: 'application/pdf' }));
    const [id, token] = ((await res.json()) as { uploadId: string }).uploadId.split('~') as [string, string];
    return { status: res.status === 200 ? 201 : res.status, id, token };
  },
  'S3 form POST (/s3/params)': async (name) => {
    const res = await api(`/s3/params?filename=${encodeURIComponent(name)}&type=application%2Fpdf`);
    const { fields } = (await res.json()) as { fields: { key: string; token: string } };
    return { status: res.status === 200 ? 201 : res.status, id: fields.key, token: fields.token };
  },
};

/** Every way to create an upload with a creator JWT. */
const createEntrances: Record<string, (jwt: string) => Promise<Response>> = {
  native: (jwt) => api('/api/uploads', json(pdf, bearer(jwt))),
  tus: (jwt) => api('/files/', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', ...bearer(jwt), 'Upload-Length': '1000', 'Upload-Metadata': `filetype ${b64('application/pdf')}` } }),
  'S3 multipart (Uppy)': (jwt) => api('/s3/multipart', json({ filename: 'a.pdf', type: 'application/pdf' }, bearer(jwt))),
  'S3 multipart, JWT in the path': (jwt) => api(`/jwt/${jwt}/s3/multipart`, json({ filename: 'a.pdf', type: 'application/pdf' })),
  'S3 form POST (/s3/params)': (jwt) => api('/s3/params?filename=a.pdf&type=application%2Fpdf', { headers: bearer(jwt) }),
};

describe('catalogue of bad inputs', () => {
  it('answers each named bad input as it should, and prints the table', async () => {
    const { upload: target, file } = await threePartUpload(601);
    expect((await putPart(target, 1, partOf(file, target, 1))).status).toBe(200);
    const before = await getManifest(target);
    const aliceJwt = await sign({ sub: 'alice', exp: inSeconds(600) }, env.AUTH_JWT_SECRET!, 'HS256');
    const alices = await threePartUpload(602, 'alice');
    const bobs = await threePartUpload(603, 'bob');
    const part3 = partOf(file, target, 3);
    const put = (n: string | number, body: BodyInit, headers: Record<string, string> = bearer(target.uploadToken)) =>
      api(`/api/uploads/${target.id}/parts/${n}`, { method: 'PUT', headers, body });
    const [payload, signature] = target.uploadToken.split('.') as [string, string];
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const tamperedToken = `${encodeBase64Url(new TextEncoder().encode(JSON.stringify({ ...claims, uid: bobs.upload.id })))}.${signature}`;
    const noneJwt = `${encodeBase64Url(new TextEncoder().encode('{"alg":"none","typ":"JWT"}'))}.${encodeBase64Url(new TextEncoder().encode(JSON.stringify({ sub: 'alice', exp: inSeconds(600) })))}.`;
    const ready = await uploadAndWait(pdfBytes(5000, 604), 'application/pdf', 'ready.pdf');
    expect(ready.manifest.state).toBe('ready');
    const aborted = await createUpload({ name: 'gone.pdf', size: 100, type: 'application/pdf' });
    expect((await api(`/api/uploads/${aborted.id}`, { method: 'DELETE', headers: bearer(aborted.uploadToken) })).status).toBe(200);
    const noAnonymous = deployment({ DEV_ALLOW_ANONYMOUS_UPLOADS: 'false' });
    const mediaRange = (range: string) => api(`/media/${ready.upload.id}`, { headers: { range } });

    const entries: Entry[] = [
      // ---- who may create, who may act on an upload ----
      { input: 'create with no JWT where anonymous uploads are off', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await noAnonymous('/api/uploads', json(pdf))) },
      { input: 'create with a garbage bearer JWT', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await api('/api/uploads', json(pdf, bearer('not.a.jwt')))) },
      { input: 'create with a JWT signed by another secret', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await api('/api/uploads', json(pdf, bearer(await sign({ sub: 'alice', exp: inSeconds(600) }, 'someone-elses-secret-0123456789abcdef', 'HS256'))))) },
      { input: 'create with an expired JWT', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await api('/api/uploads', json(pdf, bearer(await sign({ sub: 'alice', exp: inSeconds(-60) }, env.AUTH_JWT_SECRET!, 'HS256'))))) },
      { input: 'create with a JWT that has no "sub"', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await api('/api/uploads', json(pdf, bearer(await sign({ exp: inSeconds(600) }, env.AUTH_JWT_SECRET!, 'HS256'))))) },
      { input: 'create with an unsigned JWT (alg "none")', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await api('/api/uploads', json(pdf, bearer(noneJwt)))) },
      { input: 'part with no upload token', expect: { status: 401, code: 'ERR_UNAUTHORIZED' }, run: async () => answer(await put(3, part3, {})) },
      { input: 'part with an expired upload token', expect: { status: 401, code: 'ERR_TOKEN_EXPIRED' }, run: async () => answer(await put(3, part3, bearer(await signCapability(ring(), { uid: target.id, sub: 'anonymous', exp: inSeconds(-1) })))) },
      { input: 'part with a tampered token (uid changed, signature kept)', expect: { status: 401, code: 'ERR_TOKEN_INVALID' }, run: async () => answer(await api(`/api/uploads/${bobs.upload.id}/parts/3`, { method: 'PUT', headers: bearer(tamperedToken), body: part3 })) },
      { input: "part with another upload's token", expect: { status: 403, code: 'ERR_TOKEN_SCOPE' }, run: async () => answer(await put(3, part3, bearer(ready.upload.uploadToken))) },
      { input: "another user's token (alice's on bob's upload)", expect: { status: 403, code: 'ERR_TOKEN_SCOPE' }, run: async () => answer(await api(`/api/uploads/${bobs.upload.id}/parts/3`, { method: 'PUT', headers: bearer(alices.upload.uploadToken), body: part3 })) },
      { input: "another user's token on bob's manifest, complete and delete", expect: { status: 403, code: 'ERR_TOKEN_SCOPE', describe: 'all three 403' }, run: async () => {
        const tries = await Promise.all([
          api(`/api/uploads/${bobs.upload.id}`, { headers: bearer(alices.upload.uploadToken) }),
          api(`/api/uploads/${bobs.upload.id}/complete`, { method: 'POST', headers: bearer(alices.upload.uploadToken) }),
          api(`/api/uploads/${bobs.upload.id}`, { method: 'DELETE', headers: bearer(alices.upload.uploadToken) }),
        ]);
        const answers = await Promise.all(tries.map((r) => answer(r)));
        const odd = answers.find((a) => a.status !== 403);
        return odd ?? { status: 403, code: answers[0]!.code, note: 'manifest, complete, delete' };
      } },
      { input: 'part with a token signed by an unknown key', expect: { status: 401, code: 'ERR_TOKEN_INVALID' }, run: async () => answer(await put(3, part3, bearer(await signCapability(new KeyRing([{ id: 'retired', secret: 'r'.repeat(40) }]), { uid: target.id, sub: 'anonymous', exp: inSeconds(600) })))) },
      { input: 'the JWT used as an upload token', expect: { status: 401, code: 'ERR_TOKEN_INVALID' }, run: async () => answer(await put(3, part3, bearer(aliceJwt))) },
      { input: 'tampered token in ?token= on the events URL', expect: { status: 401, code: 'ERR_TOKEN_INVALID' }, run: async () => answer(await api(`/api/uploads/${bobs.upload.id}/events?token=${encodeURIComponent(tamperedToken)}`, { headers: { upgrade: 'websocket' } })) },
      { input: 'a call from a disallowed origin', expect: { status: 403, code: 'ERR_ORIGIN_NOT_ALLOWED' }, run: async () => answer(await api('/api/uploads', json(pdf, { origin: 'https://evil.example' }))) },
      { input: 'a preflight from a disallowed origin', expect: { status: 403, code: 'ERR_ORIGIN_NOT_ALLOWED', also: (a) => (a.note === 'no ACAO' ? null : 'sent Access-Control-Allow-Origin') }, run: async () => {
        const res = await api('/api/uploads', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
        return answer(res, res.headers.get('access-control-allow-origin') ? `ACAO ${res.headers.get('access-control-allow-origin')}` : 'no ACAO');
      } },

      // ---- creating an upload ----
      { input: 'zero-byte file', expect: { status: 400, code: 'ERR_EMPTY_FILE' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, size: 0 }))) },
      { input: 'oversize file (6 GiB, limit 5 GiB)', expect: { status: 413, code: 'ERR_FILE_TOO_LARGE' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, size: 6 * 1024 ** 3 }))) },
      { input: 'negative size', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, size: -1 }))) },
      { input: 'size 2^53 (past the safe integers)', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, size: 2 ** 53 }))) },
      { input: 'size as a string "1000"', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, size: '1000' }))) },
      { input: 'disallowed type (application/x-msdownload)', expect: { status: 415, code: 'ERR_TYPE_NOT_ALLOWED' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, name: 'setup.exe', type: 'application/x-msdownload' }))) },
      { input: 'SVG declared as image/svg+xml (scriptable: not allowed)', expect: { status: 415, code: 'ERR_TYPE_NOT_ALLOWED' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, name: 'x.svg', type: 'image/svg+xml' }))) },
      { input: 'HTML declared as text/html', expect: { status: 415, code: 'ERR_TYPE_NOT_ALLOWED' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, name: 'x.html', type: 'text/html' }))) },
      { input: 'oversize JSON body (70 KB)', expect: { status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, name: 'n'.repeat(70_000) }))) },
      { input: 'malformed JSON', expect: { status: 400, code: 'ERR_INVALID_JSON' }, run: async () => answer(await api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' })) },
      { input: 'form body instead of JSON', expect: { status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' }, run: async () => answer(await api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=a.pdf&size=10' })) },
      { input: 'part size below the minimum (1 KiB)', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, partSize: 1024 }))) },
      { input: '33 metadata entries', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api('/api/uploads', json({ ...pdf, metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }))) },
      { input: 'path traversal name "../../etc/passwd"', expect: { status: 201, also: (a) => (a.note === 'name "passwd", key originals/anonymous/<id>' ? null : `kept ${a.note}`) }, run: async () => {
        const res = await api('/api/uploads', json({ ...pdf, name: '../../etc/passwd' }));
        const body = (await res.json()) as { id: string; name: string; key: string };
        return { status: res.status, note: `name "${body.name}", key ${body.key.replace(body.id, '<id>')}` };
      } },
      { input: 'name of 300 emoji (cut to 255 UTF-16 units)', expect: { status: 201, also: (a) => (a.note?.includes('U+FFFD') ? `the cut split a surrogate pair: ${a.note}` : null), describe: '201, no U+FFFD' }, run: async () => {
        const res = await api('/api/uploads', json({ ...pdf, name: '🙂'.repeat(300) }));
        const body = (await res.json()) as { name: string };
        return { status: res.status, note: `${body.name.length} units${body.name.includes('\uFFFD') ? `, ends in ${body.name.split('\uFFFD').length - 1}× U+FFFD` : ''}` };
      } },
      ...Object.entries(nameEntrances).map(([path, open]): Entry => ({
        input: `bidi override and zero-width name "\\u202Egpj\\u200B.exe" via ${path}`,
        expect: { status: 201, also: (a) => (a.note === 'name "gpj.exe"' ? null : `kept ${a.note}`), describe: '201, name "gpj.exe"' },
        run: async () => {
          const { status, id, token } = await open('\u202egpj\u200b.exe');
          const manifest = await getManifest({ id, uploadToken: token } as CreatedUpload);
          return { status, note: `name ${JSON.stringify(manifest.name)}` };
        },
      })),

      // ---- parts ----
      { input: 'part number 0', expect: { status: 400, code: 'ERR_PART_NUMBER' }, run: async () => answer(await put(0, part3)) },
      { input: 'part number -1', expect: { status: 400, code: 'ERR_PART_NUMBER' }, run: async () => answer(await put('-1', part3)) },
      { input: 'part number past the end (4 of 3)', expect: { status: 400, code: 'ERR_PART_NUMBER' }, run: async () => answer(await put(4, part3)) },
      { input: 'part number 10001', expect: { status: 400, code: 'ERR_PART_NUMBER' }, run: async () => answer(await put(10001, part3)) },
      { input: 'part number "1e3"', expect: { status: 400, code: 'ERR_PART_NUMBER' }, run: async () => answer(await put('1e3', part3)) },
      { input: 'part of the wrong length', expect: { status: 400, code: 'ERR_PART_SIZE' }, run: async () => answer(await put(3, part3.subarray(1))) },
      { input: 'part without Content-Length (chunked)', expect: { status: 411, code: 'ERR_LENGTH_REQUIRED' }, run: async () => answer(await put(3, new ReadableStream({ start: (c) => { c.enqueue(part3); c.close(); } }))) },
      { input: 'part declared larger than the 64 MiB maximum', expect: { status: 413, code: 'ERR_PART_TOO_LARGE' }, run: async () => {
        // Refused on the header alone: not one byte of the body is ever written.
        const { readable } = new FixedLengthStream(64 * MiB + 1);
        return answer(await put(2, readable));
      } },
      { input: 'part whose Content-Digest does not match', expect: { status: 400, code: 'ERR_DIGEST_MISMATCH' }, run: async () => answer(await put(3, part3, { ...bearer(target.uploadToken), 'content-digest': `sha-256=:${await sha256Base64(new Uint8Array(10))}:` })) },
      { input: 'part with a malformed Content-Digest', expect: { status: 400, code: 'ERR_DIGEST_INVALID' }, run: async () => answer(await put(3, part3, { ...bearer(target.uploadToken), 'content-digest': 'sha-256=deadbeef' })) },
      { input: 'part for an aborted upload', expect: { status: 410, code: 'ERR_UPLOAD_GONE' }, run: async () => answer(await api(`/api/uploads/${aborted.id}/parts/1`, { method: 'PUT', headers: bearer(aborted.uploadToken), body: pdfBytes(100, 605) })) },
      { input: 'complete with parts missing', expect: { status: 409, code: 'ERR_PARTS_MISSING' }, run: async () => answer(await api(`/api/uploads/${target.id}/complete`, { method: 'POST', headers: bearer(target.uploadToken) })) },
      { input: 'presigned part URL valid for 99999 s', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api(`/api/uploads/${target.id}/parts/2/presign?expiresIn=99999`, { method: 'POST', headers: bearer(target.uploadToken) })) },
      { input: 'direct-part ETag with a quote inside', expect: { status: 400, code: 'ERR_VALIDATION' }, run: async () => answer(await api(`/api/uploads/${target.id}/parts/2/etag`, { method: 'PUT', headers: { ...bearer(target.uploadToken), 'content-type': 'application/json' }, body: JSON.stringify({ etag: 'ab"cd' }) })) },
      { input: 'malformed upload id "../../config"', expect: { status: [400, 404] }, run: async () => answer(await api(`/api/uploads/..%2F..%2Fconfig`, { headers: bearer(target.uploadToken) })) },
      { input: 'well-formed but unknown upload id', expect: { status: 404, code: 'ERR_UPLOAD_NOT_FOUND' }, run: async () => {
        const unknown = 'e'.repeat(32);
        return answer(await api(`/api/uploads/${unknown}`, { headers: bearer(await signCapability(ring(), { uid: unknown, sub: 'anonymous', exp: inSeconds(60) })) }));
      } },
      { input: 'events URL without WebSocket or SSE', expect: { status: 400, code: 'ERR_BAD_REQUEST' }, run: async () => answer(await api(`/api/uploads/${target.id}/events`, { headers: bearer(target.uploadToken) })) },

      // ---- media ----
      { input: 'media before the upload is ready', expect: { status: 409, code: 'ERR_NOT_READY' }, run: async () => answer(await api(`/media/${target.id}`)) },
      { input: 'media of an unknown id', expect: { status: 404, code: 'ERR_UPLOAD_NOT_FOUND' }, run: async () => answer(await api(`/media/${'d'.repeat(32)}`)) },
      { input: 'media id "../../etc/passwd"', expect: { status: [400, 404] }, run: async () => answer(await api('/media/..%2F..%2Fetc%2Fpasswd')) },
      { input: 'range starting past the end', expect: { status: 416, code: 'ERR_RANGE_NOT_SATISFIABLE' }, run: async () => answer(await mediaRange('bytes=5000-')) },
      { input: 'several ranges at once', expect: { status: 416, code: 'ERR_RANGE_NOT_SATISFIABLE' }, run: async () => answer(await mediaRange('bytes=0-1,5-6')) },
      { input: 'inverted range "bytes=5-1" (invalid: RFC 9110 says ignore it)', expect: { status: [200, 416], describe: '200 whole file, or 416' }, run: async () => {
        const res = await mediaRange('bytes=5-1');
        return answer(res, res.headers.get('content-range') ? `Content-Range ${res.headers.get('content-range')}` : undefined);
      } },
      { input: 'zero-length suffix "bytes=-0" (unsatisfiable)', expect: { status: 416 }, run: async () => {
        const res = await mediaRange('bytes=-0');
        return answer(res, res.headers.get('content-range') ? `Content-Range ${res.headers.get('content-range')}` : undefined);
      } },

      { input: 'media with "If-None-Match: garbage"', expect: { status: 200 }, run: async () => answer(await api(`/media/${ready.upload.id}`, { headers: { 'if-none-match': 'garbage' } })) },
      { input: 'media with a weak If-None-Match of its ETag', expect: { status: 304 }, run: async () => {
        const etag = (await api(`/media/${ready.upload.id}`, { method: 'HEAD' })).headers.get('etag');
        return answer(await api(`/media/${ready.upload.id}`, { headers: { 'if-none-match': `W/${etag}` } }));
      } },
      { input: 'range with a stale If-Range (whole file instead)', expect: { status: 200, also: (a) => (a.note === 'no Content-Range' ? null : a.note ?? 'no note') }, run: async () => {
        const res = await api(`/media/${ready.upload.id}`, { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
        return answer(res, res.headers.get('content-range') ? `Content-Range ${res.headers.get('content-range')}` : 'no Content-Range');
      } },
      { input: 'a PDF opened from /media (attachment, strict CSP)', expect: { status: 200, also: (a) => (a.note === 'attachment; sandboxed; nosniff' ? null : a.note ?? 'no note'), describe: '200 attachment, CSP sandbox, nosniff' }, run: async () => {
        const res = await api(`/media/${ready.upload.id}`);
        const parts = [
          res.headers.get('content-disposition')?.split(';')[0],
          (res.headers.get('content-security-policy') ?? '').includes('sandbox') ? 'sandboxed' : 'no sandbox',
          res.headers.get('x-content-type-options') ?? 'sniffable',
        ];
        return answer(res, parts.join('; '));
      } },
      { input: 'media of an upload rejected for a checksum mismatch', expect: { status: 409, code: 'ERR_NOT_READY', also: (a) => (a.note === 'no reason given' ? null : a.note ?? 'no note'), describe: '409 ERR_NOT_READY, no reason, no SHA-256' }, run: async () => {
        const bytes = pdfBytes(3100, 608);
        const upload = await createUpload({ name: 'sum.pdf', size: bytes.length, type: 'application/pdf', sha256: 'b'.repeat(64) });
        expect((await putPart(upload, 1, bytes)).status).toBe(200);
        await waitForState(upload, ['ready', 'rejected', 'failed']);
        const res = await api(`/media/${upload.id}`);
        const text = await res.clone().text();
        const leaks = text.includes(await sha256Hex(bytes)) || /checksum|declared/i.test(text);
        return answer(res, leaks ? `leaks: ${text.slice(0, 120)}` : 'no reason given');
      } },
      { input: 'oversize chunked JSON body (90 MB, no Content-Length)', expect: { status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' }, run: async () => {
        const filler = new Uint8Array(64 * 1024).fill(0x61);
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({ pull(c) { if (sent >= 90 * MiB) return c.close(); sent += filler.length; c.enqueue(filler); } }, { highWaterMark: 0 });
        const res = await api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
        return answer(res, `${Math.round(sent / 1024)} KiB read`);
      } },
      ...Object.entries(createEntrances).map(([path, create]): Entry => ({
        input: `create via ${path} with a JWT that has no "exp"`,
        expect: { status: 401, code: 'ERR_TOKEN_NO_EXPIRY' },
        run: async () => answer(await create(await sign({ sub: 'alice' }, env.AUTH_JWT_SECRET!, 'HS256'))),
      })),
      { input: 'create with a JWT whose "sub" is "anonymous"', expect: { status: 201, also: (a) => (a.note?.startsWith('originals/anonymous/') ? `shares the development principal: ${a.note}` : null), describe: '201, not the development principal' }, run: async () => {
        const res = await api('/api/uploads', json(pdf, bearer(await sign({ sub: 'anonymous', exp: inSeconds(600) }, env.AUTH_JWT_SECRET!, 'HS256'))));
        const body = (await res.clone().json()) as { key?: string; id?: string };
        return answer(res, body.key?.replace(body.id ?? '', '<id>'));
      } },
      { input: 'create with a JWT whose "sub" looks like a hashed owner prefix ("h-<32 hex>")', expect: { status: 201, also: (a) => (a.note === 'own prefix' ? null : a.note ?? 'no note'), describe: '201, a prefix of its own' }, run: async () => {
        const lookalike = await ownerSegment('victim@example.com');
        const res = await api('/api/uploads', json(pdf, bearer(await sign({ sub: lookalike, exp: inSeconds(600) }, env.AUTH_JWT_SECRET!, 'HS256'))));
        const body = (await res.clone().json()) as { key?: string };
        return answer(res, body.key?.startsWith(`originals/${lookalike}/`) ? `shares ${lookalike}` : 'own prefix');
      } },

      // ---- content that lies about its type (validated by the processing consumer) ----
      { input: 'spoofed MIME: PDF bytes declared image/png', expect: { status: 409, code: 'ERR_NOT_READY', also: (a) => (a.note?.startsWith('rejected ERR_TYPE_MISMATCH') ? null : `upload ${a.note}`), describe: 'rejected ERR_TYPE_MISMATCH, never served' }, run: async () => {
        const { upload, manifest } = await uploadAndWait(pdfBytes(3000, 606), 'image/png', 'fake.png');
        const media = await answer(await api(`/media/${upload.id}`));
        return { ...media, note: `${manifest.state} ${manifest.reason?.split(':')[0]}; object ${(await env.BUCKET.head(upload.key)) ? 'kept' : 'deleted'}` };
      } },
      { input: 'spoofed MIME: a Windows executable (MZ) declared application/pdf', expect: { status: 409, code: 'ERR_NOT_READY', also: (a) => (a.note?.startsWith('rejected ERR_TYPE_MISMATCH') ? null : `upload ${a.note}`), describe: 'rejected ERR_TYPE_MISMATCH, never served' }, run: async () => {
        const exe = pdfBytes(3000, 607);
        exe.set(new TextEncoder().encode('MZ\x90\x00\x03\x00\x00\x00'));
        const { upload, manifest } = await uploadAndWait(exe, 'application/pdf', 'invoice.pdf');
        const media = await answer(await api(`/media/${upload.id}`));
        return { ...media, note: `${manifest.state} ${manifest.reason?.split(':')[0]}; object ${(await env.BUCKET.head(upload.key)) ? 'kept' : 'deleted'}` };
      } },
      { input: 'spoofed MIME: HTML declared image/jpeg', expect: { status: 409, code: 'ERR_NOT_READY', also: (a) => (a.note?.startsWith('rejected ERR_TYPE_MISMATCH') ? null : `upload ${a.note}`), describe: 'rejected ERR_TYPE_MISMATCH, never served' }, run: async () => {
        const html = new TextEncoder().encode('<!doctype html><script>alert(document.cookie)</script>'.padEnd(2000, ' '));
        const { upload, manifest } = await uploadAndWait(html, 'image/jpeg', 'cat.jpg');
        const media = await answer(await api(`/media/${upload.id}`));
        return { ...media, note: `${manifest.state} ${manifest.reason?.split(':')[0]}; object ${(await env.BUCKET.head(upload.key)) ? 'kept' : 'deleted'}` };
      } },
    ];

    const rows: string[] = [];
    const misses: string[] = [];
    for (const [i, entry] of entries.entries()) {
      let got: Answer;
      try {
        got = await entry.run();
      } catch (error) {
        got = { status: 0, note: `threw ${String(error).slice(0, 120)}` };
      }
      const statuses = Array.isArray(entry.expect.status) ? entry.expect.status : [entry.expect.status];
      const problems = [
        statuses.includes(got.status) ? null : `status ${got.status}`,
        entry.expect.code && got.code !== entry.expect.code ? `code ${got.code ?? '(none)'}` : null,
        entry.expect.also?.(got) ?? null,
      ].filter((p): p is string => p !== null);
      const wanted = entry.expect.describe ?? `${statuses.join('/')} ${entry.expect.code ?? ''}`.trim();
      const gotText = [String(got.status), got.code, got.note ? `(${got.note})` : undefined].filter(Boolean).join(' ');
      rows.push(`| ${i + 1} | ${entry.input} | ${wanted} | ${gotText} | ${problems.length ? 'MISS' : 'ok'} |`);
      if (problems.length) misses.push(`${entry.input}: wanted ${wanted}, got ${gotText}`);
    }
    // None of the refused inputs changed the upload they were aimed at.
    expect(await getManifest(target)).toEqual(before);
    console.log(
      [
        `[catalogue] ${entries.length} named bad inputs, ${entries.length - misses.length} answered as they should, ${misses.length} not; the target upload's manifest unchanged`,
        '| # | input | expected | got | |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    expect(misses).toEqual([]);
  });
});
