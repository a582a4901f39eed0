-- What every library build shares: the refresh's clock, the build log, and the
-- cross-department findings (findings.sql). Idempotent.
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
