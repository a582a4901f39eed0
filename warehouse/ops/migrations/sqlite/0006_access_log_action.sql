-- The calls served per interface and department (OpsStore.calls_served, the data-sharing
-- measures) are counted from this index, not by scanning the whole access log. Portable SQL.
CREATE INDEX access_log_action ON access_log (action, scope);
