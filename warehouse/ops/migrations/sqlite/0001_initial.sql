-- The operational store as first released: users, sign-in failures, acknowledgements of
-- alerts and the access audit log. IF NOT EXISTS: a store made before migrations were
-- recorded keeps its tables. Portable SQL (SQLite and PostgreSQL alike).
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, scope TEXT,
    created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS login_failures (username TEXT, remote TEXT, at REAL);
CREATE TABLE IF NOT EXISTS acknowledgements (
    alert_id TEXT NOT NULL, username TEXT NOT NULL, comment TEXT, at TEXT NOT NULL, applied INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_log (
    at TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
    delivery_id INTEGER, rows INTEGER, subject_hashes TEXT, purpose TEXT
);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
