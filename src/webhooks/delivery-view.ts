/** @module What the API (and the server SDK) shows of a webhook delivery: plain types, no runtime. */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'gone';

/** What the API shows of a delivery (the body is the upload event; it is not repeated here). */
export interface DeliveryView {
  id: string;
  webhookId: string;
  event: string;
  uploadId: string;
  endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  log: { n: number; at: string; outcome: string; status: number | null; error: string | null; durationMs: number }[];
}
