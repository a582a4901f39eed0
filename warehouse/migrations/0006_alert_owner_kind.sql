-- Who owns an alert nobody dispatched is a kind of owner ('department', 'district' or 'city')
-- and its code (owner_scope), no longer a cockpit role. The kind follows from the scope: none,
-- the city's; the alert's own district, that district's; else a department's.
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS owner_kind VARCHAR;
UPDATE marts.alerts SET owner_kind = CASE WHEN owner_scope IS NULL THEN 'city' WHEN owner_scope = district_code THEN 'district'
                                          ELSE 'department' END
WHERE owner_kind IS NULL;
ALTER TABLE marts.alerts DROP COLUMN IF EXISTS owner_role;
