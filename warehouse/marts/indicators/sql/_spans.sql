-- (not an indicator) How many spans [s, e) are open at the end of each day of cb_days, per
-- district: `spans` names a relation (a CTE will do) of (district_code, s, e), e NULL for a
-- span still open. A stock counted this way costs one pass over its spans, where joining
-- every span with every day cost spans × days (30 days of 21M certificate versions at city
-- scale). Spans over before the first day, or starting after the last, count for no day.
CREATE OR REPLACE TEMP MACRO cb_spans_open(spans) AS TABLE
WITH bounds AS (SELECT min(day) AS first_day, max(day) AS last_day FROM cb_days),
live AS (
    SELECT district_code, s, e FROM query_table(spans), bounds
    WHERE s <= last_day AND (e IS NULL OR (e > s AND e > first_day))
),
edges AS (
    SELECT district_code, greatest(s, first_day) AS day, 1 AS n FROM live, bounds
    UNION ALL
    SELECT district_code, e, -1 FROM live WHERE e IS NOT NULL
),
per_day AS (SELECT district_code, day, sum(n) AS n FROM edges, bounds WHERE day <= last_day GROUP BY ALL)
SELECT d.day, p.district_code, sum(p.n) AS num, NULL AS den
FROM cb_days d JOIN per_day p ON p.day <= d.day
GROUP BY ALL;
