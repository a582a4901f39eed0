-- Of the close steps dated D that follow a dispatch, the share made at or before the due time
-- of the latest dispatch before them; no value on a day without such a close.
WITH steps AS (
    SELECT h.ticket_no, h.event_type, h.event_time,
           last_value(h.due_at IGNORE NULLS) OVER (PARTITION BY h.ticket_no ORDER BY h.version) AS due
    FROM service.ticket_history h JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
    WHERE h.ticket_no IN (SELECT ticket_no FROM service.ticket_history
                          WHERE event_type = 'close' AND CAST(event_time AS DATE) IN (SELECT day FROM cb_days))
)
SELECT CAST(s.event_time AS DATE) AS day, t.district_code,
       count(*) FILTER (WHERE s.event_time <= s.due) AS num, count(*) AS den
FROM steps s JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
WHERE s.event_type = 'close' AND s.due IS NOT NULL AND CAST(s.event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
