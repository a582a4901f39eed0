-- Live staged rows of each feed (rows of superseded or rejected deliveries never count).
CREATE OR REPLACE VIEW population.live_household_events AS
    SELECT s.* FROM staging.household_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_death_records AS
    SELECT s.* FROM staging.death_records s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_marriage_registrations AS
    SELECT s.* FROM staging.marriage_registrations s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_insurance_events AS
    SELECT s.* FROM staging.insurance_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW legal_person.live_entity_events AS
    SELECT s.* FROM staging.entity_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW e_certificate.live_certificate_events AS
    SELECT s.* FROM staging.certificate_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;

-- Certificates with their status on the refresh's clock date (CONTRACT §4).
CREATE OR REPLACE VIEW e_certificate.certificates AS
SELECT c.certificate_no, c.certificate_type, c.holder_type, c.holder_id, c.issuer, c.valid_from, c.valid_to,
       CASE WHEN c.lifecycle = 'valid' AND c.valid_to < k.as_of_date THEN 'expired' ELSE c.lifecycle END AS status,
       c.issued_date, c.last_event_date, c.source_delivery_id, c.source_line
FROM e_certificate.certificate_state c, (SELECT coalesce(max(as_of_date), current_date) AS as_of_date FROM meta.clock) k;

-- Ages and age bands on the clock date (what the cockpit groups by).
CREATE OR REPLACE VIEW population.person_profile AS
SELECT p.*, date_diff('year', p.birth_date, k.as_of_date)
             - CASE WHEN strftime(k.as_of_date, '%m%d') < strftime(p.birth_date, '%m%d') THEN 1 ELSE 0 END AS age,
       CASE WHEN age < 15 THEN '0-14' WHEN age < 65 THEN '15-64' ELSE '65+' END AS age_group,
       CASE WHEN age >= 90 THEN '90+' ELSE (age // 10 * 10)::VARCHAR || '-' || (age // 10 * 10 + 9)::VARCHAR END AS age_band
FROM population.persons p, (SELECT coalesce(max(as_of_date), current_date) AS as_of_date FROM meta.clock) k;

-- Certificate coverage of each entity (e-licence coverage of active entities).
CREATE OR REPLACE VIEW legal_person.entity_coverage AS
SELECT e.uscc, e.status, e.district_code,
       count(c.certificate_no) FILTER (WHERE c.status = 'valid') AS valid_certificates,
       coalesce(bool_or(c.certificate_type = 'business_licence' AND c.status = 'valid'), false) AS has_valid_business_licence
FROM legal_person.entities e
LEFT JOIN e_certificate.certificates c ON c.holder_type = 'legal_person' AND c.holder_id = e.uscc
GROUP BY ALL;
