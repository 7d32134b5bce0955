import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../src/webhooks/attempt';
import { MAX_QUEUE_DELAY_SECONDS, webhookRetryDelay } from '../../src/webhooks/backoff';
import { signWebhook } from '../../src/webhooks/signature';

const SECRET_A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const now = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signatures', () => {
  it('verify with the reference verifier under every configured secret (rotation)', () => {
    const body = JSON.stringify({ type: 'upload.ready', data: { upload: { id: 'x' } } });
    const headers = signWebhook([SECRET_A, SECRET_B], 'msg_1', now(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(SECRET_A).verify(body, { ...headers })).toMatchObject({ type: 'upload.ready' });
    expect(new Webhook(SECRET_B).verify(body, { ...headers })).toMatchObject({ type: 'upload.ready' });
  });

  it('a changed body, id or secret, or a stale timestamp, is refused', () => {
    const body = '{"a":1}';
    const headers = { ...signWebhook([SECRET_A], 'msg_1', now(), body) };
    expect(() => new Webhook(SECRET_A).verify('{"a":2}', headers)).toThrow(/signature/);
    expect(() => new Webhook(SECRET_A).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(/signature/);
    expect(() => new Webhook(SECRET_B).verify(body, headers)).toThrow(/signature/);
    const stale = { ...signWebhook([SECRET_A], 'msg_1', now() - 301, body) };
    expect(() => new Webhook(SECRET_A).verify(body, stale)).toThrow(/too old/);
  });
});

describe('retry schedule', () => {
  it('grows ×3 per attempt within ±20 % jitter, and never past what a queue can delay', () => {
    expect(webhookRetryDelay(1, 60, 0)).toBe(48);
    expect(webhookRetryDelay(1, 60, 0.999)).toBe(72);
    expect(webhookRetryDelay(2, 60, 0.5)).toBe(180);
    expect(webhookRetryDelay(3, 60, 0.5)).toBe(540);
    expect(webhookRetryDelay(12, 60, 0.5)).toBe(MAX_QUEUE_DELAY_SECONDS);
    // The default 8 attempts span most of a day.
    const total = [1, 2, 3, 4, 5, 6, 7].reduce((sum, n) => sum + webhookRetryDelay(n, 60, 0.5), 0);
    expect(total / 3600).toBeGreaterThan(12);
    expect(total / 3600).toBeLessThan(24);
  });

  it('2xx is delivered, 410 stops, everything else retries', () => {
    expect([200, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(classifyStatus(410)).toBe('gone');
    expect([301, 302, 400, 404, 429, 500, 503].map(classifyStatus).every((o) => o === 'retry')).toBe(true);
  });
});
