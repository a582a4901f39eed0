-- 法人综合库 legal persons: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
-- Its live_<feed> views are generated from the library's declared feeds (build.py).
CREATE SCHEMA IF NOT EXISTS legal_person;

CREATE TABLE IF NOT EXISTS legal_person.entity_history (
    uscc VARCHAR NOT NULL, version BIGINT NOT NULL, valid_from DATE, valid_to DATE,
    name VARCHAR, entity_type VARCHAR, industry_section VARCHAR, district_code VARCHAR,
    legal_rep_id_number VARCHAR, registered_capital DECIMAL(20, 4),
    status VARCHAR NOT NULL,                   -- active | deregistered | revoked
    source_event VARCHAR NOT NULL, source_delivery_id BIGINT NOT NULL, source_line BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS legal_person.entities (
    uscc VARCHAR NOT NULL, name VARCHAR, entity_type VARCHAR, industry_section VARCHAR, district_code VARCHAR,
    legal_rep_id_number VARCHAR, registered_capital DECIMAL(20, 4), status VARCHAR NOT NULL,
    established_date DATE, closed_date DATE, employees BIGINT NOT NULL DEFAULT 0,
    source_delivery_id BIGINT, source_line BIGINT
);

-- Certificate coverage of each entity (e-licence coverage of active entities).
CREATE OR REPLACE VIEW legal_person.entity_coverage AS
SELECT e.uscc, e.status, e.district_code,
       count(c.certificate_no) FILTER (WHERE c.status = 'valid') AS valid_certificates,
       coalesce(bool_or(c.certificate_type = 'business_licence' AND c.status = 'valid'), false) AS has_valid_business_licence
FROM legal_person.entities e
LEFT JOIN e_certificate.certificates c ON c.holder_type = 'legal_person' AND c.holder_id = e.uscc
GROUP BY ALL;
