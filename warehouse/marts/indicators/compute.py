"""Compute ``marts.indicator_values`` for a range of days, every district plus city-wide.

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
from warehouse.contract.feeds import FEEDS
from warehouse.ingest.schema import staging_table
from warehouse.marts.indicators.catalog import catalog
from warehouse.storage.sql import quote_ident

_HERE = resources.files(__package__)
_SQL = _HERE / "sql"

# A named parameter in an indicator's SQL ($city, $handler, ...): bound, never spliced.
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Copy the catalog into ``marts.indicator_catalog`` (its columns are the warehouse's
    migrations: a new catalog field is a new numbered migration and a column here)."""
    con.execute("DELETE FROM marts.indicator_catalog")
    con.executemany(
        "INSERT INTO marts.indicator_catalog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(i.id, i.name_zh, i.name_en, i.unit, i.domain, i.owner, i.kind, i.direction, i.scope, i.target, i.warn,
          i.critical, i.anomaly, i.definition(), i.score, i.alerts_to, i.definition_zh, i.forecast, i.signed, list(i.feeds),
          list(i.reads), i.flow, i.dimensions, i.overview, i.template)
         for i in catalog()],
    )


def data_days(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """The days indicators cover: from the earliest date in the data to the last business date.

    Events may be back-dated (an event dated 10-15 delivered on 11-02), also to before the
    first business date: those dates are in the data too. The initial load (deliveries of
    the first business date) is the libraries' starting state, decades of certificates and
    entities: its history does not open indicator days before it.
    """
    row = con.execute("SELECT min(business_date), max(business_date) FROM ingest.live_deliveries").fetchone()
    if row[0] is None:
        return None
    earliest = _earliest_event_in(con, "SELECT delivery_id FROM ingest.live_deliveries WHERE business_date > ?", [row[0]])
    return (min(row[0], earliest) if earliest is not None else row[0]), row[1]


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
    con.execute("CREATE OR REPLACE TEMP TABLE cb_feeds (department VARCHAR, feed VARCHAR, deadline_hours INTEGER)")
    con.executemany("INSERT INTO cb_feeds VALUES (?, ?, ?)", [(f.department, f.name, f.deadline_hours) for f in FEEDS])
    # A feed is due for D once its deadline has passed on the refresh's clock.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE cb_feed_due AS
           SELECT d.day, f.department, f.feed,
                  EXISTS (SELECT 1 FROM ingest.live_deliveries l
                          WHERE l.department = f.department AND l.feed = f.feed AND l.business_date = d.day
                            AND l.arrived_at <= d.day + to_hours(f.deadline_hours)) AS on_time
           FROM cb_days d, cb_feeds f
           WHERE d.day + to_hours(f.deadline_hours) <= ?""",
        [as_of],
    )


def _own_firsts(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date,
                since: dict[str, dt.date | None] | None) -> dict[str, dt.date]:
    """The first day of ``first``..``last`` each indicator is recomputed from.

    A flow (an indicator whose catalog entry names its ``feeds``) counts the rows dated each
    day: only the days its own feeds' changes touch (``since``: per feed, the earliest, None for
    unchanged), and the days it has no value for yet, can change. Every other indicator (a
    stock, a rate over earlier days, a sharing figure the clock moves) starts at ``first``; so
    does every indicator when ``since`` is None (a backfill, a full recomputation).
    """
    if since is None:
        return {ind.id: first for ind in catalog()}
    have = dict(con.execute("SELECT indicator_id, max(date) FROM marts.indicator_values WHERE date BETWEEN ? AND ? GROUP BY 1",
                            [first, last]).fetchall())
    out = {}
    for ind in catalog():
        if not ind.feeds:
            out[ind.id] = first
            continue
        fresh = have[ind.id] + dt.timedelta(days=1) if have.get(ind.id) else first
        out[ind.id] = max(first, min([fresh, *(since[f] for f in ind.feeds if since.get(f) is not None)]))
    return out


def compute(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime,
            since: dict[str, dt.date | None] | None = None) -> int:
    """Recompute the indicators for ``first``..``last`` (flows from their own feeds' days when
    ``since`` says which feeds changed from when: :func:`_own_firsts`); returns the rows written."""
    ensure_schema(con)
    city = load_city()
    own = _own_firsts(con, first, last, since)
    flow_first = {f.id: min((own[i.id] for i in catalog() if f.id in i.feeds), default=first) for f in FEEDS}
    _prepare(con, first, last, as_of, flow_first)
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
        # The indicator's SQL names its parameters ($city, and those of its catalog entry).
        sql = ind.sql_file.read_text(encoding="utf-8")
        given = {"city": city.code, **ind.params}
        con.execute(f"CREATE OR REPLACE TEMP TABLE cb_raw AS {sql}", {k: given[k] for k in _PARAM.findall(_COMMENT.sub("", sql))})
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
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""DELETE FROM marts.indicator_values v USING cb_recomputed r
                       WHERE v.indicator_id = r.indicator_id AND v.date BETWEEN r.first_day AND ?""", [last])
        con.execute("INSERT INTO marts.indicator_values SELECT * FROM cb_values")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM cb_values").fetchone()[0]


def dirty_range(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> tuple[dt.date, dt.date] | None:
    """The days the deliveries since the last look can change, merged with days still pending.

    A change dated D can move stock indicators (registered residents, valid certificates)
    on every later day, so the range runs from the earliest touched date to the last day
    of data; the days before it keep their values (all days when the catalog gained an
    indicator). The range stays pending in
    ``meta.indicator_pending`` until :func:`compute` covers it, so two refreshes in a row
    before the indicators run lose nothing. Returns None when there is no data at all.
    """
    ensure_schema(con)
    span = data_days(con)
    if span is None:
        return None
    first, last = span
    prev = con.execute("SELECT max(last_delivery_id) FROM meta.mart_builds").fetchone()[0]
    top = con.execute("SELECT coalesce(max(delivery_id), 0) FROM ingest.deliveries").fetchone()[0]
    # An indicator new to the catalog has no history yet: compute every day.
    computed = {r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM marts.indicator_values").fetchall()}
    full = full or (prev is not None and not {i.id for i in catalog()} <= computed)
    feed_firsts: dict[str, dt.date | None] | None = None  # None: every indicator over every day
    if not full and prev is not None:
        feed_firsts = _feed_firsts(con, prev)
        # The clock moves on too: feeds whose 30-hour deadline passed since then change on-time rates.
        candidates = [d for d in (*feed_firsts.values(), last - dt.timedelta(2)) if d is not None]
        first = max(first, min(candidates))
    pending = con.execute("SELECT min(first_day) FROM meta.indicator_pending").fetchone()[0]
    if pending is not None:
        first = min(first, pending)
        earlier = dict(con.execute("SELECT feed, first_day FROM meta.indicator_pending_feeds").fetchall())
        # Days still pending from a refresh whose indicators did not run: their feeds' days too
        # (none recorded: that refresh wanted every indicator recomputed).
        if feed_firsts is not None:
            feed_firsts = {f: _earliest(day, earlier.get(f)) for f, day in feed_firsts.items()} if earlier else None
    con.execute("DELETE FROM meta.indicator_pending")
    con.execute("DELETE FROM meta.indicator_pending_feeds")
    con.execute("INSERT INTO meta.indicator_pending VALUES (?, ?, ?)", [first, last, top])
    if feed_firsts is not None:
        con.executemany("INSERT INTO meta.indicator_pending_feeds VALUES (?, ?)", list(feed_firsts.items()))
    con.execute("INSERT INTO meta.mart_builds VALUES (?, ?, ?, ?, ?)", [dt.datetime.now(), top, first, last, None])
    return first, last


def compute_range(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """Compute the days of ``first``..``last`` that hold data, and clear what they cover from pending."""
    ensure_schema(con)
    span = data_days(con)
    if span is None:
        return None
    lo, hi = max(first, span[0]), min(last, span[1])
    if lo > hi:
        return None
    # The range a refresh marked, as it marked it: its flows from their own feeds' days. Any
    # other range (a backfill from the UI) recomputes every indicator on every day.
    pending = con.execute("SELECT first_day, last_day FROM meta.indicator_pending").fetchall()
    feeds = dict(con.execute("SELECT feed, first_day FROM meta.indicator_pending_feeds").fetchall())
    since = feeds if feeds and pending == [(first, last)] else None
    compute(con, lo, hi, as_of, since)
    con.execute("DELETE FROM meta.indicator_pending WHERE first_day >= ? AND last_day <= ?", [lo, hi])
    if not con.execute("SELECT count(*) FROM meta.indicator_pending").fetchone()[0]:
        con.execute("DELETE FROM meta.indicator_pending_feeds")
    return lo, hi


def refresh(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, *, full: bool = False) -> tuple[dt.date, dt.date] | None:
    """Find the dirty days and compute them, in one go (what ``citybrain refresh`` amounts to)."""
    span = dirty_range(con, full=full)
    return None if span is None else compute_range(con, span[0], span[1], as_of)


def _delivered_days(con: duckdb.DuckDBPyConnection, feeds: tuple[str, ...]) -> str:
    """A temp table of the days of ``cb_days`` on which every feed of ``feeds`` has a live delivery."""
    name = "cb_delivered_" + "_".join(f.replace("/", "__") for f in feeds)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT d.day FROM cb_days d JOIN ingest.live_deliveries l ON l.business_date = d.day
            WHERE l.department || '/' || l.feed IN (SELECT unnest(?))
            GROUP BY d.day HAVING count(DISTINCT l.department || '/' || l.feed) = ?""",
        [list(feeds), len(set(feeds))],
    )
    return name


# The deliveries ingested or superseded since ledger position $prev.
_CHANGED_SINCE = "SELECT delivery_id FROM ingest.deliveries WHERE delivery_id > $prev OR superseded_by > $prev"


def _feed_firsts(con: duckdb.DuckDBPyConnection, prev: int) -> dict[str, dt.date | None]:
    """Per feed, the earliest day its deliveries changed since ``prev`` touch: their business
    date or an event date in their rows, whichever is earlier (None: nothing changed)."""
    touched = dict(con.execute(
        f"SELECT department || '/' || feed, min(business_date) FROM ingest.deliveries WHERE delivery_id IN ({_CHANGED_SINCE}) GROUP BY 1",
        {"prev": prev},
    ).fetchall())
    events = _earliest_events(con, _CHANGED_SINCE, {"prev": prev})
    return {f.id: _earliest(touched.get(f.id), events.get(f.id)) for f in FEEDS}


def _earliest_events(con: duckdb.DuckDBPyConnection, changed: str, params: list | dict) -> dict[str, dt.date | None]:
    """Per feed, the earliest event date in staged rows of the deliveries ``changed`` selects
    (a query of delivery ids, with its bound ``params``), by the feed's event day column.

    A certificate event's validity dates do not count: it opens a version of the certificate
    on its own event date (e_certificate.certificate_history), which every certificate
    indicator reads, so it moves no day before that. (Counting them sent every daily refresh
    back to the first day: each cancellation carries its certificate's years-old start.)
    """
    # The deliveries once in a temporary table that each feed's part reads; a part is known by
    # its position, so no feed id is written into the text.
    con.execute(f"CREATE OR REPLACE TEMP TABLE cb_event_deliveries AS {changed}", params)
    parts = [f"SELECT {n}, min(CAST({quote_ident(f.event_day_column)} AS DATE)) FROM {staging_table(f)} "
             "WHERE _delivery_id IN (SELECT delivery_id FROM cb_event_deliveries)" for n, f in enumerate(FEEDS)]
    return {FEEDS[n].id: day for n, day in con.execute(" UNION ALL ".join(parts)).fetchall()}


def _earliest(*days: dt.date | None) -> dt.date | None:
    """The earliest of ``days`` that are known (None if none is)."""
    return min((d for d in days if d is not None), default=None)


def _earliest_event_in(con: duckdb.DuckDBPyConnection, changed: str, params: list | dict) -> dt.date | None:
    """The earliest event date in staged rows of the deliveries ``changed`` selects, any feed."""
    return _earliest(*_earliest_events(con, changed, params).values())
