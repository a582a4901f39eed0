-- Tickets open at the end of D: created, and not closed since their creation or their last
-- reopening, under the handler they had then. With $overdue = 'yes', only those whose latest
-- due time is before D+1 00:00 (a ticket never dispatched has no due time); with 'share',
-- those overdue ÷ all open.
WITH open_at_end AS (
    SELECT d.day, s.district_code, s.due < d.day + INTERVAL 1 DAY AS overdue
    FROM cb_days d
    JOIN cb_svc($handler, $category) s
      ON s.event_time < d.day + INTERVAL 1 DAY AND (s.until IS NULL OR s.until >= d.day + INTERVAL 1 DAY)
    WHERE s.state = 'open' AND s.created_at IS NOT NULL
)
SELECT day, district_code,
       count(*) FILTER (WHERE $overdue = 'no' OR overdue) AS num,
       CASE WHEN $overdue = 'share' THEN count(*) END AS den
FROM open_at_end
GROUP BY ALL
