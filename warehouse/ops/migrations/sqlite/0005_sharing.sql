-- Data sharing (warehouse.sharing): what owners say of their catalog entries, requests for
-- entries with their steps, and the keys granted requests are called with.
-- SQLite-only: AUTOINCREMENT (PostgreSQL: GENERATED ALWAYS AS IDENTITY) and the triggers.

-- A steward's edit of an entry's descriptive fields or sharing class, append-only: an
-- entry's current value of a field is its latest edit, and the edits are its history.
CREATE TABLE catalog_edits (
    edit_no INTEGER PRIMARY KEY AUTOINCREMENT, entry_code TEXT NOT NULL, field TEXT NOT NULL,
    value TEXT, actor TEXT NOT NULL, role TEXT, scope TEXT, at TEXT NOT NULL
);
CREATE INDEX catalog_edits_entry ON catalog_edits (entry_code, edit_no);
CREATE TRIGGER catalog_edits_no_update BEFORE UPDATE ON catalog_edits
BEGIN SELECT RAISE(ABORT, 'catalog edits are append-only'); END;
CREATE TRIGGER catalog_edits_no_delete BEFORE DELETE ON catalog_edits
BEGIN SELECT RAISE(ABORT, 'catalog edits are append-only'); END;

-- A request as its officer wrote it; what happened to it is in share_request_steps. The
-- entry's owner and sharing class are kept as they were when it was submitted.
CREATE TABLE share_requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT, entry_code TEXT NOT NULL, owner TEXT NOT NULL,
    sharing_class TEXT NOT NULL, department TEXT NOT NULL, requester TEXT NOT NULL,
    purpose TEXT NOT NULL, scenario TEXT NOT NULL, legal_basis TEXT NOT NULL,
    items TEXT NOT NULL, days INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX share_requests_department ON share_requests (department);
CREATE INDEX share_requests_owner ON share_requests (owner);
CREATE TABLE share_request_steps (
    step_no INTEGER PRIMARY KEY AUTOINCREMENT, request_id INTEGER NOT NULL, step TEXT NOT NULL,
    actor TEXT NOT NULL, role TEXT, scope TEXT, reason TEXT, at TEXT NOT NULL
);
CREATE INDEX share_request_steps_request ON share_request_steps (request_id, step_no);
CREATE TRIGGER share_request_steps_no_update BEFORE UPDATE ON share_request_steps
BEGIN SELECT RAISE(ABORT, 'request steps are append-only'); END;
CREATE TRIGGER share_request_steps_no_delete BEFORE DELETE ON share_request_steps
BEGIN SELECT RAISE(ABORT, 'request steps are append-only'); END;

-- A key an active grant is called with: shown once to the officer, kept only as a hash of
-- its secret. Revoking a key (revoked_at) ends it before its grant does.
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, request_id INTEGER NOT NULL,
    issued_by TEXT NOT NULL, issued_at TEXT NOT NULL, revoked_at TEXT
);
CREATE INDEX api_keys_request ON api_keys (request_id);
