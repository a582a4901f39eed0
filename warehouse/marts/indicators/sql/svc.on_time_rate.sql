-- Of the close steps dated D that follow a dispatch, the share made at or before the due time
-- of the latest dispatch before them (counted under that dispatch's handler); no value on a
-- day without such a close.
SELECT CAST(event_time AS DATE) AS day, district_code,
       count(*) FILTER (WHERE event_time <= due) AS num, count(*) AS den
FROM cb_svc($handler, $category)
WHERE event_type = 'close' AND due IS NOT NULL AND CAST(event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
