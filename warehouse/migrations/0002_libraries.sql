-- The thematic libraries (warehouse/libraries/), in build order, so a view may read the
-- libraries before it; and what every library build shares: the refresh's clock, the build
-- log, and the cross-department findings (findings.sql). Each library's live_<feed> views
-- are generated from its declared feeds (warehouse.libraries.build.live_view_ddl).
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS meta;

-- The refresh's clock (--as-of): 'expired' and ages are judged against it.
CREATE TABLE IF NOT EXISTS meta.clock (as_of TIMESTAMP NOT NULL, as_of_date DATE NOT NULL);
-- One row per library build: how far into the ledger it has read.
CREATE TABLE IF NOT EXISTS meta.library_builds (
    library VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL, mode VARCHAR NOT NULL,
    last_delivery_id BIGINT NOT NULL, keys_rebuilt BIGINT, seconds DOUBLE
);

CREATE TABLE IF NOT EXISTS quality.findings (
    rule VARCHAR NOT NULL, owner_department VARCHAR NOT NULL, subject_kind VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL, district_code VARCHAR, detail VARCHAR, since DATE
);

-- 人口综合库 population: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
CREATE SCHEMA IF NOT EXISTS population;

CREATE TABLE IF NOT EXISTS population.person_history (
    id_number VARCHAR NOT NULL, version BIGINT NOT NULL,
    valid_from DATE, valid_to DATE,            -- the version holds on days valid_from <= D < valid_to
    name VARCHAR, gender VARCHAR, birth_date DATE, ethnicity VARCHAR, district_code VARCHAR,
    status VARCHAR NOT NULL,                   -- registered | moved_out | deceased
    source_department VARCHAR NOT NULL, source_event VARCHAR NOT NULL,
    source_delivery_id BIGINT NOT NULL, source_line BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS population.persons (
    id_number VARCHAR NOT NULL, name VARCHAR, gender VARCHAR, birth_date DATE, ethnicity VARCHAR,
    district_code VARCHAR, status VARCHAR NOT NULL,
    registered_since DATE, last_event_date DATE,
    death_date DATE, death_source VARCHAR,     -- health | psb | both
    marital_status VARCHAR,                    -- from civil: married | divorced (NULL: no registration seen)
    employer_uscc VARCHAR,                     -- from hrss: the current employer, if enrolled
    source_delivery_id BIGINT, source_line BIGINT
);

-- Ages and age bands on the clock date (what the cockpit groups by).
CREATE OR REPLACE VIEW population.person_profile AS
SELECT p.*, date_diff('year', p.birth_date, k.as_of_date)
             - CASE WHEN strftime(k.as_of_date, '%m%d') < strftime(p.birth_date, '%m%d') THEN 1 ELSE 0 END AS age,
       CASE WHEN age < 15 THEN '0-14' WHEN age < 65 THEN '15-64' ELSE '65+' END AS age_group,
       CASE WHEN age >= 90 THEN '90+' ELSE (age // 10 * 10)::VARCHAR || '-' || (age // 10 * 10 + 9)::VARCHAR END AS age_band
FROM population.persons p, (SELECT coalesce(max(as_of_date), current_date) AS as_of_date FROM meta.clock) k;

-- 电子证照库 e-certificates: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
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

-- 法人综合库 legal persons: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
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

-- 12345热线专题库 citizens' requests: ticket_history keeps every step of every ticket with the
-- delivery and line it came from; tickets holds each ticket's state after its latest step.
CREATE SCHEMA IF NOT EXISTS service;

CREATE TABLE IF NOT EXISTS service.ticket_history (
    ticket_no VARCHAR NOT NULL,
    version BIGINT NOT NULL,                   -- step order: event time, then delivery, then line
    event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL, event_time TIMESTAMP NOT NULL,
    district_code VARCHAR,
    category VARCHAR, channel VARCHAR,         -- create only
    handler VARCHAR, due_at TIMESTAMP,         -- dispatch only
    satisfaction INTEGER,                      -- rate only
    caller_hash VARCHAR,                       -- create only: keyed hash of caller_id_number, never the number
    source_delivery_id BIGINT NOT NULL, source_line BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS service.tickets (
    ticket_no VARCHAR NOT NULL,
    district_code VARCHAR,                     -- from its creation (the latest step's for a ticket never created)
    category VARCHAR, channel VARCHAR, created_at TIMESTAMP,
    handler VARCHAR, due_at TIMESTAMP, dispatched_at TIMESTAMP,   -- the latest dispatch
    closed_at TIMESTAMP,                       -- empty while open
    satisfaction INTEGER,                      -- the latest rating
    reopened BIGINT NOT NULL,
    status VARCHAR NOT NULL,                   -- open | closed
    caller_hash VARCHAR, last_event_at TIMESTAMP,
    source_delivery_id BIGINT, source_line BIGINT   -- the latest step
);
