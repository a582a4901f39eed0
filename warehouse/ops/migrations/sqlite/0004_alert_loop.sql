-- The loop from alert to closure: append-only steps (dispatch, handle, return, close), an
-- alert's state being its latest step (warehouse.ops.alert_loop).
-- SQLite-only: AUTOINCREMENT (PostgreSQL: GENERATED ALWAYS AS IDENTITY) and the triggers.
CREATE TABLE IF NOT EXISTS alert_steps (
    step_no INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, step TEXT NOT NULL,
    actor TEXT NOT NULL, role TEXT, scope TEXT, owner_kind TEXT, owner_code TEXT, due_at TEXT,
    note TEXT, rating INTEGER, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_steps_alert ON alert_steps (alert_id, step_no);
CREATE TRIGGER IF NOT EXISTS alert_steps_no_update BEFORE UPDATE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'alert steps are append-only'); END;
CREATE TRIGGER IF NOT EXISTS alert_steps_no_delete BEFORE DELETE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'alert steps are append-only'); END;
-- Acknowledgements made before the loop existed become 'acknowledge' steps, in their order
-- (SQLite's rowid; the acknowledgements table is kept as it was).
INSERT INTO alert_steps (alert_id, step, actor, role, scope, note, at)
SELECT a.alert_id, 'acknowledge', a.username, u.role, u.scope, a.comment, a.at
FROM acknowledgements a LEFT JOIN users u USING (username)
ORDER BY a.rowid;
