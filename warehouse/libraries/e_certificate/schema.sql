-- 电子证照库 e-certificates: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
-- Its live_<feed> views are generated from the library's declared feeds (build.py).
CREATE SCHEMA IF NOT EXISTS e_certificate;

CREATE TABLE IF NOT EXISTS e_certificate.certificate_history (
    certificate_no VARCHAR NOT NULL, version BIGINT NOT NULL, event_valid_from DATE, event_valid_to DATE,
    certificate_type VARCHAR, holder_type VARCHAR, holder_id VARCHAR, issuer VARCHAR,
    valid_from DATE, valid_to DATE,
    lifecycle VARCHAR NOT NULL,                -- valid | revoked | cancelled (expiry is judged against the clock)
    source_event VARCHAR NOT NULL, source_delivery_id BIGINT NOT NULL, source_line BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS e_certificate.certificate_state (
    certificate_no VARCHAR NOT NULL, certificate_type VARCHAR, holder_type VARCHAR, holder_id VARCHAR,
    issuer VARCHAR, valid_from DATE, valid_to DATE, lifecycle VARCHAR NOT NULL,
    issued_date DATE, last_event_date DATE, source_delivery_id BIGINT, source_line BIGINT
);

-- Certificates with their status on the refresh's clock date (CONTRACT §4).
CREATE OR REPLACE VIEW e_certificate.certificates AS
SELECT c.certificate_no, c.certificate_type, c.holder_type, c.holder_id, c.issuer, c.valid_from, c.valid_to,
       CASE WHEN c.lifecycle = 'valid' AND c.valid_to < k.as_of_date THEN 'expired' ELSE c.lifecycle END AS status,
       c.issued_date, c.last_event_date, c.source_delivery_id, c.source_line
FROM e_certificate.certificate_state c, (SELECT coalesce(max(as_of_date), current_date) AS as_of_date FROM meta.clock) k;
