"""The city score, in the manner of Boston's CityScore.

Each indicator with a target scores actual ÷ target (target ÷ actual where lower is
better), capped to [0, 2]. A period's score for an indicator is the mean of its daily
scores; the city (or district) score is the mean over indicators, per day, ISO week,
month and quarter. ``marts.indicator_scores`` keeps the per-indicator scores for
drill-down to what pulls a score down.
"""

from __future__ import annotations

import duckdb

SCORE_SQL = """
CREATE OR REPLACE TABLE marts.indicator_scores AS
SELECT v.date, v.district_code, v.indicator_id, v.value, c.target,
       least(2.0, greatest(0.0, CASE WHEN c.direction = 'higher' THEN v.value / c.target
                                     ELSE c.target / nullif(v.value, 0) END)) AS score
FROM marts.indicator_values v JOIN marts.indicator_catalog c USING (indicator_id)
WHERE c.target IS NOT NULL AND v.value IS NOT NULL
  AND NOT (c.direction = 'lower' AND v.value = 0);  -- nothing to score against (e.g. no rejections)

CREATE OR REPLACE TABLE marts.city_score AS
WITH periods AS (
    SELECT *, 'day' AS period, date AS period_start FROM marts.indicator_scores
    UNION ALL SELECT *, 'week', CAST(date_trunc('week', date) AS DATE) FROM marts.indicator_scores
    UNION ALL SELECT *, 'month', CAST(date_trunc('month', date) AS DATE) FROM marts.indicator_scores
    UNION ALL SELECT *, 'quarter', CAST(date_trunc('quarter', date) AS DATE) FROM marts.indicator_scores
),
per_indicator AS (
    -- Averaged as exact decimals: a parallel sum of doubles differs in its last bit from run to
    -- run, which moved scores (and which of two equal scores is weakest) between refreshes.
    SELECT period, period_start, district_code, indicator_id, CAST(round(avg(CAST(score AS DECIMAL(18, 12))), 9) AS DOUBLE) AS score
    FROM periods GROUP BY ALL
)
SELECT period, period_start, district_code, CAST(avg(CAST(score AS DECIMAL(18, 12))) AS DOUBLE) AS score, count(*) AS indicators,
       arg_min(indicator_id, (score, indicator_id)) AS weakest_indicator
FROM per_indicator GROUP BY ALL;
"""


def compute_scores(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the score tables from the indicator values; returns the city-score rows."""
    con.execute(SCORE_SQL)
    return con.execute("SELECT count(*) FROM marts.city_score").fetchone()[0]
