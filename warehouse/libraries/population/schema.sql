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
