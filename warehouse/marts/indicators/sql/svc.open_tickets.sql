-- Tickets open at the end of D: created, and not closed since their creation or their last
-- reopening. With $overdue = 'yes', only those whose latest due time is before D+1 00:00 (a
-- ticket never dispatched has no due time); with 'share', those overdue ÷ all open.
WITH steps AS (
    SELECT h.ticket_no, h.event_time AS since, lead(h.event_time) OVER w AS until,
           last_value(CASE h.event_type WHEN 'close' THEN 'closed' WHEN 'create' THEN 'open' WHEN 'reopen' THEN 'open' END
                      IGNORE NULLS) OVER w AS state,
           last_value(h.due_at IGNORE NULLS) OVER w AS due
    FROM service.ticket_history h JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
    WHERE t.created_at IS NOT NULL
    WINDOW w AS (PARTITION BY h.ticket_no ORDER BY h.version)
),
open_at_end AS (
    SELECT d.day, t.district_code, s.due < d.day + INTERVAL 1 DAY AS overdue
    FROM cb_days d
    JOIN steps s ON s.since < d.day + INTERVAL 1 DAY AND (s.until IS NULL OR s.until >= d.day + INTERVAL 1 DAY)
    JOIN cb_svc_tickets($handler, $category) t USING (ticket_no)
    WHERE s.state = 'open'
)
SELECT day, district_code,
       count(*) FILTER (WHERE $overdue = 'no' OR overdue) AS num,
       CASE WHEN $overdue = 'share' THEN count(*) END AS den
FROM open_at_end
GROUP BY ALL
