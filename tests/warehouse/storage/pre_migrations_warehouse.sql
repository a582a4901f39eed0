-- The warehouse's schema as the code before numbered migrations left it (commit 462a178), frozen:
-- every table and view that code made on a writing connection, library build and computation,
-- in the order it made them. Tests build a warehouse "made before migrations" from it; never
-- edit it to follow the code (a new schema change is a new migration).

-- ingest (warehouse/ingest/sql/schema.sql, the staging tables and live_deliveries: warehouse/ingest/schema.py)
-- The warehouse's own tables (CONTRACT §4 names plus the project's extra columns).
-- Idempotent: run on every connection that writes.
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE SCHEMA IF NOT EXISTS staging;

CREATE SEQUENCE IF NOT EXISTS ingest.delivery_seq START 1;

-- One row per delivery (a file identified by department, feed, business date, file name
-- and content hash). A correction gets a new row; the one it replaces becomes 'superseded'.
CREATE TABLE IF NOT EXISTS ingest.deliveries (
    delivery_id    BIGINT PRIMARY KEY,
    department     VARCHAR NOT NULL,
    feed           VARCHAR NOT NULL,
    business_date  DATE,
    file_name      VARCHAR NOT NULL,
    path           VARCHAR NOT NULL,
    format         VARCHAR,
    encoding       VARCHAR,
    sha256         VARCHAR NOT NULL,
    manifest_sha256 VARCHAR,           -- the manifest beside it, if any: a fixed manifest is a new delivery
    size_bytes     BIGINT,
    arrived_at     TIMESTAMP,          -- file modification time: when the department delivered it
    ingested_at    TIMESTAMP NOT NULL,
    duration_s     DOUBLE,
    status         VARCHAR NOT NULL,   -- accepted | partial | rejected | superseded
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_accepted  BIGINT NOT NULL DEFAULT 0,
    rows_rejected  BIGINT NOT NULL DEFAULT 0,
    reason         VARCHAR,            -- file-level reason when the delivery is rejected whole
    error          VARCHAR,            -- human-readable explanation for the department
    manifest_rows  BIGINT,
    extra_columns  VARCHAR[],          -- schema drift: columns the contract does not know
    supersedes     BIGINT,             -- the delivery this one corrected
    superseded_by  BIGINT
);

-- The error as a message template and its parameters (warehouse.contract.labels), rendered in
-- the reader's language; ``error`` keeps its English text. Added to warehouses made before.
ALTER TABLE ingest.deliveries ADD COLUMN IF NOT EXISTS error_key VARCHAR;
ALTER TABLE ingest.deliveries ADD COLUMN IF NOT EXISTS error_params JSON;

-- Every reason that applies to every rejected row.
CREATE TABLE IF NOT EXISTS ingest.rejections (
    delivery_id  BIGINT NOT NULL,
    line_number  BIGINT NOT NULL,      -- 1 = first data row (record, not physical line)
    reason       VARCHAR NOT NULL,
    column_name  VARCHAR
);

-- The rejected rows themselves, kept whole so a steward can fix and resubmit them.
CREATE TABLE IF NOT EXISTS ingest.rejected_rows (
    delivery_id  BIGINT NOT NULL,
    line_number  BIGINT NOT NULL,
    raw          VARCHAR NOT NULL      -- JSON object of the original values, or the raw text of an unparseable line
);

-- What the landing scan last saw of each file (size and mtime of it and its manifest), so
-- unchanged files are skipped without hashing them again.
CREATE TABLE IF NOT EXISTS ingest.landing_files (
    path         VARCHAR PRIMARY KEY,
    fingerprint  VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    seen_at      TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS staging.household_events (
    event_id VARCHAR,
    id_number VARCHAR,
    name VARCHAR,
    gender VARCHAR,
    birth_date DATE,
    ethnicity VARCHAR,
    district_code VARCHAR,
    event_type VARCHAR,
    event_date DATE,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.death_records (
    record_id VARCHAR,
    id_number VARCHAR,
    death_date DATE,
    district_code VARCHAR,
    cause_category VARCHAR,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.marriage_registrations (
    registration_no VARCHAR,
    party1_id_number VARCHAR,
    party2_id_number VARCHAR,
    registration_type VARCHAR,
    registration_date DATE,
    district_code VARCHAR,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.insurance_events (
    event_id VARCHAR,
    id_number VARCHAR,
    employer_uscc VARCHAR,
    event_type VARCHAR,
    event_date DATE,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.entity_events (
    event_id VARCHAR,
    uscc VARCHAR,
    name VARCHAR,
    entity_type VARCHAR,
    legal_rep_id_number VARCHAR,
    registered_capital DECIMAL(20, 4),
    industry_section VARCHAR,
    district_code VARCHAR,
    event_type VARCHAR,
    event_date DATE,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.certificate_events (
    event_id VARCHAR,
    certificate_no VARCHAR,
    certificate_type VARCHAR,
    holder_type VARCHAR,
    holder_id VARCHAR,
    issuer VARCHAR,
    valid_from DATE,
    valid_to DATE,
    event_type VARCHAR,
    event_date DATE,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.certificate_usage (
    usage_id VARCHAR,
    certificate_no VARCHAR,
    used_at TIMESTAMP,
    service_code VARCHAR,
    channel VARCHAR,
    district_code VARCHAR,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE TABLE IF NOT EXISTS staging.service_requests (
    event_id VARCHAR,
    ticket_no VARCHAR,
    event_type VARCHAR,
    event_time TIMESTAMP,
    district_code VARCHAR,
    category VARCHAR,
    channel VARCHAR,
    handler VARCHAR,
    due_at TIMESTAMP,
    satisfaction INTEGER,
    caller_id_number VARCHAR,
    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...
    _line BIGINT NOT NULL          -- ... and data row it came from
);
CREATE OR REPLACE VIEW ingest.live_deliveries AS SELECT * FROM ingest.deliveries WHERE status IN ('accepted', 'partial');
-- libraries (warehouse/libraries/schema.sql, each library's schema.sql and live views: warehouse/libraries/build.py)
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
-- 人口综合库 population: history keeps every version of a record with the delivery and line that
-- produced it; the current-state table holds the latest version, fused with other departments.
-- Its live_<feed> views are generated from the library's declared feeds (build.py).
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
CREATE OR REPLACE VIEW population.live_household_events AS SELECT s.* FROM staging.household_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_death_records AS SELECT s.* FROM staging.death_records s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_marriage_registrations AS SELECT s.* FROM staging.marriage_registrations s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW population.live_insurance_events AS SELECT s.* FROM staging.insurance_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
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
CREATE OR REPLACE VIEW e_certificate.live_certificate_events AS SELECT s.* FROM staging.certificate_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
CREATE OR REPLACE VIEW e_certificate.live_certificate_usage AS SELECT s.* FROM staging.certificate_usage s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
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
CREATE OR REPLACE VIEW legal_person.live_entity_events AS SELECT s.* FROM staging.entity_events s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
-- 12345热线专题库 citizens' requests: ticket_history keeps every step of every ticket with the
-- delivery and line it came from; tickets holds each ticket's state after its latest step.
-- Its live_<feed> view is generated from the library's declared feed (build.py).
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
CREATE OR REPLACE VIEW service.live_service_requests AS SELECT s.* FROM staging.service_requests s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;
-- marts (warehouse/marts/indicators/compute.py, alerts.py, forecasts.py; the city score's tables,
-- recomputed whole by every refresh, are left out)
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.indicator_values (
    indicator_id VARCHAR NOT NULL, date DATE NOT NULL, district_code VARCHAR NOT NULL,
    value DOUBLE, numerator DOUBLE, denominator DOUBLE
);
CREATE TABLE IF NOT EXISTS marts.indicator_catalog (
    indicator_id VARCHAR PRIMARY KEY, name_zh VARCHAR, name_en VARCHAR, unit VARCHAR, domain VARCHAR,
    owner VARCHAR, kind VARCHAR, direction VARCHAR, scope VARCHAR, target DOUBLE, warn DOUBLE, critical DOUBLE,
    anomaly BOOLEAN, definition VARCHAR, score VARCHAR, alerts_to VARCHAR, definition_zh VARCHAR, forecast BOOLEAN,
    signed BOOLEAN, feeds VARCHAR[]
);
CREATE TABLE IF NOT EXISTS meta.mart_builds (built_at TIMESTAMP, last_delivery_id BIGINT, first_day DATE, last_day DATE, seconds DOUBLE);
-- Days whose indicators must be recomputed, until the indicator asset has done so.
CREATE TABLE IF NOT EXISTS meta.indicator_pending (first_day DATE, last_day DATE, last_delivery_id BIGINT);
-- For those days, per feed, the earliest day its changed deliveries touch (NULL: none changed);
-- no rows: every indicator over every pending day. A flow is recomputed from its own feeds' day.
CREATE TABLE IF NOT EXISTS meta.indicator_pending_feeds (feed VARCHAR, first_day DATE);
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.alerts (
    alert_id VARCHAR PRIMARY KEY, rule_id VARCHAR NOT NULL, severity VARCHAR NOT NULL, date DATE NOT NULL,
    district_code VARCHAR NOT NULL, subject VARCHAR NOT NULL, status VARCHAR NOT NULL, message VARCHAR NOT NULL,
    owner_role VARCHAR NOT NULL, owner_scope VARCHAR,
    first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL, resolved_at TIMESTAMP,
    acknowledged_at TIMESTAMP, acknowledged_by VARCHAR, ack_comment VARCHAR
);
-- Messages are a template and its parameters, rendered in the reader's language
-- (warehouse.contract.labels); ``message`` keeps the English text for other tools. Added to
-- warehouses made before.
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS message_key VARCHAR;
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS message_params JSON;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.forecasts (
    indicator_id VARCHAR NOT NULL, district_code VARCHAR NOT NULL, issued_on DATE NOT NULL, date DATE NOT NULL,
    mean DOUBLE NOT NULL, lo80 DOUBLE NOT NULL, hi80 DOUBLE NOT NULL, lo95 DOUBLE NOT NULL, hi95 DOUBLE NOT NULL,
    method VARCHAR NOT NULL, history_days INTEGER NOT NULL
);
