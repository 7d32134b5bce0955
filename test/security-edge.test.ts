/**
 * The edge's side of the security hardening (issues 11 and 18): what `/media` serves after a
 * delete, who shares a storage prefix, conditional requests, what public errors reveal, JSON
 * limits while reading, creator JWTs, media headers, file names, and `Vary: Origin`. Every case
 * runs on each protocol path it applies to (native, tus, S3/Uppy multipart, S3 form POST).
 */
import { formatCacheKey } from '../src/media/negotiate-format';
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { ownerSegment } from '../src/storage/object-keys';
import { api, ORIGIN, createUpload, deployment, expectError, getManifest, MiB, pdfBytes, putPart, sha256Hex, waitForState, type CreatedUpload } from './helpers';
import { gradientPng } from './media-fixtures';

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jwtFor = (sub: string, claims: Record<string, unknown> = { exp: inSeconds(600) }) => sign({ sub, ...claims }, env.AUTH_JWT_SECRET!, 'HS256');
const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

/** Uploads `bytes` in one part (natively, optionally as a JWT principal) and waits for the verdict. */
async function uploadNative(bytes: Uint8Array, type: string, name: string, extra: Record<string, unknown> = {}, jwt?: string): Promise<CreatedUpload> {
  const res = await api('/api/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(jwt ? bearer(jwt) : {}) },
    body: JSON.stringify({ name, size: bytes.length, type, ...extra }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const upload = (await res.json()) as CreatedUpload;
  expect((await putPart(upload, 1, bytes)).status).toBe(200);
  await waitForState(upload, ['ready', 'rejected', 'failed'], 30_000);
  return upload;
}

/** Creates a tus upload and sends it whole in one PATCH; the native view of it (same id and token). */
async function uploadTus(bytes: Uint8Array, type: string, name: string): Promise<CreatedUpload> {
  const create = await api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filename ${b64(name)},filetype ${b64(type)}` },
  });
  expect(create.status, await create.clone().text()).toBe(201);
  const location = new URL(create.headers.get('location')!);
  const patch = await api(location.pathname + location.search, {
    method: 'PATCH',
    headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(bytes.length) },
    body: bytes,
  });
  expect(patch.status, await patch.clone().text()).toBe(204);
  return { id: location.pathname.split('/').pop()!, uploadToken: location.searchParams.get('token')! } as CreatedUpload;
}

/** Waits until the Cache API holds `url` (the first GET stores it in the background). */
async function cached(url: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await caches.default.match(formatCacheKey(new Request(new URL(url, ORIGIN))))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

// ---- issue 11 item 2: nothing is served after a delete, cache or not ---------------------------

describe('a deleted upload is never served again', () => {
  const deletions: Record<string, (u: CreatedUpload) => Promise<Response>> = {
    native: (u) => api(`/api/uploads/${u.id}`, { method: 'DELETE', headers: bearer(u.uploadToken) }),
    tus: (u) => api(`/files/${u.id}`, { method: 'DELETE', headers: { ...TUS, ...bearer(u.uploadToken) } }),
    's3 (Uppy abort)': (u) => api(`/s3/multipart/${encodeURIComponent(`${u.id}~${u.uploadToken}`)}?key=${u.id}`, { method: 'DELETE' }),
  };
  for (const [protocol, remove] of Object.entries(deletions)) {
    it(`deleted through ${protocol}: the cached thumbnail and the original answer 404/410`, async () => {
      // Unique pixels per case, so no other upload shares (deduplicates) these bytes.
      const png = await gradientPng(200 + Object.keys(deletions).indexOf(protocol), 120);
      const upload = await uploadNative(png, 'image/png', 'cat.png');
      const manifest = await getManifest(upload);
      expect(manifest.state).toBe('ready');
      const thumb = manifest.result!.derivatives!.find((d) => d.variant === 'thumb')!;
      expect((await api(thumb.url)).status).toBe(200);
      expect(await cached(thumb.url)).toBe(true);
      expect((await api(`/media/${upload.id}`)).status).toBe(200);

      expect((await remove(upload)).status).toBeLessThan(300);
      for (const url of [thumb.url, `/media/${upload.id}`]) {
        const res = await api(url);
        expect([404, 410], `${url} after the delete`).toContain(res.status);
      }
    });
  }
});

// ---- issue 11 item 6: owners never share a storage prefix -------------------------------------

describe('owner storage prefixes are injective', () => {
  it('an owner named like another owner\'s hashed prefix gets a prefix of its own', async () => {
    for (const victim of ['victim@example.com', 'ünïcode', 'a'.repeat(65), '..', 'with space']) {
      const hashed = await ownerSegment(victim);
      expect(hashed).toMatch(/^h-[0-9a-f]{32}$/);
      expect(await ownerSegment(hashed), `sub "${hashed}" vs "${victim}"`).not.toBe(hashed);
    }
    // Plain owners keep their readable segment; any two distinct owners differ.
    expect(await ownerSegment('alice')).toBe('alice');
    const owners = ['alice', 'h-', 'h-x', 'H-abc', 'h-' + '0'.repeat(32), '0'.repeat(32), 'anonymous'];
    const segments = await Promise.all(owners.map(ownerSegment));
    expect(new Set(segments).size).toBe(owners.length);
  });

  it("deleting the look-alike owner's copy of the same image keeps the other owner's derivatives", async () => {
    const victim = `victim-${crypto.randomUUID()}@example.com`;
    const lookalike = await ownerSegment(victim);
    const png = await gradientPng(233, 97);
    const victims = await uploadNative(png, 'image/png', 'v.png', {}, await jwtFor(victim));
    const theirs = await uploadNative(png, 'image/png', 'a.png', {}, await jwtFor(lookalike));
    const thumb = (await getManifest(victims)).result!.derivatives!.find((d) => d.variant === 'thumb')!;
    expect((await getManifest(theirs)).state).toBe('ready');
    expect((await api(`/api/uploads/${theirs.id}`, { method: 'DELETE', headers: bearer(theirs.uploadToken) })).status).toBe(200);
    const res = await api(`/media/${victims.id}/thumb`, { headers: { 'cache-control': 'no-cache', range: 'bytes=0-' } });
    expect(res.status, await res.clone().text()).toBe(206);
    expect(Number(res.headers.get('content-length'))).toBe(thumb.bytes);
  });
});

// ---- issue 11 item 7: conditional requests ----------------------------------------------------

describe('conditional requests on every serving path', () => {
  let ready: CreatedUpload;
  let file: Uint8Array;
  const servers: Record<string, (headers: Record<string, string>) => Promise<Response>> = {
    '/media/:id': (h) => api(`/media/${ready.id}`, { headers: h }),
    'tus GET /files/:id': (h) => api(`/files/${ready.id}?token=${ready.uploadToken}`, { headers: { ...TUS, ...h } }),
  };

  it('If-None-Match garbage is no match (200, never 500); a weak or listed match is 304', async () => {
    file = pdfBytes(3000, 1101);
    ready = await uploadNative(file, 'application/pdf', 'cond.pdf');
    for (const [path, get] of Object.entries(servers)) {
      const plain = await get({});
      expect(plain.status, path).toBe(200);
      const etag = plain.headers.get('etag')!;
      for (const garbage of ['garbage', '"unterminated', 'W/', ',,,', '"a" junk', 'W/"x"y']) {
        const res = await get({ 'if-none-match': garbage });
        expect(res.status, `${path} If-None-Match: ${garbage}`).toBe(200);
        expect(await sha256Hex(await res.arrayBuffer())).toBe(await sha256Hex(file));
      }
      expect((await get({ 'if-none-match': `W/${etag}` })).status, `${path} weak`).toBe(304);
      expect((await get({ 'if-none-match': `"nope", ${etag}` })).status, `${path} list`).toBe(304);
      expect((await get({ 'if-none-match': '*' })).status, `${path} *`).toBe(304);
      expect((await get({ 'if-match': 'garbage' })).status, `${path} If-Match garbage`).toBe(412);
      expect((await get({ 'if-match': etag })).status, `${path} If-Match`).toBe(200);
    }
  });

  it('If-Range: a mismatching validator gives 200 with the whole body, a matching one 206', async () => {
    for (const [path, get] of Object.entries(servers)) {
      const plain = await get({});
      const etag = plain.headers.get('etag')!;
      const lastModified = plain.headers.get('last-modified')!;
      await plain.arrayBuffer();
      const range = { range: 'bytes=10-19' };
      for (const stale of ['"stale"', `W/${etag}`, 'Mon, 01 Jan 2001 00:00:00 GMT', 'garbage']) {
        const res = await get({ ...range, 'if-range': stale });
        expect(res.status, `${path} If-Range: ${stale}`).toBe(200);
        expect(res.headers.get('content-range')).toBeNull();
        expect(await sha256Hex(await res.arrayBuffer())).toBe(await sha256Hex(file));
      }
      for (const fresh of [etag, lastModified]) {
        const res = await get({ ...range, 'if-range': fresh });
        expect(res.status, `${path} If-Range: ${fresh}`).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes 10-19/${file.length}`);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.subarray(10, 20));
      }
    }
  });

  it('the same holds for a derivative served through the Cache API', async () => {
    const upload = await uploadNative(await gradientPng(150, 111), 'image/png', 'c.png');
    const thumb = (await getManifest(upload)).result!.derivatives!.find((d) => d.variant === 'thumb')!;
    const plain = await api(thumb.url);
    const etag = plain.headers.get('etag')!;
    expect((await api(thumb.url, { headers: { 'if-none-match': 'garbage' } })).status).toBe(200);
    expect((await api(thumb.url, { headers: { 'if-none-match': `W/${etag}` } })).status).toBe(304);
    expect((await api(thumb.url, { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } })).status).toBe(200);
    expect((await api(thumb.url, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status).toBe(206);
  });
});

// ---- issue 11 item 8: public media responses reveal nothing beyond the state ------------------

describe('public media responses do not say why an upload failed', () => {
  it('a checksum mismatch: /media says not ready; only the owner sees the real SHA-256', async () => {
    const file = pdfBytes(2500, 1201);
    const real = await sha256Hex(file);
    const upload = await uploadNative(file, 'application/pdf', 'sum.pdf', { sha256: 'a'.repeat(64) });
    const manifest = await getManifest(upload);
    expect(['rejected', 'failed']).toContain(manifest.state);
    expect(manifest.reason).toContain(real);
    for (const path of [`/media/${upload.id}`, `/media/${upload.id}/thumb`]) {
      const res = await api(path);
      const text = await res.text();
      expect(res.status, path).toBe(409);
      expect(JSON.parse(text).error.code).toBe('ERR_NOT_READY');
      expect(text, path).not.toContain(real);
      expect(text, path).not.toMatch(/checksum|sha-?256|declared/i);
      expect(JSON.parse(text).error.details ?? {}).toEqual({ state: manifest.state });
    }
  });

  it('a type mismatch sent through tus: /media says not ready, no reason', async () => {
    const upload = await uploadTus(pdfBytes(2000, 1202), 'image/png', 'fake.png');
    const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toMatch(/declared/);
    const res = await api(`/media/${upload.id}`);
    const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
    expect(res.status).toBe(409);
    expect(JSON.stringify(body)).not.toMatch(/declared|pdf|ERR_TYPE_MISMATCH/i);
  });
});

// ---- issue 11 item 9: the JSON limit holds while reading --------------------------------------

describe('JSON bodies are limited while they are read', () => {
  /** A chunked JSON body of `total` bytes, made on demand, counting what the server pulled. */
  function endless(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    const filler = new TextEncoder().encode('a'.repeat(64 * 1024));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === 0) {
          controller.enqueue(new TextEncoder().encode('{"name":"'));
        } else if (pulled >= total) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        controller.enqueue(filler);
        pulled += filler.length;
      },
    }, { highWaterMark: 0 });
    return { body, pulled: () => pulled };
  }

  const handle = async () => {
    const upload = await createUpload({ name: 'j.pdf', size: 100, type: 'application/pdf' });
    return { upload, handle: encodeURIComponent(`${upload.id}~${upload.uploadToken}`) };
  };
  const routes: Record<string, () => Promise<{ path: string; method: string; headers?: Record<string, string> }>> = {
    'POST /api/uploads': async () => ({ path: '/api/uploads', method: 'POST' }),
    'PUT /api/uploads/:id/parts/:n/etag': async () => {
      const { upload } = await handle();
      return { path: `/api/uploads/${upload.id}/parts/1/etag`, method: 'PUT', headers: bearer(upload.uploadToken) };
    },
    'POST /s3/multipart': async () => ({ path: '/s3/multipart', method: 'POST' }),
    'POST /s3/multipart/:uploadId/complete': async () => {
      const { upload, handle: h } = await handle();
      return { path: `/s3/multipart/${h}/complete?key=${upload.id}`, method: 'POST' };
    },
  };
  for (const [name, route] of Object.entries(routes)) {
    it(`${name}: a 90 MB chunked body is refused with 413 long before its end`, async () => {
      const { path, method, headers } = await route();
      const { body, pulled } = endless(90 * MiB);
      const res = await api(path, { method, headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);
      await expectError(res, 413, 'ERR_PAYLOAD_TOO_LARGE');
      expect(pulled(), 'bytes read before the 413').toBeLessThan(4 * MiB);
    });
  }
});

// ---- issue 11 item 13: creator JWTs ------------------------------------------------------------

describe('creator JWTs', () => {
  const creates: Record<string, (jwt: string) => Promise<Response>> = {
    native: (jwt) => api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(jwt) }, body: JSON.stringify({ name: 'a.pdf', size: 10, type: 'application/pdf' }) }),
    tus: (jwt) => api('/files/', { method: 'POST', headers: { ...TUS, ...bearer(jwt), 'Upload-Length': '10', 'Upload-Metadata': `filename ${b64('a.pdf')},filetype ${b64('application/pdf')}` } }),
    's3 multipart': (jwt) => api('/s3/multipart', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(jwt) }, body: JSON.stringify({ filename: 'a.pdf', type: 'application/pdf' }) }),
    's3 multipart, JWT in the path': (jwt) => api(`/jwt/${jwt}/s3/multipart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'a.pdf', type: 'application/pdf' }) }),
    's3 params (form POST)': (jwt) => api('/s3/params?filename=a.pdf&type=application%2Fpdf', { headers: bearer(jwt) }),
  };

  it('a JWT without "exp" is refused on every create path', async () => {
    const forever = await jwtFor('eternal', {});
    for (const [protocol, create] of Object.entries(creates)) {
      await expectError(await create(forever), 401, 'ERR_TOKEN_NO_EXPIRY').catch((error: Error) => {
        throw new Error(`${protocol}: ${error.message}`);
      });
    }
    // With an expiry the same principal is welcome.
    expect((await creates.native!(await jwtFor('eternal'))).status).toBe(201);
  });

  it('a JWT principal named "anonymous" is not the development principal: its creates are limited', async () => {
    const jwt = await jwtFor('anonymous');
    let limited: Response | undefined;
    const keys: string[] = [];
    // The limiter counts in fixed 60 s windows: 125 creates put more than 60 into one of the (at
    // most two) windows they span. Each is deleted at once, so the active-upload quota stays clear.
    for (let i = 0; i < 125 && !limited; i++) {
      const res = await creates.native!(jwt);
      if (res.status === 429) {
        limited = res;
        break;
      }
      expect(res.status).toBe(201);
      const created = (await res.json()) as { id: string; key: string; uploadToken: string };
      keys.push(created.key);
      await api(`/api/uploads/${created.id}`, { method: 'DELETE', headers: bearer(created.uploadToken) });
    }
    expect(limited, 'the per-owner create limit applies').toBeDefined();
    await expectError(limited!, 429, 'ERR_RATE_LIMITED');
    expect(keys.some((k) => k.startsWith('originals/anonymous/'))).toBe(false);
    // The limit is the principal's, whatever protocol it creates through.
    for (const [protocol, create] of Object.entries(creates)) {
      expect((await create(jwt)).status, protocol).toBe(429);
    }
    // Development-mode anonymous uploads are untouched by it.
    expect((await api('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a.pdf', size: 10, type: 'application/pdf' }) })).status).toBe(201);
  });
});

// ---- issue 11 item 14: defence in depth on /media ---------------------------------------------

describe('media responses defend themselves', () => {
  const strictCsp = (res: Response) => {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('sandbox');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  };

  it('a strict CSP and nosniff on every /media answer; PDFs are attachments, images inline', async () => {
    const pdf = await uploadNative(pdfBytes(1500, 1301), 'application/pdf', 'doc.pdf');
    const png = await uploadNative(await gradientPng(131, 77), 'image/png', 'pic.png');
    const pdfRes = await api(`/media/${pdf.id}`);
    expect(pdfRes.status).toBe(200);
    strictCsp(pdfRes);
    expect(pdfRes.headers.get('content-disposition')).toMatch(/^attachment;/);
    const tusPdf = await api(`/files/${pdf.id}?token=${pdf.uploadToken}`, { headers: TUS });
    expect(tusPdf.status).toBe(200);
    strictCsp(tusPdf);
    expect(tusPdf.headers.get('content-disposition')).toMatch(/^attachment;/);
    const pngRes = await api(`/media/${png.id}`);
    strictCsp(pngRes);
    expect(pngRes.headers.get('content-disposition')).toMatch(/^inline;/);
    const thumb = await api(`/media/${png.id}/thumb`);
    expect(thumb.status).toBe(200);
    strictCsp(thumb);
    // Errors too (they share the page's origin).
    for (const path of [`/media/${'d'.repeat(32)}`, '/media/nope', `/media/${png.id}/nope`]) {
      const res = await api(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      strictCsp(res);
    }
  });

  it('markup past the first KiB (but within the first 64 KiB) is found', async () => {
    for (const offset of [1500, 40_000]) {
      const file = pdfBytes(70_000, 1302 + offset);
      file.set(new TextEncoder().encode('<html><body><script>alert(1)</script>'), offset);
      const upload = await uploadNative(file, 'application/pdf', 'x.pdf');
      const manifest = await getManifest(upload);
      expect(manifest.state, `markup at ${offset}`).toBe('rejected');
      expect(manifest.reason).toMatch(/Structure\.Script\.HTML/);
    }
  });

  it('bidi overrides and zero-width characters leave every name, on every path', async () => {
    const hostile = 'inv\u202Eoice\u200B\u2066 fdp.\u2069\uFEFFx\u200F.pdf';
    const clean = 'invoice fdp.x.pdf';
    const names: Record<string, () => Promise<{ id: string; token: string }>> = {
      native: async () => {
        const u = await createUpload({ name: hostile, size: 100, type: 'application/pdf' });
        return { id: u.id, token: u.uploadToken };
      },
      'tus metadata': async () => {
        const res = await api('/files/', { method: 'POST', headers: { ...TUS, 'Upload-Length': '100', 'Upload-Metadata': `filename ${b64(hostile)},filetype ${b64('application/pdf')}` } });
        const url = new URL(res.headers.get('location')!);
        return { id: url.pathname.split('/').pop()!, token: url.searchParams.get('token')! };
      },
      's3 multipart': async () => {
        const res = await api('/s3/multipart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: hostile, type: 'application/pdf' }) });
        const { uploadId } = (await res.json()) as { uploadId: string };
        const [id, token] = uploadId.split('~') as [string, string];
        return { id, token };
      },
      's3 params (form POST)': async () => {
        const res = await api(`/s3/params?filename=${encodeURIComponent(hostile)}&type=application%2Fpdf`);
        const { fields } = (await res.json()) as { fields: { key: string; token: string } };
        return { id: fields.key, token: fields.token };
      },
    };
    for (const [protocol, open] of Object.entries(names)) {
      const { id, token } = await open();
      const manifest = await getManifest({ id, uploadToken: token } as CreatedUpload);
      expect(manifest.name, protocol).toBe(clean);
    }
  });
});

// ---- issue 18 item 1: Vary: Origin wherever CORS headers depend on Origin ----------------------

describe('Vary: Origin', () => {
  const site = deployment({ CORS_ORIGINS: 'https://app.example.com' });
  const varies = (res: Response) => (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase()).includes('origin');

  it('every cacheable route and every error says Vary: Origin, with or without an Origin', async () => {
    const pdf = await uploadNative(pdfBytes(1200, 1401), 'application/pdf', 'v.pdf');
    const png = await uploadNative(await gradientPng(121, 88), 'image/png', 'v.png');
    const handle = encodeURIComponent(`${pdf.id}~${pdf.uploadToken}`);
    const requests: [string, RequestInit?][] = [
      ['/api/config'],
      ['/api/health'],
      [`/media/${pdf.id}`],
      [`/media/${png.id}/thumb`],
      [`/media/${'d'.repeat(32)}`],
      [`/api/uploads/${pdf.id}`, { headers: bearer(pdf.uploadToken) }],
      ['/api/nope'],
      ['/files/', { method: 'OPTIONS', headers: TUS }],
      [`/files/${pdf.id}?token=${pdf.uploadToken}`, { headers: TUS }],
      [`/files/${pdf.id}?token=${pdf.uploadToken}`, { method: 'HEAD', headers: TUS }],
      [`/s3/multipart/${handle}?key=${pdf.id}`],
      ['/s3/params?filename=a.pdf&type=application%2Fpdf'],
    ];
    for (const [path, init] of requests) {
      for (const origin of [undefined, 'https://app.example.com', 'http://uploads.test']) {
        const headers = new Headers(init?.headers);
        if (origin) headers.set('origin', origin);
        const res = await site(path, { ...init, headers });
        expect(varies(res), `${init?.method ?? 'GET'} ${path} from ${origin ?? '(no Origin)'} → ${res.status}, Vary: ${res.headers.get('vary')}`).toBe(true);
        if (origin === 'https://app.example.com') expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      }
    }
    // The events stream (a Durable Object's own response) gets them too, from the same origin or another.
    for (const origin of [undefined, 'https://app.example.com']) {
      const res = await site(`/api/uploads/${pdf.id}/events?token=${pdf.uploadToken}`, { headers: { accept: 'text/event-stream', ...(origin ? { origin } : {}) } });
      expect(res.status, `events from ${origin ?? '(no Origin)'}: ${res.status}`).toBe(200);
      expect(varies(res)).toBe(true);
      if (origin) expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      await res.body?.cancel();
    }
    // Preflights and refusals too.
    const preflight = await site('/api/config', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(varies(preflight)).toBe(true);
    const refused = await site('/api/config', { headers: { origin: 'https://evil.example' } });
    expect(refused.status).toBe(403);
    expect(varies(refused)).toBe(true);
  });
});
