-- Events of one flow ($flow: births, net migration = move-ins minus move-outs, or new market
-- entities) in the 28 days ending D (fewer at the start of the data), per 1,000 registered
-- residents at the end of D, annualised: comparable between districts of any size and
-- steady from day to day, where a district's daily count is mostly 0 or 1.
WITH first_day AS (SELECT min(business_date) AS d FROM ingest.live_deliveries),
events AS (
    SELECT event_date AS day, district_code, CASE WHEN event_type = 'move_out' THEN -1 ELSE 1 END AS n
    FROM population.live_household_events
    WHERE event_date >= (SELECT min(day) - 27 FROM cb_days)
      AND (($flow = 'births' AND event_type = 'birth') OR ($flow = 'net_migration' AND event_type IN ('move_in', 'move_out')))
    UNION ALL
    SELECT event_date, district_code, 1 FROM legal_person.live_entity_events
    WHERE $flow = 'new_entities' AND event_type = 'establish' AND event_date >= (SELECT min(day) - 27 FROM cb_days)
),
windows AS (SELECT day, greatest(day - 27, (SELECT d FROM first_day)) AS since FROM cb_days)
SELECT r.day, r.district_code, coalesce(sum(e.n), 0) * 1000.0 * 365 / (r.day - w.since + 1) AS num, r.residents AS den
FROM cb_residents r JOIN windows w USING (day)
LEFT JOIN events e ON e.district_code = r.district_code AND e.day BETWEEN w.since AND r.day
GROUP BY r.day, r.district_code, r.residents, w.since
