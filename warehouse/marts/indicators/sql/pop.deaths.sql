-- Distinct persons who died on D, from public security's death events and the health
-- commission's death records together; a person reported by both counts once, with the health
-- commission record's date and district.
WITH health AS (
    SELECT id_number, death_date AS day, district_code FROM population.live_death_records
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY death_date, _delivery_id, _line) = 1
), psb AS (
    SELECT id_number, event_date AS day, district_code FROM population.live_household_events
    WHERE event_type = 'death' AND id_number NOT IN (SELECT id_number FROM health)
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY event_date, _delivery_id, _line) = 1
)
SELECT day, district_code, count(*) AS num, NULL AS den
FROM (SELECT * FROM health UNION ALL SELECT * FROM psb)
WHERE day IN (SELECT day FROM cb_days) GROUP BY ALL
