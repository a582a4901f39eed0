"""Two scores, in the manner of Boston's CityScore: the city's vital signs and data-sharing health.

Each indicator the catalog puts in a score (its ``score`` field) scores actual ÷ target
(target ÷ actual where lower is better; 2 for a zero where lower is better), capped to
[0, 2]: 1.0 means on target. An indicator's score for a day, ISO week, month or quarter is
that of its value over the period (a ratio pooled over the period's days, a count
averaged), so a sparse daily series is not scored by its zeros. A score is the mean over
its indicators, per family:

- ``vital``: how the city serves and grows (12345 on-time closure, satisfaction and
  overdue share; births, net migration and new enterprises per resident; ...);
- ``sharing``: how departments share data (punctuality per department, rejections, ...).

``marts.indicator_scores`` keeps the per-indicator scores behind each score for drill-down;
``marts.city_score`` names the weakest and the strongest indicator of each.
"""

from __future__ import annotations

import duckdb

SCORE_SQL = """
CREATE OR REPLACE TEMP TABLE cb_scored AS
SELECT v.date, v.district_code, c.score AS family, v.indicator_id, c.kind, c.direction, c.target,
       v.value, v.numerator, v.denominator
FROM marts.indicator_values v JOIN marts.indicator_catalog c USING (indicator_id)
WHERE c.score IS NOT NULL AND c.target IS NOT NULL AND v.value IS NOT NULL;

CREATE OR REPLACE TABLE marts.indicator_scores AS
WITH periods AS (
    SELECT *, 'day' AS period, date AS period_start FROM cb_scored
    UNION ALL SELECT *, 'week', CAST(date_trunc('week', date) AS DATE) FROM cb_scored
    UNION ALL SELECT *, 'month', CAST(date_trunc('month', date) AS DATE) FROM cb_scored
    UNION ALL SELECT *, 'quarter', CAST(date_trunc('quarter', date) AS DATE) FROM cb_scored
),
pooled AS (
    SELECT family, period, period_start, min(date) AS first_day, max(date) AS last_day, district_code, indicator_id,
           any_value(direction) AS direction, any_value(target) AS target,
           CASE WHEN any_value(kind) = 'ratio' THEN sum(numerator) / nullif(sum(denominator), 0) ELSE avg(value) END AS value
    FROM periods GROUP BY family, period, period_start, district_code, indicator_id
)
SELECT family, period, period_start, first_day, last_day, district_code, indicator_id, value, target,
       -- Rounded: a parallel sum of doubles differs in its last bit from run to run, which
       -- would move scores (and which of two equal scores is weakest) between refreshes.
       round(least(2.0, greatest(0.0, CASE WHEN direction = 'higher' THEN value / target
                                           WHEN value = 0 THEN 2.0 ELSE target / value END)), 9) AS score
FROM pooled WHERE value IS NOT NULL;

CREATE OR REPLACE TABLE marts.city_score AS
SELECT family, period, period_start, min(first_day) AS first_day, max(last_day) AS last_day, district_code,
       CAST(avg(CAST(score AS DECIMAL(18, 12))) AS DOUBLE) AS score, count(*) AS indicators,
       arg_min(indicator_id, (score, indicator_id)) AS weakest_indicator,
       arg_max(indicator_id, (score, indicator_id)) AS strongest_indicator
FROM marts.indicator_scores GROUP BY family, period, period_start, district_code;
"""


def compute_scores(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the score tables from the indicator values; returns the score rows."""
    con.execute(SCORE_SQL)
    return con.execute("SELECT count(*) FROM marts.city_score").fetchone()[0]
