"""Lineage from a published value back to the deliveries behind it (可追溯).

Every staged row keeps the delivery it came from (``_delivery_id``), and the libraries keep
it on every version of every record (``source_delivery_id``). Two relations, published with
the serving snapshot, let the cockpit walk from an indicator's value on a day in an area to
the files that made it, without any person-level row leaving the warehouse:

- ``indicator_feeds``: the feeds each indicator is computed from, and how a day's value
  relates to their deliveries (``basis``): ``event`` — a flow, counted from the rows dated
  that day; ``change`` — a stock or a rate built on every earlier day, which the rows dated
  that day changed; ``business_date`` — the deliveries of that business date (the
  departments' sharing figures: rows received, rejects, punctuality).
- ``value_sources``: per live delivery, how many of its accepted rows are dated each day in
  each district (NULL district for feeds whose rows carry none: their district comes from a
  library, so they are counted city-wide).
"""

from __future__ import annotations

from warehouse.contract.feeds import FEEDS
from warehouse.ingest.schema import staging_table
from warehouse.libraries.build import feeds_behind
from warehouse.marts.indicators.catalog import Indicator, catalog
from warehouse.storage.sql import Sql, quote_ident

LEDGER = "ingest.deliveries"  # what the departments' sharing figures read: deliveries by business date


def feeds_of(indicator: Indicator) -> tuple[str, tuple[str, ...]]:
    """``(basis, feeds)`` of one indicator, from what its catalog entry ``reads``: a flow's
    feeds (``event``); the ledger's, every feed or its department dimension's own
    (``business_date``); else the feeds behind the library tables and feeds it reads
    (``change``). Raises KeyError for a name that is neither a feed nor a library table."""
    if LEDGER in indicator.reads:
        department = indicator.dimensions.get("department")
        return "business_date", tuple(f.id for f in FEEDS if department in (None, f.department))
    feeds = tuple(dict.fromkeys(f for r in indicator.reads for f in feeds_behind(r)))
    return ("event" if indicator.flow else "change"), feeds


def indicator_feed_rows() -> list[tuple[str, str, str, str]]:
    """(indicator_id, department, feed, basis) for every indicator of the catalog."""
    rows = []
    for ind in catalog():
        basis, feeds = feeds_of(ind)
        rows += [(ind.id, *f.split("/", 1), basis) for f in feeds]
    return rows


def value_sources_sql() -> Sql:
    """Rows of live deliveries per delivery, day and district, for every feed."""
    parts = []
    for f in FEEDS:
        district = "s.district_code" if "district_code" in f.column_names else "CAST(NULL AS VARCHAR)"
        parts.append(
            # The feed's names come from its deliveries' ledger rows: no value in the text.
            f"SELECT d.department, d.feed, s._delivery_id AS delivery_id, "
            f"CAST(s.{quote_ident(f.event_day_column)} AS DATE) AS day, {district} AS district_code, count(*) AS rows "
            f"FROM {staging_table(f)} s JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id GROUP BY ALL")
    return " UNION ALL ".join(parts)


def value_sources_needs() -> tuple[str, ...]:
    """The warehouse relations ``value_sources_sql`` reads."""
    return ("ingest.deliveries", *(f"staging.{f.name}" for f in FEEDS))
