-- (not an indicator) The library district of every certificate's holder, used by cert.*.
-- Persons and entities are looked up in one join (21M certificates probe one table of
-- holders instead of two at city scale).
CREATE OR REPLACE TEMP TABLE cb_cert_district AS
SELECT c.certificate_no, h.district_code
FROM e_certificate.certificate_state c
LEFT JOIN (SELECT 'person' AS holder_type, id_number AS holder_id, district_code FROM population.persons
           UNION ALL
           SELECT 'legal_person', uscc, district_code FROM legal_person.entities) h USING (holder_type, holder_id);
