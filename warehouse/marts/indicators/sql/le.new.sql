-- establish events dated D.
SELECT event_date AS day, district_code, count(*) AS num, NULL AS den
FROM legal_person.live_entity_events WHERE event_type = 'establish' AND event_date IN (SELECT day FROM cb_days)
GROUP BY ALL
