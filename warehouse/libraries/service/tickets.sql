-- service.tickets: each ticket after its latest step. District, category, channel and caller
-- come from its (first) creation; handler and due time from its latest dispatch; the rating is
-- the latest; it is closed when a close came after its last reopening, and open otherwise.
INSERT INTO service.tickets
WITH steps AS (
    SELECT * FROM service.ticket_history WHERE __KEYS__(ticket_no)
),
t AS (
    SELECT ticket_no,
           arg_min(district_code, version) FILTER (WHERE event_type = 'create') AS created_district,
           arg_max(district_code, version) AS latest_district,
           arg_min(category, version) FILTER (WHERE event_type = 'create') AS category,
           arg_min(channel, version) FILTER (WHERE event_type = 'create') AS channel,
           min(event_time) FILTER (WHERE event_type = 'create') AS created_at,
           arg_max(handler, version) FILTER (WHERE event_type = 'dispatch') AS handler,
           arg_max(due_at, version) FILTER (WHERE event_type = 'dispatch') AS due_at,
           max(event_time) FILTER (WHERE event_type = 'dispatch') AS dispatched_at,
           max(version) FILTER (WHERE event_type = 'close') AS last_close,
           max(version) FILTER (WHERE event_type = 'reopen') AS last_reopen,
           arg_max(event_time, version) FILTER (WHERE event_type = 'close') AS closed_time,
           arg_max(satisfaction, version) FILTER (WHERE event_type = 'rate') AS satisfaction,
           count(*) FILTER (WHERE event_type = 'reopen') AS reopened,
           arg_min(caller_hash, version) FILTER (WHERE event_type = 'create') AS caller_hash,
           max(event_time) AS last_event_at,
           arg_max(source_delivery_id, version) AS source_delivery_id,
           arg_max(source_line, version) AS source_line
    FROM steps GROUP BY ticket_no
)
SELECT ticket_no, coalesce(created_district, latest_district), category, channel, created_at,
       handler, due_at, dispatched_at,
       CASE WHEN last_close > coalesce(last_reopen, 0) THEN closed_time END,
       satisfaction, reopened,
       CASE WHEN last_close > coalesce(last_reopen, 0) THEN 'closed' ELSE 'open' END,
       caller_hash, last_event_at, source_delivery_id, source_line
FROM t
