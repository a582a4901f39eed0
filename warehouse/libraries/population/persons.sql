-- population.persons: each person's latest version, fused with civil affairs (marital
-- status), social insurance (current employer) and the death reports of both sources.
INSERT INTO population.persons
WITH latest AS (
    SELECT * FROM population.person_history WHERE __KEYS__(id_number)
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY version DESC) = 1
),
since AS (
    SELECT id_number, min(valid_from) AS registered_since FROM population.person_history
    WHERE __KEYS__(id_number) GROUP BY id_number
),
deaths AS (
    SELECT id_number,
           coalesce(min(valid_from) FILTER (WHERE source_department = 'health'),
                    min(valid_from) FILTER (WHERE source_event = 'death')) AS death_date,
           CASE WHEN bool_or(source_department = 'health') AND bool_or(source_department = 'psb' AND source_event = 'death') THEN 'both'
                WHEN bool_or(source_department = 'health') THEN 'health'
                WHEN bool_or(source_event = 'death') THEN 'psb' END AS death_source
    FROM population.person_history WHERE source_event = 'death' AND __KEYS__(id_number) GROUP BY id_number
),
marriage AS (
    SELECT id_number, registration_type FROM (
        SELECT party1_id_number AS id_number, registration_type, registration_date, _delivery_id, _line FROM population.live_marriage_registrations
        UNION ALL
        SELECT party2_id_number, registration_type, registration_date, _delivery_id, _line FROM population.live_marriage_registrations
    ) WHERE __KEYS__(id_number)
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY registration_date DESC, _delivery_id DESC, _line DESC) = 1
),
job AS (
    SELECT id_number, CASE WHEN event_type = 'enrol' THEN employer_uscc END AS employer_uscc
    FROM population.live_insurance_events WHERE __KEYS__(id_number)
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY event_date DESC, _delivery_id DESC, _line DESC) = 1
)
SELECT l.id_number, l.name, l.gender, l.birth_date, l.ethnicity, l.district_code, l.status,
       s.registered_since, l.valid_from, d.death_date, d.death_source,
       CASE m.registration_type WHEN 'marriage' THEN 'married' WHEN 'divorce' THEN 'divorced' END,
       j.employer_uscc, l.source_delivery_id, l.source_line
FROM latest l
JOIN since s USING (id_number)
LEFT JOIN deaths d USING (id_number)
LEFT JOIN marriage m USING (id_number)
LEFT JOIN job j USING (id_number);
