-- Webhook deliveries: one row per (event, endpoint), its signed body kept so every attempt sends
-- the same bytes under the same webhook-id; and one row per attempt, for the delivery log.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,                 -- dlv_<hash of event id and endpoint>: fan-out is idempotent
  webhook_id TEXT NOT NULL,            -- the webhook-id header, the same on every attempt
  event_id TEXT NOT NULL,
  event TEXT NOT NULL,
  upload_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,                -- pending | delivered | failed (dead-lettered) | gone (410)
  attempts INTEGER NOT NULL DEFAULT 0, -- attempts in the current round (a redelivery starts a new one)
  last_status INTEGER,
  last_error TEXT,
  next_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_upload ON webhook_deliveries (upload_id, created_at);

CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id TEXT NOT NULL,
  n INTEGER NOT NULL,                  -- 1, 2, … across every round
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,               -- delivered | retry | failed | gone
  status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
);
