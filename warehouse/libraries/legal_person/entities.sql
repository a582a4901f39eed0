-- legal_person.entities: each entity's latest version with its establishment and closure
-- dates and its headcount (persons whose current social-insurance employer it is).
INSERT INTO legal_person.entities
WITH latest AS (
    SELECT * FROM legal_person.entity_history WHERE __KEYS__(uscc)
    QUALIFY row_number() OVER (PARTITION BY uscc ORDER BY version DESC) = 1
),
dates AS (
    SELECT uscc, min(valid_from) FILTER (WHERE source_event = 'establish') AS established_date
    FROM legal_person.entity_history WHERE __KEYS__(uscc) GROUP BY uscc
),
staff AS (
    SELECT employer_uscc AS uscc, count(*) AS employees FROM population.persons
    WHERE employer_uscc IS NOT NULL AND __KEYS__(employer_uscc) GROUP BY employer_uscc
)
SELECT l.uscc, l.name, l.entity_type, l.industry_section, l.district_code, l.legal_rep_id_number, l.registered_capital,
       l.status, d.established_date, CASE WHEN l.status <> 'active' THEN l.valid_from END,
       coalesce(s.employees, 0), l.source_delivery_id, l.source_line
FROM latest l JOIN dates d USING (uscc) LEFT JOIN staff s USING (uscc);
