-- The files index across owners, written only by the events consumer from upload events (never on
-- the part path). `entry` is the files API's JSON; the other columns are what lists filter and sort by.
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  state TEXT NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,         -- the session's updatedAt: an older event never overwrites a newer one
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_owner_newest ON files (owner, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS files_newest ON files (created_at DESC, id DESC);
