-- quality.findings: cross-department inconsistencies, each naming the department that
-- owns the fix. Rebuilt whole on every refresh (they depend on the clock and on every
-- library). $grace_days is how long psb has to record a death health reported.
DELETE FROM quality.findings;
INSERT INTO quality.findings
WITH clock AS (SELECT coalesce(max(as_of_date), current_date) AS today FROM meta.clock),
valid_person_certs AS (
    SELECT * FROM e_certificate.certificates WHERE status = 'valid' AND holder_type = 'person'
),
current_enrolments AS (
    SELECT id_number, employer_uscc FROM population.live_insurance_events
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY event_date DESC, _delivery_id DESC, _line DESC) = 1
        AND event_type = 'enrol'
)
-- 死亡未销户: health reported the death, public security still has the person registered.
SELECT 'death_not_deregistered', 'psb', 'person', p.id_number, p.district_code,
       'death reported by health on ' || p.death_date || ', not recorded by public security', p.death_date
FROM population.persons p, clock
WHERE p.death_source = 'health' AND p.death_date <= clock.today - $grace_days
UNION ALL
-- A death certificate for someone public security does not know.
SELECT 'death_of_unknown_person', 'health', 'person', h.id_number, h.district_code,
       'death record ' || h.record_id || ' names a person not in the population library', h.death_date
FROM population.live_death_records h ANTI JOIN population.persons p USING (id_number)
UNION ALL
-- Certificates still valid for a deceased holder: the issuer must cancel them.
SELECT 'deceased_with_valid_certificate', c.issuer, 'certificate', c.certificate_no, p.district_code,
       c.certificate_type || ' still valid for a person who died on ' || p.death_date, p.death_date
FROM valid_person_certs c JOIN population.persons p ON p.id_number = c.holder_id AND p.status = 'deceased'
UNION ALL
-- Valid certificates whose holder no library knows.
SELECT 'certificate_holder_unknown', 'dsb', 'certificate', c.certificate_no, NULL,
       c.certificate_type || ' held by a person not in the population library', c.issued_date
FROM valid_person_certs c ANTI JOIN population.persons p ON p.id_number = c.holder_id
UNION ALL
SELECT 'certificate_holder_unknown', 'dsb', 'certificate', c.certificate_no, NULL,
       c.certificate_type || ' held by an entity not in the legal-person library', c.issued_date
FROM e_certificate.certificates c ANTI JOIN legal_person.entities e ON e.uscc = c.holder_id
WHERE c.status = 'valid' AND c.holder_type = 'legal_person'
UNION ALL
-- Social-insurance enrolments whose employer or employee is unknown.
SELECT 'insurance_employer_unknown', 'hrss', 'person', j.id_number, NULL,
       'enrolled with employer ' || j.employer_uscc || ', which is not in the legal-person library', NULL
FROM current_enrolments j ANTI JOIN legal_person.entities e ON e.uscc = j.employer_uscc
UNION ALL
SELECT 'insurance_person_unknown', 'hrss', 'person', j.id_number, NULL,
       'enrolled person not in the population library', NULL
FROM current_enrolments j ANTI JOIN population.persons p USING (id_number)
UNION ALL
-- Legal representatives missing from, or deceased in, the population library.
SELECT 'legal_rep_unknown', 'samr', 'entity', e.uscc, e.district_code,
       'legal representative not in the population library', NULL
FROM legal_person.entities e ANTI JOIN population.persons p ON p.id_number = e.legal_rep_id_number
WHERE e.status = 'active'
UNION ALL
SELECT 'legal_rep_deceased', 'samr', 'entity', e.uscc, e.district_code,
       'legal representative died on ' || p.death_date, p.death_date
FROM legal_person.entities e JOIN population.persons p ON p.id_number = e.legal_rep_id_number AND p.status = 'deceased'
WHERE e.status = 'active'
UNION ALL
-- Entities closed while their business licence stays valid.
SELECT 'closed_entity_valid_licence', c.issuer, 'entity', e.uscc, e.district_code,
       'entity ' || e.status || ' on ' || e.closed_date || ' but its business licence ' || c.certificate_no || ' is valid', e.closed_date
FROM legal_person.entities e
JOIN e_certificate.certificates c ON c.holder_type = 'legal_person' AND c.holder_id = e.uscc
     AND c.certificate_type = 'business_licence' AND c.status = 'valid'
WHERE e.status <> 'active'
UNION ALL
-- Steps of a 12345 ticket whose creation the hotline never delivered (a dispatch or close
-- for an unknown ticket).
SELECT 'ticket_without_creation', 'hotline', 'ticket', t.ticket_no, t.district_code,
       'ticket has ' || h.steps || ' step(s) from ' || h.first_step || ' but no creation', h.first_step
FROM service.tickets t
JOIN (SELECT ticket_no, count(*) AS steps, min(event_time)::DATE AS first_step FROM service.ticket_history GROUP BY ticket_no) h
  USING (ticket_no)
WHERE t.created_at IS NULL;
