-- Persons whose latest social-insurance event by the end of D is an enrolment (city-wide).
WITH ev AS (SELECT id_number, event_type, event_date, _delivery_id, _line FROM population.live_insurance_events)
SELECT d.day, $city AS district_code, count(*) AS num, NULL AS den
FROM cb_days d, LATERAL (
    SELECT id_number, arg_max(event_type, (event_date, _delivery_id, _line)) AS last_event
    FROM ev WHERE ev.event_date <= d.day GROUP BY id_number
) s
WHERE s.last_event = 'enrol'
GROUP BY ALL
