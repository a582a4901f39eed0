-- service.ticket_history: every live step of every ticket, in order (event time, then
-- delivery, then line). Columns a step's type does not use are ignored (validation does not
-- check them either); the caller's identity number is kept only as its keyed hash.
INSERT INTO service.ticket_history
SELECT ticket_no,
       row_number() OVER (PARTITION BY ticket_no ORDER BY event_time, _delivery_id, _line) AS version,
       event_id, event_type, event_time, district_code,
       CASE WHEN event_type = 'create' THEN category END,
       CASE WHEN event_type = 'create' THEN channel END,
       CASE WHEN event_type = 'dispatch' THEN handler END,
       CASE WHEN event_type = 'dispatch' THEN due_at END,
       CASE WHEN event_type = 'rate' THEN satisfaction END,
       CASE WHEN event_type = 'create' THEN cb_subject_hash(caller_id_number) END,
       _delivery_id, _line
FROM service.live_service_requests
WHERE __KEYS__(ticket_no)
