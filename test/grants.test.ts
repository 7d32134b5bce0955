import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../src/files/file-entry';
import { api, expectError } from './helpers';

const secret = new TextEncoder().encode(env.AUTH_JWT_SECRET!);
const owner = `grantee-${crypto.randomUUID().slice(0, 8)}`;

/** A creator JWT for `owner` carrying `claims` (the upload grant), minted as an app's backend would. */
function grantToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(owner).setExpirationTime('10m').sign(secret);
}

const native = (token: string, body: Record<string, unknown>) =>
  api('/api/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'a.pdf', size: 2000, type: 'application/pdf', ...body }),
  });

const tus = (token: string, headers: Record<string, string>) =>
  api('/files/', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${token}`, 'Upload-Metadata': `filetype ${btoa('application/pdf')},filename ${btoa('a.pdf')}`, ...headers } });

const s3Multipart = (token: string) =>
  api(`/jwt/${token}/s3/multipart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'a.pdf', type: 'application/pdf', metadata: {} }) });

const s3Params = (token: string) => api(`/jwt/${token}/s3/params?filename=a.pdf&type=application%2Fpdf`);

describe('scoped upload grants', () => {
  it('allowedTypes is enforced on every protocol path', async () => {
    const token = await grantToken({ allowedTypes: ['image/*'] });
    await expectError(await native(token, {}), 403, 'ERR_GRANT_TYPE');
    await expectError(await tus(token, { 'Upload-Length': '2000' }), 403, 'ERR_GRANT_TYPE');
    await expectError(await s3Multipart(token), 403, 'ERR_GRANT_TYPE');
    await expectError(await s3Params(token), 403, 'ERR_GRANT_TYPE');
    // What the server refuses anyway keeps its own answer.
    await expectError(await native(token, { type: 'application/x-msdownload' }), 415, 'ERR_TYPE_NOT_ALLOWED');
    expect((await native(token, { name: 'a.png', type: 'image/png' })).status).toBe(201);
  });

  it('maxFileSize holds at creation, and for sizes declared later', async () => {
    const token = await grantToken({ maxFileSize: 1000 });
    await expectError(await native(token, { size: 1001 }), 403, 'ERR_GRANT_SIZE');
    await expectError(await tus(token, { 'Upload-Length': '1001' }), 403, 'ERR_GRANT_SIZE');
    expect((await native(token, { size: 1000 })).status).toBe(201);
    // tus Upload-Defer-Length: the size comes with a PATCH and is held to the grant then.
    const deferred = await tus(token, { 'Upload-Defer-Length': '1' });
    expect(deferred.status).toBe(201);
    const location = new URL(deferred.headers.get('location')!);
    const patch = await api(location.pathname + location.search, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Upload-Length': '5000', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '10' },
      body: new Uint8Array(10),
    });
    expect(patch.status).toBe(413);
  });

  it('maxFiles counts the uploads one token (jti) creates', async () => {
    const token = await grantToken({ maxFiles: 2, jti: crypto.randomUUID() });
    expect((await native(token, {})).status).toBe(201);
    expect((await tus(token, { 'Upload-Length': '2000' })).status).toBe(201);
    await expectError(await native(token, {}), 403, 'ERR_GRANT_FILES');
    await expectError(await s3Multipart(token), 403, 'ERR_GRANT_FILES');
    // Another token is counted on its own.
    expect((await native(await grantToken({ maxFiles: 1, jti: crypto.randomUUID() }), {})).status).toBe(201);
  });

  it('metadata and visibility are imposed by the grant', async () => {
    const token = await grantToken({ metadata: { tenant: 'acme' }, visibility: 'private' });
    const res = await native(token, { metadata: { album: 'trip', tenant: 'evil' }, visibility: 'public' });
    expect(res.status).toBe(201);
    const { id } = await res.json<{ id: string }>();
    const file = await (await api(`/api/files/${id}`, { headers: { authorization: `Bearer ${token}` } })).json<FileEntry>();
    expect(file).toMatchObject({ metadata: { album: 'trip', tenant: 'acme' }, visibility: 'private' });
  });

  it.each([
    ['maxFiles without a jti', { maxFiles: 3 }],
    ['allowedTypes outside the server allowlist', { allowedTypes: ['text/plain'] }],
    ['an unknown visibility', { visibility: 'secret' }],
    ['a negative size', { maxFileSize: -1 }],
    ['metadata that is not text', { metadata: { a: 1 } }],
  ])('refuses a grant with %s', async (_name, claims) => {
    await expectError(await native(await grantToken(claims), {}), 403, 'ERR_GRANT_INVALID');
  });

  it('/api/config answers the grant\'s narrower limits, privately', async () => {
    const token = await grantToken({ allowedTypes: ['image/png', 'image/jpeg'], maxFileSize: 1234, maxFiles: 3, jti: 'j1' });
    const res = await api('/api/config', { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(await res.json()).toMatchObject({ allowedTypes: ['image/jpeg', 'image/png'], maxFileSize: 1234, grant: { maxFiles: 3 } });
    const open = await (await api('/api/config')).json<{ allowedTypes: string[] }>();
    expect(open.allowedTypes).toContain('application/pdf');
  });
});
