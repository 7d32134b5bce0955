/**
 * @module Standard Webhooks signatures (standardwebhooks.com) through the reference `standardwebhooks`
 * package: `webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`. Every configured
 * secret signs (space-separated signatures), so a receiver can rotate its secret without a gap.
 * Pure JavaScript (no Node or runtime APIs), so the Worker and the server SDK share it.
 */
import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signWebhook(secrets: readonly string[], id: string, timestampSeconds: number, body: string): SignedHeaders {
  if (secrets.length === 0) throw new Error('no webhook secret to sign with');
  const at = new Date(timestampSeconds * 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}
