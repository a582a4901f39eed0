"""The indicators' figures: the overview's key indicators, scores and requests by category, the
explorer's series, forecasts and each indicator's history. Aggregates: every reader allowed
the page sees the same (a district's users are kept to their areas by the page, scope.areas_for)."""

from __future__ import annotations

import pandas as pd

from cockpit.data.reference import info
from cockpit.data.snapshot import query, shared
from warehouse.marts.indicators.catalog import catalog, overview


def kpis(area: str) -> pd.DataFrame:
    """Latest value of each key indicator (those the catalog gives a card on the overview, in
    its order) for one area (city-wide ones for the city), the value a week before, and the
    last 30 days for a sparkline."""
    city = info().get("city_code", "")
    # Which indicators have a card, and in what order, is the code's catalog (bound, as values):
    # a past day's snapshot, published by an earlier version, may lack the catalog's newer
    # columns; its values and names are read from the snapshot.
    cards = tuple(i.id for i in overview())
    return shared("kpis",
        """WITH c AS (SELECT *, CASE WHEN scope = 'city' THEN ? ELSE ? END AS area, list_position(?, indicator_id) AS position
                      FROM indicator_catalog WHERE indicator_id IN (SELECT unnest(?))),
                v AS (SELECT v.* FROM indicator_values v JOIN c ON c.indicator_id = v.indicator_id AND v.district_code = c.area),
                last AS (SELECT max(date) AS d FROM v)
           SELECT c.position, c.indicator_id, c.name_zh, c.name_en, c.unit, c.direction, c.area, cur.value, prev.value AS week_before,
                  list(h.value ORDER BY h.date) AS history, list(h.date ORDER BY h.date) AS history_dates
           FROM c
           LEFT JOIN v cur ON cur.indicator_id = c.indicator_id AND cur.date = (SELECT d FROM last)
           LEFT JOIN v prev ON prev.indicator_id = c.indicator_id AND prev.date = (SELECT d FROM last) - 7
           LEFT JOIN v h ON h.indicator_id = c.indicator_id AND h.date > (SELECT d FROM last) - 30
           GROUP BY ALL ORDER BY c.position""",
        (city, area, cards, cards),
    )


def requests_by_category(area: str, days: int = 7) -> pd.DataFrame:
    """Citizens' requests of the last ``days`` days of data by category, most first."""
    ids, categories = by_dimension("svc.requests.{code}", "category")
    return shared("requests_by_category",
        """WITH last AS (SELECT max(date) AS d FROM indicator_values WHERE indicator_id = 'svc.requests'),
                c AS (SELECT unnest(?) AS indicator_id, unnest(?) AS category)
           SELECT c.category, sum(v.value) AS requests
           FROM indicator_values v JOIN c USING (indicator_id)
           WHERE v.district_code = ? AND v.date > (SELECT d FROM last) - ?
           GROUP BY ALL HAVING sum(v.value) > 0 ORDER BY requests DESC""",
        (ids, categories, area, days),
    )


def by_dimension(template: str, dimension: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The indicators the code's catalog expands from ``template`` and, for each, its code of
    ``dimension`` (two tuples, in catalog order), bound by the queries that break a figure down:
    the snapshot's own catalog need not carry templates or dimensions (one published by an
    earlier version does not)."""
    pairs = [(i.id, i.dimensions[dimension]) for i in catalog() if i.template == template]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


PERIODS = ("day", "week", "month", "quarter")


def scores(area: str) -> pd.DataFrame:
    """The latest score of each family (vital, sharing) and period, day first, with the days it covers."""
    return shared("scores",
        """SELECT family, period, period_start, first_day, last_day, score, indicators, weakest_indicator, strongest_indicator
            FROM city_score WHERE district_code = ?
            QUALIFY row_number() OVER (PARTITION BY family, period ORDER BY period_start DESC) = 1
            ORDER BY family DESC, list_position(?, period)""",
        (area, PERIODS),
    )


def contributors(area: str) -> pd.DataFrame:
    """The indicators behind each family's latest day score for one area: value, target, unit,
    direction and each one's score (1.0 = on target), for the top and bottom contributors."""
    return shared("contributors",
        """SELECT s.family, s.indicator_id, s.value, s.target, s.score, c.unit, c.direction
           FROM indicator_scores s JOIN indicator_catalog c USING (indicator_id)
           WHERE s.district_code = ? AND s.period = 'day'
           QUALIFY s.period_start = max(s.period_start) OVER (PARTITION BY s.family)
           ORDER BY s.family DESC, s.score, s.indicator_id""",
        (area,),
    )


def district_scores() -> pd.DataFrame:
    """Each district's vital signs score of the latest day (NULL where it has none), with that day."""
    return shared("district_scores",
        """WITH latest AS (SELECT max(period_start) AS day FROM city_score WHERE period = 'day' AND family = 'vital')
           SELECT d.district_code, d.name, d.name_en, d.tile_row, d.tile_col, s.score, (SELECT day FROM latest) AS day
           FROM districts d LEFT JOIN city_score s ON s.district_code = d.district_code AND s.period = 'day'
                AND s.family = 'vital' AND s.period_start = (SELECT day FROM latest)
           ORDER BY d.district_code"""
    )


def series(indicators: list[str], areas: list[str], start: str | None, end: str | None) -> pd.DataFrame:
    """Each day's value of the given indicators in the given areas between ``start`` and ``end`` (either open)."""
    return query("series",
        """SELECT v.indicator_id, v.date, v.district_code, v.value FROM indicator_values v
           WHERE v.indicator_id IN (SELECT unnest(?)) AND v.district_code IN (SELECT unnest(?))
             AND v.date BETWEEN coalesce(CAST(? AS DATE), DATE '1900-01-01') AND coalesce(CAST(? AS DATE), DATE '2999-12-31')
           ORDER BY 1, 3, 2""",
        [indicators, areas, start, end],
    )


def forecasts(indicators: list[str], areas: list[str]) -> pd.DataFrame:
    """The latest issue's forecasts (mean, 80% and 95% bounds per day ahead) of the given
    indicators and areas; empty where an indicator is not forecast."""
    return shared("forecasts",
        """SELECT indicator_id, district_code, issued_on, date, mean, lo80, hi80, lo95, hi95 FROM forecasts
           WHERE issued_on = (SELECT max(issued_on) FROM forecasts)
             AND indicator_id IN (SELECT unnest(?)) AND district_code IN (SELECT unnest(?))
           ORDER BY indicator_id, district_code, date""",
        (tuple(indicators), tuple(areas)),
    )


def history(indicator: str, area: str) -> pd.DataFrame:
    """Every day's value of one indicator in one area, oldest first."""
    return shared("history", "SELECT date, value FROM indicator_values WHERE indicator_id = ? AND district_code = ? ORDER BY date",
                   (indicator, area))
