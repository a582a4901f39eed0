-- Accepted birth events of the household register (public security) dated D.
SELECT event_date AS day, district_code, count(*) AS num, NULL AS den
FROM population.live_household_events WHERE event_type = 'birth' AND event_date IN (SELECT day FROM cb_days)
GROUP BY ALL
