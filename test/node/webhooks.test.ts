/**
 * Webhooks end to end under `wrangler dev`: an upload's events reach real local endpoints signed per
 * Standard Webhooks; failing, gone, hanging and redirecting endpoints are retried or stopped and
 * recorded, without redelivering to the endpoints that answered; a dead delivery is redelivered.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryView } from '../../src/webhooks/delivery-view';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf } from '../e2e/fixtures';
import { until } from '../poll';
import { startWebhookReceiver } from './webhook-receiver';

const SECRET = `whsec_${cryptoRandomBytes(32).toString('base64')}`;
const API_KEY = `test-api-key-${cryptoRandomBytes(16).toString('hex')}`;
const receiver = await startWebhookReceiver({ '/ok': 'ok', '/flaky': { failFirst: 2 }, '/fail': 'fail', '/gone': 'gone', '/hang': 'hang', '/redirect': 'redirect' });
afterAll(() => receiver.close());
const PATHS = ['/ok', '/flaky', '/fail', '/gone', '/hang', '/redirect'];

const server = useDevServer({
  vars: {
    WEBHOOK_URLS: PATHS.map((p) => receiver.url + p).join(','),
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_MAX_ATTEMPTS: '3',
    WEBHOOK_RETRY_BASE_SECONDS: '1',
    WEBHOOK_TIMEOUT_SECONDS: '2',
    API_KEYS: API_KEY,
  },
});

const auth = { authorization: `Bearer ${API_KEY}` };

async function deliveries(uploadId: string): Promise<DeliveryView[]> {
  const res = await fetch(`${server().url}/api/webhooks/deliveries?uploadId=${uploadId}`, { headers: auth });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { deliveries: DeliveryView[] }).deliveries;
}

/** Uploads a small PDF through the native API and waits until it is ready. */
async function uploadReady(): Promise<{ id: string; uploadToken: string }> {
  const bytes = pdf(3000, 77);
  const created = await fetch(`${server().url}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'hook.pdf', size: bytes.length, type: 'application/pdf', metadata: { album: 'x' } }),
  });
  expect(created.status).toBe(201);
  const { id, uploadToken } = (await created.json()) as { id: string; uploadToken: string };
  const put = await fetch(`${server().url}/api/uploads/${id}/parts/1`, { method: 'PUT', headers: { authorization: `Bearer ${uploadToken}` }, body: new Uint8Array(bytes) });
  expect(put.status).toBe(200);
  await until('ready', async () => {
    const res = await fetch(`${server().url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${uploadToken}` } });
    return ((await res.json()) as { state: string }).state === 'ready' ? true : undefined;
  });
  return { id, uploadToken };
}

describe('webhooks', () => {
  it('delivers every event signed, retries and records failures per endpoint, and redelivers', async () => {
    const { id } = await uploadReady();
    const verifier = new Webhook(SECRET);

    // Every delivery settles: 6 endpoints × 2 events (created, ready).
    const settled = await until('every delivery settled', async () => {
      const all = await deliveries(id);
      return all.length === 12 && all.every((d) => d.status !== 'pending') ? all : undefined;
    }, 90_000);
    const of = (path: string, event: string) => settled.find((d) => d.endpoint === receiver.url + path && d.event === event)!;

    // The healthy endpoint: each event once, signed, with the upload as the API shows it.
    for (const event of ['upload.created', 'upload.ready']) {
      const got = receiver.at('/ok', event);
      expect(got).toHaveLength(1);
      const payload = verifier.verify(got[0]!.body, got[0]!.headers) as { type: string; timestamp: string; data: { upload: Record<string, unknown> } };
      expect(payload.type).toBe(event);
      expect(payload.data.upload).toMatchObject({ id, owner: 'anonymous', visibility: 'public', metadata: { album: 'x' }, name: 'hook.pdf' });
      expect(got[0]!.headers['webhook-id']).toBe(of('/ok', event).webhookId);
      expect(of('/ok', event)).toMatchObject({ status: 'delivered', attempts: 1 });
    }
    const ready = JSON.parse(receiver.at('/ok', 'upload.ready')[0]!.body) as { data: { upload: { state: string; urls: { original: string } } } };
    expect(ready.data.upload).toMatchObject({ state: 'ready', urls: { original: `/media/${id}` } });

    // Flaky: 500, 500, then 200 — the same webhook-id every time, each attempt freshly signed.
    const flaky = receiver.at('/flaky', 'upload.ready');
    expect(flaky).toHaveLength(3);
    expect(new Set(flaky.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of flaky) expect(() => verifier.verify(r.body, r.headers)).not.toThrow();
    expect(of('/flaky', 'upload.ready')).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(of('/flaky', 'upload.ready').log.map((a) => a.status)).toEqual([500, 500, 200]);

    // Always 500: every attempt, then dead-lettered and recorded.
    expect(receiver.at('/fail', 'upload.ready')).toHaveLength(3);
    expect(of('/fail', 'upload.ready')).toMatchObject({ status: 'failed', attempts: 3, lastStatus: 500 });
    expect(of('/fail', 'upload.ready').log.map((a) => a.outcome)).toEqual(['retry', 'retry', 'failed']);

    // 410 Gone: one attempt, never again.
    expect(receiver.at('/gone', 'upload.ready')).toHaveLength(1);
    expect(of('/gone', 'upload.ready')).toMatchObject({ status: 'gone', attempts: 1, lastStatus: 410 });

    // Hanging: each attempt times out.
    expect(of('/hang', 'upload.ready')).toMatchObject({ status: 'failed', attempts: 3, lastStatus: null });
    expect(of('/hang', 'upload.ready').lastError).toMatch(/no answer within 2 s/);

    // A redirect is not followed: a failure, and the target never hears of it.
    expect(of('/redirect', 'upload.ready')).toMatchObject({ status: 'failed', lastStatus: 302 });
    expect(of('/redirect', 'upload.ready').lastError).toMatch(/redirect to \/redirected not followed/);
    expect(receiver.at('/redirected')).toHaveLength(0);

    // The others' retries redelivered nothing to the healthy endpoint.
    expect(receiver.at('/ok')).toHaveLength(2);

    // The receiver is fixed: a redelivery sends the same message (same webhook-id) once more.
    receiver.answer('/fail', 'ok');
    const dead = of('/fail', 'upload.ready');
    const redeliver = await fetch(`${server().url}/api/webhooks/deliveries/${dead.id}/redeliver`, { method: 'POST', headers: auth });
    expect(redeliver.status, await redeliver.clone().text()).toBe(202);
    const again = await until('redelivered', async () => {
      const d = (await deliveries(id)).find((x) => x.id === dead.id)!;
      return d.status === 'delivered' ? d : undefined;
    });
    expect(again.log.map((a) => a.outcome)).toEqual(['retry', 'retry', 'failed', 'delivered']);
    const last = receiver.at('/fail', 'upload.ready').at(-1)!;
    expect(last.headers['webhook-id']).toBe(dead.webhookId);
    expect(() => verifier.verify(last.body, last.headers)).not.toThrow();
    // Nothing else moved.
    expect(receiver.at('/ok')).toHaveLength(2);
  });

  it('deleting a file is an event too', async () => {
    const { id, uploadToken } = await uploadReady();
    const res = await fetch(`${server().url}/api/uploads/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${uploadToken}` } });
    expect(res.status).toBe(200);
    const deleted = await until('upload.deleted', () => receiver.at('/ok', 'upload.deleted').find((r) => r.body.includes(id)));
    const payload = new Webhook(SECRET).verify(deleted.body, deleted.headers) as { data: { upload: { id: string; state: string } } };
    expect(payload.data.upload).toMatchObject({ id, state: 'aborted' });
  });

  it('refuses API keys that are wrong or sent by a browser', async () => {
    const url = `${server().url}/api/webhooks/deliveries?uploadId=${'0'.repeat(32)}`;
    const wrong = await fetch(url, { headers: { authorization: 'Bearer not-a-key-but-long-enough-to-look-like-one' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('ERR_API_KEY_INVALID');
    const browser = await fetch(url, { headers: { ...auth, 'sec-fetch-site': 'same-origin' } });
    expect(browser.status).toBe(403);
    expect(((await browser.json()) as { error: { code: string } }).error.code).toBe('ERR_API_KEY_FROM_BROWSER');
    const none = await fetch(url);
    expect(none.status).toBe(401);
  });
});
