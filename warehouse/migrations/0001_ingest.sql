-- Ingestion: the ledger of deliveries, rejected rows and their reasons, the landing scan's
-- memory (CONTRACT §4 names plus the project's extra columns). IF NOT EXISTS throughout: a
-- warehouse made before migrations were recorded keeps its tables. The staging tables, one
-- per feed, are not written here: they are generated from the contract
-- (warehouse.ingest.schema.staging_ddl), so a feed's columns are declared once.
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

-- The deliveries whose rows count: accepted whole or in part.
CREATE OR REPLACE VIEW ingest.live_deliveries AS
SELECT * FROM ingest.deliveries WHERE status IN ('accepted', 'partial');
