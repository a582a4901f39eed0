-- The marts: indicator values and the catalog's copy (warehouse/marts/indicators/), the
-- marks of what the indicators still have to compute, alerts and forecasts. The city score's
-- tables are not here: each refresh recomputes them whole from their query (marts/score.py).
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS marts.indicator_values (
    indicator_id VARCHAR NOT NULL, date DATE NOT NULL, district_code VARCHAR NOT NULL,
    value DOUBLE, numerator DOUBLE, denominator DOUBLE
);
-- The catalog file's entries, copied at every computation (catalog.write_catalog).
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

-- Alerts (marts/alerts.py): one row per condition, kept across refreshes.
CREATE TABLE IF NOT EXISTS marts.alerts (
    alert_id VARCHAR PRIMARY KEY, rule_id VARCHAR NOT NULL, severity VARCHAR NOT NULL, date DATE NOT NULL,
    district_code VARCHAR NOT NULL, subject VARCHAR NOT NULL, status VARCHAR NOT NULL, message VARCHAR NOT NULL,
    owner_kind VARCHAR NOT NULL, owner_scope VARCHAR,  -- 'department', 'district' or 'city', and its code
    first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL, resolved_at TIMESTAMP,
    acknowledged_at TIMESTAMP, acknowledged_by VARCHAR, ack_comment VARCHAR
);

-- Forecasts (marts/forecasts.py): every issue's 14 days ahead with 80% and 95% intervals.
CREATE TABLE IF NOT EXISTS marts.forecasts (
    indicator_id VARCHAR NOT NULL, district_code VARCHAR NOT NULL, issued_on DATE NOT NULL, date DATE NOT NULL,
    mean DOUBLE NOT NULL, lo80 DOUBLE NOT NULL, hi80 DOUBLE NOT NULL, lo95 DOUBLE NOT NULL, hi95 DOUBLE NOT NULL,
    method VARCHAR NOT NULL, history_days INTEGER NOT NULL
);
