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


def _prepare(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE cb_days AS SELECT CAST(d AS DATE) AS day FROM range(?::DATE, ?::DATE + 1, INTERVAL 1 DAY) t(d)",
                [first, last])
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


def compute(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, as_of: dt.datetime) -> int:
    """Recompute every indicator for ``first``..``last``; returns the rows written."""
    ensure_schema(con)
    city = load_city()
    _prepare(con, first, last, as_of)
    con.execute("CREATE OR REPLACE TEMP TABLE cb_districts (district_code VARCHAR)")
    con.executemany("INSERT INTO cb_districts VALUES (?)", [(d,) for d in city.district_codes])
    con.execute("CREATE OR REPLACE TEMP TABLE cb_values (indicator_id VARCHAR, date DATE, district_code VARCHAR, value DOUBLE, numerator DOUBLE, denominator DOUBLE)")
    delivered: dict[tuple[str, ...], str] = {}  # feeds -> table of the days they all delivered
    for ind in catalog():
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
        city_row = f"""SELECT {iid}, d.day, {_lit(city.code)}, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                       FROM cb_days d LEFT JOIN cb_raw r ON r.day = d.day GROUP BY d.day"""
        con.execute(f"INSERT INTO cb_values {city_row}")
        if ind.scope == "district":
            con.execute(
                f"""INSERT INTO cb_values
                    SELECT {iid}, d.day, k.district_code, coalesce({value}, {fill}), coalesce(sum(num), {fill}), sum(den)
                    FROM cb_days d CROSS JOIN cb_districts k
                    LEFT JOIN cb_raw r ON r.day = d.day AND r.district_code = k.district_code
                    GROUP BY d.day, k.district_code"""
            )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM marts.indicator_values WHERE date BETWEEN ? AND ?", [first, last])
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
    if not full and prev is not None:
        touched = con.execute(
            "SELECT min(business_date) FROM ingest.deliveries WHERE delivery_id > ? OR superseded_by > ?", [prev, prev]
        ).fetchone()[0]
        # The clock moves on too: feeds whose 30-hour deadline passed since then change on-time rates.
        candidates = [d for d in (touched, _earliest_event(con, prev), last - dt.timedelta(2)) if d is not None]
        first = max(first, min(candidates))
    pending = con.execute("SELECT min(first_day) FROM meta.indicator_pending").fetchone()[0]
    if pending is not None:
        first = min(first, pending)
    con.execute("DELETE FROM meta.indicator_pending")
    con.execute("INSERT INTO meta.indicator_pending VALUES (?, ?, ?)", [first, last, top])
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
    compute(con, lo, hi, as_of)
    con.execute("DELETE FROM meta.indicator_pending WHERE first_day >= ? AND last_day <= ?", [lo, hi])
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


def _earliest_event(con: duckdb.DuckDBPyConnection, prev: int) -> dt.date | None:
    """The earliest event date in staged rows of deliveries changed since ``prev``."""
    return _earliest_event_in(con, f"(SELECT delivery_id FROM ingest.deliveries WHERE delivery_id > {int(prev)} OR superseded_by > {int(prev)})")


def _earliest_event_in(con: duckdb.DuckDBPyConnection, changed: str) -> dt.date | None:
    """The earliest event date in staged rows of the deliveries ``changed`` (a subquery of delivery ids).

    A certificate event's validity dates do not count: it opens a version of the certificate
    on its own event date (e_certificate.certificate_history), which every certificate
    indicator reads, so it moves no day before that. (Counting them sent every daily refresh
    back to the first day: each cancellation carries its certificate's years-old start.)
    """
    parts = [
        f"SELECT min(event_date) FROM staging.household_events WHERE _delivery_id IN {changed}",
        f"SELECT min(death_date) FROM staging.death_records WHERE _delivery_id IN {changed}",
        f"SELECT min(registration_date) FROM staging.marriage_registrations WHERE _delivery_id IN {changed}",
        f"SELECT min(event_date) FROM staging.insurance_events WHERE _delivery_id IN {changed}",
        f"SELECT min(event_date) FROM staging.entity_events WHERE _delivery_id IN {changed}",
        f"SELECT min(event_date) FROM staging.certificate_events WHERE _delivery_id IN {changed}",
        f"SELECT min(CAST(used_at AS DATE)) FROM staging.certificate_usage WHERE _delivery_id IN {changed}",
        f"SELECT min(CAST(event_time AS DATE)) FROM staging.service_requests WHERE _delivery_id IN {changed}",
    ]
    return con.execute(f"SELECT min(d) FROM ({' UNION ALL '.join(parts)}) t(d)").fetchone()[0]
