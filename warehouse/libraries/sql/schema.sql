-- Thematic libraries (CONTRACT §4). History tables keep every version of a record with
-- the delivery and line that produced it; current-state tables hold the latest version
-- with attributes fused from other departments.
CREATE SCHEMA IF NOT EXISTS population;
CREATE SCHEMA IF NOT EXISTS legal_person;
CREATE SCHEMA IF NOT EXISTS e_certificate;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS meta;

-- The refresh's clock (--as-of): 'expired' and ages are judged against it.
CREATE TABLE IF NOT EXISTS meta.clock (as_of TIMESTAMP NOT NULL, as_of_date DATE NOT NULL);
-- One row per library build: how far into the ledger it has read.
CREATE TABLE IF NOT EXISTS meta.library_builds (
    library VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL, mode VARCHAR NOT NULL,
    last_delivery_id BIGINT NOT NULL, keys_rebuilt BIGINT, seconds DOUBLE
);

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

CREATE TABLE IF NOT EXISTS quality.findings (
    rule VARCHAR NOT NULL, owner_department VARCHAR NOT NULL, subject_kind VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL, district_code VARCHAR, detail VARCHAR, since DATE
);
