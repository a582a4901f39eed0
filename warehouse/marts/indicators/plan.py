"""Which days an indicator computation covers, and from which day each indicator is recomputed.

Indicators cover the days from the earliest date in the data to the last business date
(:func:`data_days`). The days the deliveries since the last look can change are marked
pending (``meta.indicator_pending``, with each feed's earliest touched day) by
:func:`dirty_range` until a computation covers them (:func:`pending_since`,
:func:`clear_pending`). Within those days a flow is recomputed only from the days its own
feeds' changes touch, a stock or a rate from the first (:func:`own_firsts`).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.contract.feeds import FEEDS
from warehouse.ingest.schema import staging_table
from warehouse.marts.indicators.catalog import catalog
from warehouse.storage.sql import Sql, quote_ident


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


def dirty_range(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> tuple[dt.date, dt.date] | None:
    """The days the deliveries since the last look can change, merged with days still pending.

    A change dated D can move stock indicators (registered residents, valid certificates)
    on every later day, so the range runs from the earliest touched date to the last day
    of data; the days before it keep their values (all days when the catalog gained an
    indicator). The range stays pending in
    ``meta.indicator_pending`` until :func:`compute` covers it, so two refreshes in a row
    before the indicators run lose nothing. Returns None when there is no data at all.
    """
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


def pending_since(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> dict[str, dt.date | None] | None:
    """Per feed, the first day its changes touch, when ``first``..``last`` is the range a refresh
    marked, as it marked it (its flows are then recomputed from their own feeds' days); None
    for any other range (a backfill from the UI recomputes every indicator on every day)."""
    pending = con.execute("SELECT first_day, last_day FROM meta.indicator_pending").fetchall()
    feeds = dict(con.execute("SELECT feed, first_day FROM meta.indicator_pending_feeds").fetchall())
    return feeds if feeds and pending == [(first, last)] else None


def clear_pending(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> None:
    """Clear the pending ranges ``first``..``last`` covers (the feeds' days with the last of them)."""
    con.execute("DELETE FROM meta.indicator_pending WHERE first_day >= ? AND last_day <= ?", [first, last])
    if not con.execute("SELECT count(*) FROM meta.indicator_pending").fetchone()[0]:
        con.execute("DELETE FROM meta.indicator_pending_feeds")


def own_firsts(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date,
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


def flow_firsts(own: dict[str, dt.date], first: dt.date) -> dict[str, dt.date]:
    """Per feed, the first day any flow counting from it is recomputed (``first`` for a feed no
    flow reads): what a shared file reading a large feed may limit itself to."""
    return {f.id: min((own[i.id] for i in catalog() if f.id in i.feeds), default=first) for f in FEEDS}


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


def _earliest_events(con: duckdb.DuckDBPyConnection, changed: Sql, params: list | dict) -> dict[str, dt.date | None]:
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
