-- legal_person.entity_history: every version of every market entity (market regulation
-- is authoritative for entities). establish/change keep it active; deregister and revoke close it.
INSERT INTO legal_person.entity_history
SELECT uscc,
       row_number() OVER w,
       event_date,
       lead(event_date) OVER w,
       name, entity_type, industry_section, district_code, legal_rep_id_number, registered_capital,
       CASE event_type WHEN 'deregister' THEN 'deregistered' WHEN 'revoke' THEN 'revoked' ELSE 'active' END,
       event_type, _delivery_id, _line
FROM legal_person.live_entity_events
WHERE __KEYS__(uscc)
WINDOW w AS (PARTITION BY uscc ORDER BY event_date, _delivery_id, _line);
