-- Persons whose latest social-insurance event by the end of D is an enrolment (city-wide).
-- An enrolment holds from its date until the person's next event, events of one date in the
-- order they were delivered (cb_spans_open); one of a date followed by another that day holds
-- for no day.
WITH ev AS (
    SELECT event_type, event_date AS s,
           lead(event_date) OVER (PARTITION BY id_number ORDER BY event_date, _delivery_id, _line) AS e
    FROM population.live_insurance_events
    WHERE event_date IS NOT NULL
),
spans AS (SELECT $city AS district_code, s, e FROM ev WHERE event_type = 'enrol')
SELECT * FROM cb_spans_open('spans')
