-- Who owns an alert nobody dispatched is a kind of owner ('department', 'district' or 'city')
-- and its code (owner_scope), no longer a cockpit role. 0003 creates owner_kind; this brings a
-- warehouse made before migrations were recorded (whose alerts have owner_role) to the same
-- table, and changes nothing on one 0003 created. The kind follows from the scope: none, the
-- city's; the alert's own district, that district's; else a department's.
--
-- NOT NULL as 0003 declares it, set before the UPDATE: DuckDB cannot alter a column of a table
-- with a primary key once the transaction has updated its rows ("Cannot create index with
-- outstanding updates"), and the runner applies a file in one transaction. So the column is
-- added filled with 'department' (no NULL left to refuse), loses that default, is made NOT
-- NULL, and only then are the city's and districts' alerts given their kind.
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS owner_kind VARCHAR DEFAULT 'department';
ALTER TABLE marts.alerts ALTER COLUMN owner_kind DROP DEFAULT;
ALTER TABLE marts.alerts ALTER COLUMN owner_kind SET NOT NULL;
ALTER TABLE marts.alerts DROP COLUMN IF EXISTS owner_role;
UPDATE marts.alerts SET owner_kind = CASE WHEN owner_scope IS NULL THEN 'city' ELSE 'district' END
WHERE owner_kind = 'department' AND (owner_scope IS NULL OR owner_scope = district_code);
