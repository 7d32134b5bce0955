-- Uploads created under each upload grant that limits them (maxFiles), counted by the token's jti.
CREATE TABLE IF NOT EXISTS grant_uses (
  grant_key TEXT PRIMARY KEY,          -- owner "\n" jti
  uses INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
