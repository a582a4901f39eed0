-- (not an indicator) The library district of every certificate's holder, used by cert.*.
CREATE OR REPLACE TEMP TABLE cb_cert_district AS
SELECT c.certificate_no, coalesce(p.district_code, e.district_code) AS district_code
FROM e_certificate.certificate_state c
LEFT JOIN population.persons p ON c.holder_type = 'person' AND p.id_number = c.holder_id
LEFT JOIN legal_person.entities e ON c.holder_type = 'legal_person' AND e.uscc = c.holder_id;
