-- Mean satisfaction (1-5) of the rating steps dated D; no value on a day without one.
SELECT CAST(event_time AS DATE) AS day, district_code, sum(satisfaction) AS num, count(*) AS den
FROM cb_svc($handler, $category)
WHERE event_type = 'rate' AND CAST(event_time AS DATE) IN (SELECT day FROM cb_days)
GROUP BY ALL
