/**
 * The server SDK in Node, imported by the package's name through its `exports` map as an app would:
 * a grant it mints is a valid HS256 JWT with the grant claims; its webhook verifier accepts what the
 * service signs and refuses forged, altered and stale deliveries; its offline signed URLs match the
 * service's format.
 */
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createUploadGrant, signedMediaUrl, verifyWebhook, WebhookVerificationError } from 'edge-upload-pipeline/server';
import { signWebhook } from '../../src/webhooks/signature';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ROTATED = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: 'upload.ready', timestamp: new Date().toISOString(), data: { upload: { id: 'abc', state: 'ready' } } });

describe('server SDK in Node', () => {
  it('mints upload grants the service can verify', async () => {
    const jwt = await createUploadGrant({ secret: 'app-secret-app-secret-app-secret', subject: 'user-1', allowedTypes: ['image/*'], maxFiles: 3, visibility: 'private' });
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode('app-secret-app-secret-app-secret'), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'user-1', allowedTypes: ['image/*'], maxFiles: 3, visibility: 'private' });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp! - now()).toBeGreaterThan(500);
  });

  it('verifies webhooks; refuses forged, altered and stale ones', () => {
    const headers = signWebhook([SECRET], 'msg_abc_upload_ready', now(), body);
    expect(verifyWebhook(body, new Headers({ ...headers }), SECRET).data.upload.id).toBe('abc');
    // While rotating, either secret verifies.
    expect(verifyWebhook(body, { ...headers }, [ROTATED, SECRET]).type).toBe('upload.ready');
    expect(() => verifyWebhook(body.replace('abc', 'xyz'), { ...headers }, SECRET)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, { ...signWebhook([ROTATED], 'msg_1', now(), body) }, SECRET)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, { ...signWebhook([SECRET], 'msg_1', now() - 6 * 60, body) }, SECRET)).toThrow(/too old/);
    expect(() => verifyWebhook(body, {}, SECRET)).toThrow(WebhookVerificationError);
  });

  it('mints signed media URLs offline', async () => {
    const { url, expiresAt } = await signedMediaUrl({ baseUrl: 'https://uploads.example/', keys: 'k1:0123456789abcdef0123456789abcdef', id: 'f'.repeat(32), variant: 'thumb', expiresIn: 60 });
    expect(url).toMatch(new RegExp(`^https://uploads\\.example/media/${'f'.repeat(32)}/thumb\\?exp=\\d+&kid=k1&sig=[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
  });
});
