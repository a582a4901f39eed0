-- Server-side sessions; a citizen's identity number (as its keyed hash) on the user; the
-- access log's scope, legal basis and chain (prev_hash, entry_hash: a keyed hash of each
-- entry and the one before it). Entries written before are chained by a Python step right
-- after this file (AccessLog._chain_unchained in warehouse/ops/access_log.py, the hook store.py
-- passes the runner: the key never leaves <home>). Portable SQL.
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL
);
ALTER TABLE users ADD COLUMN subject_hash TEXT;
ALTER TABLE access_log ADD COLUMN scope TEXT;
ALTER TABLE access_log ADD COLUMN legal_basis TEXT;
ALTER TABLE access_log ADD COLUMN prev_hash TEXT;
ALTER TABLE access_log ADD COLUMN entry_hash TEXT;
