-- move_in minus move_out events dated D.
SELECT event_date AS day, district_code,
       count(*) FILTER (WHERE event_type = 'move_in') - count(*) FILTER (WHERE event_type = 'move_out') AS num, NULL AS den
FROM population.live_household_events
WHERE event_type IN ('move_in', 'move_out') AND event_date IN (SELECT day FROM cb_days)
GROUP BY ALL
