"""From an indicator's value to its source: the deliveries behind a value, how a value relates
to deliveries, and the days its feeds delivered nothing usable (files and counts, no row)."""

from __future__ import annotations

import pandas as pd

from cockpit.data.reference import info
from cockpit.data.snapshot import shared


def sources(indicator: str, area: str, day: str) -> pd.DataFrame:
    """The deliveries behind one indicator's value on ``day`` in ``area`` (the lineage the
    snapshot carries, warehouse/marts/lineage.py): for flows, stocks and rates, the live
    deliveries with accepted rows dated that day in that area (``rows_that_day``; rows of
    feeds that carry no district are counted city-wide, ``city_wide``); for the departments'
    sharing figures, the deliveries of that business date. Files and counts only, no row."""
    return shared("sources",
        """WITH f AS (SELECT department, feed, basis FROM indicator_feeds WHERE indicator_id = ?),
                ev AS (SELECT s.delivery_id, sum(s.rows) AS rows_that_day, bool_or(s.district_code IS NULL) AS city_wide
                       FROM value_sources s JOIN f USING (department, feed)
                       WHERE f.basis IN ('event', 'change') AND s.day = CAST(? AS DATE)
                         AND (? = ? OR s.district_code = ? OR s.district_code IS NULL)
                       GROUP BY 1),
                bd AS (SELECT d.delivery_id, d.rows_read AS rows_that_day, FALSE AS city_wide
                       FROM deliveries d JOIN f USING (department, feed)
                       WHERE f.basis = 'business_date' AND d.business_date = CAST(? AS DATE) AND d.status <> 'superseded')
           SELECT d.delivery_id, d.department, d.feed, d.business_date, d.file_name, d.arrived_at, d.status,
                  d.rows_read, d.rows_accepted, d.rows_rejected, x.rows_that_day, x.city_wide
           FROM (SELECT * FROM ev UNION ALL SELECT * FROM bd) x JOIN deliveries d USING (delivery_id)
           ORDER BY d.arrived_at, d.delivery_id""",
        (indicator, day, area, info().get("city_code", ""), area, day),
    )


def basis(indicator: str) -> str | None:
    """How an indicator's value relates to deliveries: 'event', 'change' or 'business_date'
    (warehouse/marts/lineage.py; None: unknown)."""
    df = shared("basis", "SELECT indicator_id, any_value(basis) AS basis FROM indicator_feeds GROUP BY 1")
    hit = df[df.indicator_id == indicator] if not df.empty else df
    return None if hit.empty else hit.basis.iloc[0]


def feeds_not_delivered(feeds: list[str]) -> pd.DataFrame:
    """The days on which any of ``feeds`` ("department/feed") has nothing usable: never arrived
    (``missing``) or every file rejected (``rejected``). Why an indicator counting from them has
    no value that day; the feeds' timeliness holds no rows of any person."""
    if not feeds:
        return pd.DataFrame(columns=["department", "feed", "business_date", "timeliness"])
    return shared("feeds_not_delivered",
        """SELECT department, feed, business_date, timeliness FROM feed_days
           WHERE department || '/' || feed IN (SELECT unnest(?)) AND timeliness IN ('missing', 'rejected')
           ORDER BY business_date, department, feed""",
        (tuple(sorted(feeds)),),
    )
