-- Close steps dated D (a ticket closed, reopened and closed again counts twice), in the ticket's district.
SELECT CAST(event_time AS DATE) AS day, district_code, count(*) AS num, NULL AS den
FROM cb_svc($handler, $category)
WHERE event_type = 'close' AND CAST(event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
