/** The server SDK inside workerd (as a Worker would run it), against this Worker: grants, files, signed URLs, deliveries. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createServerClient, createUploadGrant, signedMediaUrl, UploadsApiError } from '../src/sdk/server';
import { deployment, pdfBytes, readyPdf, sha256Hex } from './helpers';
import { until } from './poll';

const API_KEY = 'sdk-test-api-key-0123456789abcdef0123456';
const app = deployment({ API_KEYS: API_KEY });
const sdk = createServerClient({ baseUrl: 'http://uploads.test', apiKey: API_KEY, fetch: async (url, init) => app(new URL(url).pathname + new URL(url).search, init) });
const user = `sdk-user-${crypto.randomUUID().slice(0, 8)}`;

const upload = async (grant: string, bytes: Uint8Array, name: string) => (await readyPdf(app, bytes, { headers: { authorization: `Bearer ${grant}` }, body: { name } })).id;

describe('server SDK in Workers', () => {
  it('mints a grant, then lists, reads, changes and deletes the files, and opens a private one by signed URL', async () => {
    const grant = await createUploadGrant({ secret: env.AUTH_JWT_SECRET!, subject: user, visibility: 'private', maxFiles: 2, metadata: { plan: 'free' } });
    const bytes = pdfBytes(2500, 91);
    const first = await upload(grant, bytes, 'one.pdf');
    const second = await upload(grant, pdfBytes(2600, 92), 'two.pdf');
    await expect(upload(grant, bytes, 'three.pdf')).rejects.toThrow();

    const files = await until('both files listed', async () => {
      const page = await sdk.files.list({ owner: user, state: 'ready' });
      return page.files.length === 2 ? page.files : undefined;
    });
    expect(files.map((f) => f.id)).toEqual([second, first]);
    const seen: string[] = [];
    for await (const file of sdk.files.all({ owner: user, limit: 1 })) seen.push(file.id);
    expect(seen).toEqual([second, first]);

    expect(await sdk.files.get(first)).toMatchObject({ owner: user, visibility: 'private', metadata: { plan: 'free' } });
    expect(await sdk.files.update(first, { name: 'renamed.pdf' })).toMatchObject({ name: 'renamed.pdf' });

    // A private file opens through a URL from the service, and through one minted offline alike.
    expect((await app(`/media/${first}`)).status).toBe(403);
    for (const { url } of [await sdk.files.signedUrl(first), await signedMediaUrl({ baseUrl: 'http://uploads.test', keys: env.MEDIA_URL_KEYS!, id: first, expiresIn: 120 })]) {
      const res = await app(new URL(url).pathname + new URL(url).search);
      expect(res.status).toBe(200);
      expect(await sha256Hex(await res.arrayBuffer())).toBe(await sha256Hex(bytes));
    }

    expect(await sdk.files.delete(second)).toEqual({ id: second, state: 'aborted' });
    const missing = await sdk.files.get('0'.repeat(32)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UploadsApiError);
    expect((missing as UploadsApiError).code).toBe('ERR_UPLOAD_NOT_FOUND');
    expect(await sdk.webhooks.deliveries(first)).toEqual({ deliveries: [] });
  });
});
