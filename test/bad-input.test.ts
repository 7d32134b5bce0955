import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { KeyRing, signCapability } from '../src/domain/capability';
import { api, createUpload, expectError, getManifest, MiB, partOf, pdfBytes, putPart, sha256Base64 } from './helpers';

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const devRing = () => KeyRing.parse(env.UPLOAD_TOKEN_KEYS!);

describe('creating an upload refuses bad input', () => {
  const cases: [string, RequestInit, number, string][] = [
    ['malformed JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' }, 400, 'ERR_INVALID_JSON'],
    ['missing fields', json({ name: 'a.pdf' }), 400, 'ERR_VALIDATION'],
    ['negative size', json({ name: 'a.pdf', size: -1, type: 'application/pdf' }), 400, 'ERR_VALIDATION'],
    ['fractional size', json({ name: 'a.pdf', size: 1.5, type: 'application/pdf' }), 400, 'ERR_VALIDATION'],
    ['string size', json({ name: 'a.pdf', size: '10', type: 'application/pdf' }), 400, 'ERR_VALIDATION'],
    ['empty file', json({ name: 'a.pdf', size: 0, type: 'application/pdf' }), 400, 'ERR_EMPTY_FILE'],
    ['disallowed type', json({ name: 'a.exe', size: 10, type: 'application/x-msdownload' }), 415, 'ERR_TYPE_NOT_ALLOWED'],
    ['oversize file', json({ name: 'a.pdf', size: 6 * 1024 ** 3, type: 'application/pdf' }), 413, 'ERR_FILE_TOO_LARGE'],
    ['part size below the minimum', json({ name: 'a.pdf', size: 10, type: 'application/pdf', partSize: 1024 }), 400, 'ERR_VALIDATION'],
    ['bad sha256', json({ name: 'a.pdf', size: 10, type: 'application/pdf', sha256: 'xyz' }), 400, 'ERR_VALIDATION'],
    ['form body', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name=a' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['oversize JSON', json({ name: 'a'.repeat(70_000), size: 10, type: 'application/pdf' }), 413, 'ERR_PAYLOAD_TOO_LARGE'],
    ['bad bearer JWT', { ...json({ name: 'a.pdf', size: 10, type: 'application/pdf' }), headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' } }, 401, 'ERR_UNAUTHORIZED'],
  ];
  it.each(cases)('%s', async (_name, init, status, code) => {
    await expectError(await api('/api/uploads', init), status, code);
  });

  it('keeps only a display name: no path, no control characters; the key never uses it', async () => {
    const upload = await createUpload({ name: '../../etc/\u0000passwd', size: 10, type: 'application/pdf' });
    expect(upload.key).toBe(`originals/anonymous/${upload.id}`);
    expect((await getManifest(upload)).name).toBe('passwd');
  });
});

describe('parts refuse bad input and record nothing', () => {
  it.each([
    ['wrong length', 1, (p: Uint8Array) => p.subarray(1), {}, 400, 'ERR_PART_SIZE'],
    ['part 0', 0, (p: Uint8Array) => p, {}, 400, 'ERR_PART_NUMBER'],
    ['part past the end', 4, (p: Uint8Array) => p, {}, 400, 'ERR_PART_NUMBER'],
    ['not a number', 'x', (p: Uint8Array) => p, {}, 400, 'ERR_PART_NUMBER'],
    ['digest mismatch', 1, (p: Uint8Array) => p, { 'content-digest': `sha-256=:${btoa('x'.repeat(32))}:` }, 400, 'ERR_DIGEST_MISMATCH'],
    ['malformed digest', 1, (p: Uint8Array) => p, { 'content-digest': 'sha-256=abc' }, 400, 'ERR_DIGEST_INVALID'],
  ] as const)('%s', async (_name, n, body, headers, status, code) => {
    const file = pdfBytes(10 * MiB + 10, 41);
    const upload = await createUpload({ name: 'b.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    const bytes = body(partOf(file, upload, 1));
    const res = await api(`/api/uploads/${upload.id}/parts/${n}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-length': String(bytes.length), ...headers },
      body: bytes,
    });
    await expectError(res, status, code);
    const manifest = await getManifest(upload);
    expect(manifest.confirmedParts).toBe(0);
    expect(manifest.confirmedBytes).toBe(0);
    // And the part can still be sent properly afterwards (no stale lease left behind).
    expect((await putPart(upload, 1, partOf(file, upload, 1))).status).toBe(200);
  });

  it('a matching Content-Digest is accepted and recorded', async () => {
    const file = pdfBytes(10 * MiB + 10, 42);
    const upload = await createUpload({ name: 'b.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    const part = partOf(file, upload, 1);
    const res = await putPart(upload, 1, part, { 'content-digest': `sha-256=:${await sha256Base64(part)}:` });
    expect(res.status).toBe(200);
  });

  it('a body without Content-Length gets 411', async () => {
    const upload = await createUpload({ name: 'b.pdf', size: 100, type: 'application/pdf' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(pdfBytes(100));
        controller.close();
      },
    });
    const res = await api(`/api/uploads/${upload.id}/parts/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.uploadToken}` },
      body: stream,
    });
    await expectError(res, 411, 'ERR_LENGTH_REQUIRED');
  });

  it.each([
    ['no token', async () => ({}), 401, 'ERR_UNAUTHORIZED'],
    ['garbage token', async () => ({ authorization: 'Bearer abc' }), 401, 'ERR_TOKEN_INVALID'],
    ['tampered token', async (t: string) => ({ authorization: `Bearer ${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}` }), 401, 'ERR_TOKEN_INVALID'],
    ['expired token', async (_t: string, id: string) => ({ authorization: `Bearer ${await signCapability(devRing(), { uid: id, sub: 'anonymous', exp: Math.floor(Date.now() / 1000) - 1 })}` }), 401, 'ERR_TOKEN_EXPIRED'],
    ['token of another upload', async () => ({ authorization: `Bearer ${(await createUpload({ name: 'o.pdf', size: 10, type: 'application/pdf' })).uploadToken}` }), 403, 'ERR_TOKEN_SCOPE'],
    ['token signed with an unknown key', async (_t: string, id: string) => ({ authorization: `Bearer ${await signCapability(new KeyRing([{ id: 'rogue', secret: 'x'.repeat(40) }]), { uid: id, sub: 'anonymous', exp: Math.floor(Date.now() / 1000) + 60 })}` }), 401, 'ERR_TOKEN_INVALID'],
  ] as const)('%s', async (_name, auth, status, code) => {
    const file = pdfBytes(100, 43);
    const upload = await createUpload({ name: 't.pdf', size: file.length, type: 'application/pdf' });
    const headers = await auth(upload.uploadToken, upload.id);
    const res = await api(`/api/uploads/${upload.id}/parts/1`, {
      method: 'PUT',
      headers: { ...headers, 'content-length': '100' },
      body: file,
    });
    await expectError(res, status, code);
    expect((await getManifest(upload)).confirmedParts).toBe(0);
  });

  it('unknown upload ids: malformed is 400, well-formed but unknown is 404', async () => {
    const upload = await createUpload({ name: 'u.pdf', size: 10, type: 'application/pdf' });
    await expectError(await api('/api/uploads/nope', { headers: { authorization: `Bearer ${upload.uploadToken}` } }), 400, 'ERR_VALIDATION');
    const unknown = '0'.repeat(32);
    const token = await signCapability(devRing(), { uid: unknown, sub: 'anonymous', exp: Math.floor(Date.now() / 1000) + 60 });
    await expectError(await api(`/api/uploads/${unknown}`, { headers: { authorization: `Bearer ${token}` } }), 404, 'ERR_UPLOAD_NOT_FOUND');
    await expectError(await api(`/media/${unknown}`), 404, 'ERR_UPLOAD_NOT_FOUND');
  });

  it('complete with parts missing is 409 and lists them', async () => {
    const file = pdfBytes(15 * MiB + 1, 44);
    const upload = await createUpload({ name: 'm.pdf', size: file.length, type: 'application/pdf', partSize: 5 * MiB });
    await putPart(upload, 2, partOf(file, upload, 2));
    const error = await expectError(
      await api(`/api/uploads/${upload.id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${upload.uploadToken}` } }),
      409,
      'ERR_PARTS_MISSING',
    );
    expect(error.details).toMatchObject({ missingParts: [1, 3, 4], missingCount: 3 });
    expect((await getManifest(upload)).state).toBe('uploading');
  });

  it('unknown routes answer a JSON 404', async () => {
    await expectError(await api('/api/nothing-here'), 404, 'ERR_NOT_FOUND');
  });
});
