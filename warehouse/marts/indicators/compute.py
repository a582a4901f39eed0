"""Compute ``marts.indicator_values`` for a range of days, every district plus city-wide
(which days, and from which day each indicator, is planned in ``plan.py``).

Each indicator's SQL returns (day, district_code, num, den) for the days in ``cb_days``.
Counts are summed for the city (rows whose district is unknown count city-wide only);
ratios are sum(num) ÷ sum(den). Districts with no rows get 0 for counts, except for a flow
on a day one of its feeds did not deliver: that value never arrived, so it is NULL.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources

import duckdb

from warehouse.contract.city import load_city
from warehouse.contract.feeds import FEED_TABLE, load_feed_table
from warehouse.marts.indicators.catalog import Indicator, catalog, write_catalog
from warehouse.marts.indicators.plan import clear_pending, data_days, dirty_range, flow_firsts, own_firsts, pending_since
from warehouse.storage.sql import Sql, quote_ident, read_sql

_HERE = resources.files(__package__)
_SQL = _HERE / "sql"

# A named parameter in an indicator's SQL ($city, $handler, ...): bound, never spliced.
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


def _prepare(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime,
             flow_first: dict[str, dt.date]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE cb_days AS SELECT CAST(d AS DATE) AS day FROM range(?::DATE, ?::DATE + 1, INTERVAL 1 DAY) t(d)",
                [first, last])
    # Per feed, the first day its flows are recomputed (what a shared file reading a large feed
    # may limit itself to, as _holder_uses.sql does).
    con.execute("CREATE OR REPLACE TEMP TABLE cb_flow_first (feed VARCHAR, first_day DATE)")
    con.executemany("INSERT INTO cb_flow_first VALUES (?, ?)", list(flow_first.items()))
    # What several indicators share: files named _*.sql, run before any indicator.
    for shared in sorted(f for f in _SQL.iterdir() if f.name.startswith("_") and f.name.endswith(".sql")):
        con.execute(shared.read_text(encoding="utf-8"))
    load_feed_table(con)
    # A feed is due for D once its deadline has passed on the refresh's clock.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_feed_due AS
           SELECT d.day, f.department, f.feed,
                  EXISTS (SELECT 1 FROM ingest.live_deliveries l
                          WHERE l.department = f.department AND l.feed = f.feed AND l.business_date = d.day
                            AND l.arrived_at <= cb_due_at(d.day, f.deadline_hours)) AS on_time
           FROM cb_days d, {FEED_TABLE} f
           WHERE cb_due_at(d.day, f.deadline_hours) <= ?""",
        [as_of],
    )


def compute(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime,
            since: dict[str, dt.date | None] | None = None) -> int:
    """Recompute the indicators for ``first``..``last`` (flows from their own feeds' days when
    ``since`` says which feeds changed from when: :func:`plan.own_firsts`); returns the rows written."""
    city = load_city()
    own = own_firsts(con, first, last, since)
    _prepare(con, first, last, as_of, flow_firsts(own, first))
    con.execute("CREATE OR REPLACE TEMP TABLE cb_districts (district_code VARCHAR)")
    con.executemany("INSERT INTO cb_districts VALUES (?)", [(d,) for d in city.district_codes])
    con.execute("CREATE OR REPLACE TEMP TABLE cb_values (indicator_id VARCHAR, date DATE, district_code VARCHAR, value DOUBLE, numerator DOUBLE, denominator DOUBLE)")
    con.execute("CREATE OR REPLACE TEMP TABLE cb_recomputed (indicator_id VARCHAR, first_day DATE)")
    delivered: dict[tuple[str, ...], str] = {}  # feeds -> table of the days they all delivered
    for ind in catalog():
        since_day = own[ind.id]
        if since_day > last:
            continue  # a flow none of whose feeds changed, with a value on every day already
        con.execute("INSERT INTO cb_recomputed VALUES (?, ?)", [ind.id, since_day])
        if ind.feeds and ind.feeds not in delivered:
            delivered[ind.feeds] = _delivered_days(con, ind.feeds)
        _raw(con, ind, city.code)
        value = "sum(num)" if ind.kind == "count" else "sum(num) / nullif(sum(den), 0)"
        # A count with no row is 0, unless the feed it counts from did not deliver that day:
        # then the value never arrived and stays NULL (CONTRACT §4).
        fill = "NULL" if ind.kind != "count" else (f"CASE WHEN d.day IN (SELECT day FROM {delivered[ind.feeds]}) THEN 0 END"
                                                   if ind.feeds else "0")
        con.execute(
            f"""INSERT INTO cb_values
                SELECT $indicator, d.day, $city, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                FROM cb_days d LEFT JOIN cb_raw r ON r.day = d.day WHERE d.day >= $since GROUP BY d.day""",
            {"indicator": ind.id, "city": city.code, "since": since_day},
        )
        if ind.scope == "district":
            con.execute(
                f"""INSERT INTO cb_values
                    SELECT $indicator, d.day, k.district_code, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                    FROM cb_days d CROSS JOIN cb_districts k
                    LEFT JOIN cb_raw r ON r.day = d.day AND r.district_code = k.district_code
                    WHERE d.day >= $since
                    GROUP BY d.day, k.district_code""",
                {"indicator": ind.id, "since": since_day},
            )
    return _write(con, last)


def _raw(con: duckdb.DuckDBPyConnection, ind: Indicator, city: str) -> None:
    """Run one indicator's SQL into ``cb_raw`` (day, district_code, num, den). The SQL names its
    parameters ($city, and those of its catalog entry): bound, never spliced."""
    sql = read_sql(ind.sql_file)
    given = {"city": city, **ind.params}
    con.execute(f"CREATE OR REPLACE TEMP TABLE cb_raw AS {sql}", {k: given[k] for k in _PARAM.findall(_COMMENT.sub("", sql))})


def _write(con: duckdb.DuckDBPyConnection, last: dt.date) -> int:
    """Replace each recomputed indicator's values from its first recomputed day to ``last`` with
    those computed (``cb_values``), and the catalog's copy the scores, alerts and snapshot read
    beside them with the catalog they were computed from, in one transaction; returns the rows
    written."""
    con.execute("BEGIN TRANSACTION")
    try:
        write_catalog(con)
        con.execute("""DELETE FROM marts.indicator_values v USING cb_recomputed r
                       WHERE v.indicator_id = r.indicator_id AND v.date BETWEEN r.first_day AND ?""", [last])
        con.execute("INSERT INTO marts.indicator_values SELECT * FROM cb_values")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM cb_values").fetchone()[0]


def compute_range(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """Compute the days of ``first``..``last`` that hold data, and clear what they cover from pending."""
    span = data_days(con)
    if span is None:
        return None
    lo, hi = max(first, span[0]), min(last, span[1])
    if lo > hi:
        return None
    compute(con, lo, hi, as_of, pending_since(con, first, last))
    clear_pending(con, lo, hi)
    return lo, hi


def refresh(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, *, full: bool = False) -> tuple[dt.date, dt.date] | None:
    """Find the dirty days and compute them, in one go (what ``citybrain refresh`` amounts to)."""
    span = dirty_range(con, full=full)
    return None if span is None else compute_range(con, span[0], span[1], as_of)


def _delivered_days(con: duckdb.DuckDBPyConnection, feeds: tuple[str, ...]) -> Sql:
    """A temp table of the days of ``cb_days`` on which every feed of ``feeds`` has a live delivery (its quoted name)."""
    name = quote_ident("cb_delivered_" + "_".join(f.replace("/", "__") for f in feeds))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT d.day FROM cb_days d JOIN ingest.live_deliveries l ON l.business_date = d.day
            WHERE l.department || '/' || l.feed IN (SELECT unnest(?))
            GROUP BY d.day HAVING count(DISTINCT l.department || '/' || l.feed) = ?""",
        [list(feeds), len(set(feeds))],
    )
    return name
