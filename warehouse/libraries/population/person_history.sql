-- population.person_history: every version of every person known to public security.
-- psb is authoritative for registration (name, gender, birth date, ethnicity, district);
-- health is authoritative for death: a health death record makes the person deceased
-- from its death date, even before psb records the death. Versions are ordered by event
-- date, then delivery, then line (CONTRACT §4).
INSERT INTO population.person_history
WITH ev AS (
    SELECT id_number, event_date AS day, _delivery_id, _line, 'psb' AS department, event_type,
           name, gender, birth_date, ethnicity, district_code
    FROM population.live_household_events WHERE __KEYS__(id_number)
    UNION ALL
    SELECT id_number, death_date, _delivery_id, _line, 'health', 'death',
           NULL, NULL, NULL, NULL, NULL
    FROM population.live_death_records WHERE __KEYS__(id_number)
),
known AS (SELECT DISTINCT id_number FROM ev WHERE department = 'psb'),
versions AS (
    SELECT ev.*,
        row_number() OVER w AS version,
        lead(day) OVER (PARTITION BY id_number ORDER BY day, _delivery_id, _line) AS next_day,
        last_value(name IGNORE NULLS) OVER w AS f_name,
        last_value(gender IGNORE NULLS) OVER w AS f_gender,
        last_value(birth_date IGNORE NULLS) OVER w AS f_birth_date,
        last_value(ethnicity IGNORE NULLS) OVER w AS f_ethnicity,
        last_value(district_code IGNORE NULLS) OVER w AS f_district,
        bool_or(event_type = 'death') OVER w AS dead,
        last_value(CASE WHEN department = 'psb' THEN event_type END IGNORE NULLS) OVER w AS last_psb_event
    FROM ev SEMI JOIN known USING (id_number)
    WINDOW w AS (PARTITION BY id_number ORDER BY day, _delivery_id, _line ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT id_number, version, day, next_day, f_name, f_gender, f_birth_date, f_ethnicity, f_district,
       CASE WHEN dead THEN 'deceased' WHEN last_psb_event = 'move_out' THEN 'moved_out' ELSE 'registered' END,
       department, event_type, _delivery_id, _line
FROM versions;
