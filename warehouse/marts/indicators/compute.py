"""Compute ``marts.indicator_values`` for a range of days, every district plus city-wide.

Each indicator's SQL returns (day, district_code, num, den) for the days in ``cb_days``.
Counts are summed for the city (rows whose district is unknown count city-wide only);
ratios are sum(num) ÷ sum(den). Districts with no rows get 0 for counts, except for a flow
on a day one of its feeds did not deliver: that value never arrived, so it is NULL.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

from warehouse.contract.city import load_city
from warehouse.contract.feeds import DEPARTMENTS, FEEDS, REQUEST_CATEGORIES, REQUEST_HANDLERS
from warehouse.ingest.schema import staging_table

_HERE = resources.files(__package__)
_SQL = _HERE / "sql"

MARTS_DDL = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.indicator_values (
    indicator_id VARCHAR NOT NULL, date DATE NOT NULL, district_code VARCHAR NOT NULL,
    value DOUBLE, numerator DOUBLE, denominator DOUBLE
);
CREATE TABLE IF NOT EXISTS marts.indicator_catalog (
    indicator_id VARCHAR PRIMARY KEY, name_zh VARCHAR, name_en VARCHAR, unit VARCHAR, domain VARCHAR,
    owner VARCHAR, kind VARCHAR, direction VARCHAR, scope VARCHAR, target DOUBLE, warn DOUBLE, critical DOUBLE,
    anomaly BOOLEAN, definition VARCHAR, score VARCHAR, alerts_to VARCHAR, definition_zh VARCHAR, forecast BOOLEAN,
    signed BOOLEAN, feeds VARCHAR[]
);
CREATE TABLE IF NOT EXISTS meta.mart_builds (built_at TIMESTAMP, last_delivery_id BIGINT, first_day DATE, last_day DATE, seconds DOUBLE);
-- Days whose indicators must be recomputed, until the indicator asset has done so.
CREATE TABLE IF NOT EXISTS meta.indicator_pending (first_day DATE, last_day DATE, last_delivery_id BIGINT);
-- For those days, per feed, the earliest day its changed deliveries touch (NULL: none changed);
-- no rows: every indicator over every pending day. A flow is recomputed from its own feeds' day.
CREATE TABLE IF NOT EXISTS meta.indicator_pending_feeds (feed VARCHAR, first_day DATE);
"""


@dataclass(frozen=True)
class Indicator:
    """One catalog entry."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    domain: str
    owner: str
    kind: str
    direction: str
    scope: str
    target: float | None = None
    warn: float | None = None
    critical: float | None = None
    anomaly: bool = False
    sql: str | None = None
    params: dict = field(default_factory=dict)
    score: str | None = None
    alerts_to: str | None = None
    definition_zh: str = ""  # what the value means, for its readers
    definition_en: str = ""  # the same in English (else its SQL's leading comment)
    feeds: tuple[str, ...] = ()  # "department/feed" a flow counts from; NULL (not 0) on a day one did not deliver
    signed: bool = False  # a count that may be negative (net migration)
    forecast: bool = False  # forecast at every refresh (marts.forecasts)

    def __post_init__(self) -> None:
        object.__setattr__(self, "feeds", tuple(self.feeds))

    @property
    def sql_file(self) -> Traversable:
        return _SQL / f"{self.sql or self.id}.sql"

    def definition(self) -> str:
        """What the number means, in English: the catalog's words for readers, else the first
        comment lines of its SQL."""
        if self.definition_en:
            return self.definition_en
        lines = self.sql_file.read_text(encoding="utf-8").splitlines()
        return " ".join(line.lstrip("- ").strip() for line in lines if line.startswith("--"))


def _dimensions() -> dict[str, dict[str, tuple[str, str]]]:
    """The contract's code lists a catalog entry can be repeated over ("each")."""
    return {
        "handler": REQUEST_HANDLERS,
        "category": REQUEST_CATEGORIES,
        "feed_department": {d: DEPARTMENTS[d] for d in dict.fromkeys(f.department for f in FEEDS)},
    }


def _expand(entry: dict) -> list[dict]:
    """An entry with "each" stands for one indicator per code of that code list."""
    each = entry.pop("each", None)
    if each is None:
        return [entry]

    def fill(value, code: str, zh: str, en: str):
        if isinstance(value, dict):
            return {k: fill(v, code, zh, en) for k, v in value.items()}
        return value.format(code=code, name_zh=zh, name_en=en) if isinstance(value, str) else value

    return [fill(entry, code, zh, en) for code, (zh, en) in _dimensions()[each].items()]


@lru_cache(maxsize=1)
def catalog() -> tuple[Indicator, ...]:
    """Every indicator in ``catalog.json``, templates expanded, in catalog order."""
    raw = json.loads((_HERE / "catalog.json").read_text(encoding="utf-8"))
    return tuple(Indicator(**e) for entry in raw["indicators"] for e in _expand(dict(entry)))


def _lit(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    # The catalog table is the catalog file's copy: recreated, so a warehouse made before a
    # column was added gets it.
    con.execute("DROP TABLE IF EXISTS marts.indicator_catalog")
    con.execute(MARTS_DDL)
    con.executemany(
        "INSERT INTO marts.indicator_catalog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(i.id, i.name_zh, i.name_en, i.unit, i.domain, i.owner, i.kind, i.direction, i.scope, i.target, i.warn,
          i.critical, i.anomaly, i.definition(), i.score, i.alerts_to, i.definition_zh, i.forecast, i.signed, list(i.feeds))
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
    later = f"(SELECT delivery_id FROM ingest.live_deliveries WHERE business_date > {_lit(row[0].isoformat())}::DATE)"
    earliest = _earliest_event_in(con, later)
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
        sql = ind.sql_file.read_text(encoding="utf-8").replace("$city", _lit(city.code))
        for k, v in ind.params.items():
            sql = sql.replace(f"${k}", _lit(v))
        con.execute(f"CREATE OR REPLACE TEMP TABLE cb_raw AS {sql}")
        iid = _lit(ind.id)
        value = "sum(num)" if ind.kind == "count" else "sum(num) / nullif(sum(den), 0)"
        # A count with no row is 0, unless the feed it counts from did not deliver that day:
        # then the value never arrived and stays NULL (CONTRACT §4).
        fill = "NULL" if ind.kind != "count" else (f"CASE WHEN d.day IN (SELECT day FROM {delivered[ind.feeds]}) THEN 0 END"
                                                   if ind.feeds else "0")
        days = f"d.day >= {_lit(since_day.isoformat())}::DATE"
        city_row = f"""SELECT {iid}, d.day, {_lit(city.code)}, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                       FROM cb_days d LEFT JOIN cb_raw r ON r.day = d.day WHERE {days} GROUP BY d.day"""
        con.execute(f"INSERT INTO cb_values {city_row}")
        if ind.scope == "district":
            con.execute(
                f"""INSERT INTO cb_values
                    SELECT {iid}, d.day, k.district_code, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                    FROM cb_days d CROSS JOIN cb_districts k
                    LEFT JOIN cb_raw r ON r.day = d.day AND r.district_code = k.district_code
                    WHERE {days}
                    GROUP BY d.day, k.district_code"""
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


def _changed_since(prev: int) -> str:
    """The deliveries ingested or superseded since ledger position ``prev`` (a subquery)."""
    return f"(SELECT delivery_id FROM ingest.deliveries WHERE delivery_id > {int(prev)} OR superseded_by > {int(prev)})"


def _feed_firsts(con: duckdb.DuckDBPyConnection, prev: int) -> dict[str, dt.date | None]:
    """Per feed, the earliest day its deliveries changed since ``prev`` touch: their business
    date or an event date in their rows, whichever is earlier (None: nothing changed)."""
    touched = dict(con.execute(
        f"SELECT department || '/' || feed, min(business_date) FROM ingest.deliveries WHERE delivery_id IN {_changed_since(prev)} GROUP BY 1"
    ).fetchall())
    events = _earliest_events(con, _changed_since(prev))
    return {f.id: _earliest(touched.get(f.id), events.get(f.id)) for f in FEEDS}


def _earliest_events(con: duckdb.DuckDBPyConnection, changed: str) -> dict[str, dt.date | None]:
    """Per feed, the earliest event date in staged rows of the deliveries ``changed`` (a subquery
    of delivery ids), by the feed's event day column.

    A certificate event's validity dates do not count: it opens a version of the certificate
    on its own event date (e_certificate.certificate_history), which every certificate
    indicator reads, so it moves no day before that. (Counting them sent every daily refresh
    back to the first day: each cancellation carries its certificate's years-old start.)
    """
    parts = [f"SELECT {_lit(f.id)}, min(CAST({f.event_day_column} AS DATE)) FROM {staging_table(f)} WHERE _delivery_id IN {changed}"
             for f in FEEDS]
    return dict(con.execute(" UNION ALL ".join(parts)).fetchall())


def _earliest(*days: dt.date | None) -> dt.date | None:
    """The earliest of ``days`` that are known (None if none is)."""
    return min((d for d in days if d is not None), default=None)


def _earliest_event_in(con: duckdb.DuckDBPyConnection, changed: str) -> dt.date | None:
    """The earliest event date in staged rows of the deliveries ``changed``, any feed."""
    return _earliest(*_earliest_events(con, changed).values())
