"""Queries the cockpit runs on the serving snapshot, each limited to what the caller may see."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import duckdb
import pandas as pd
from flask import g, has_request_context

from cockpit.cache import Key, cached
from cockpit.context import ctx
from cockpit.loading import LoadError
from cockpit.roles import Principal, current_owner
from cockpit.timetravel import chosen_day
from warehouse.ops.alert_loop import LoopState, states

T = TypeVar("T")
log = logging.getLogger("citybrain.cockpit")

def _pinned():
    """The snapshot this request reads and its cursor: one per request, so a page never mixes
    two refreshes even if one publishes meanwhile; the chosen past day's when the reader
    travels in time (cockpit/timetravel.py checks the day)."""
    if not has_request_context():
        return ctx().snapshot.pinned()
    if "snapshot" not in g:
        g.snapshot = ctx().snapshot.pinned(chosen_day())
    return g.snapshot


def per_snapshot(name: str, args: tuple, compute: Callable[[], T]) -> T:
    """``compute()``'s result, computed once per snapshot read (each time when there is no
    snapshot yet) and kept in the cockpit's cache (cockpit/cache.py) as ``name`` of that
    snapshot. A published snapshot never changes, so its path completes the key; ``args``
    must name everything else the result depends on (the reader's language, area, role...).
    The result is shared: callers must not modify it."""
    path = _pinned()[0]
    if path is None:
        return compute()
    return cached(Key(name, path, args), compute)


# The text of each query is written in the code: which tables it reads is parsed once, with
# DuckDB's own parser (no binding: no snapshot needed), on an in-memory connection of its own,
# opened when first needed (in the serving process, never before a fork).
_PARSER: list[duckdb.DuckDBPyConnection] = []
_PARSER_LOCK = threading.Lock()


@lru_cache(maxsize=512)
def tables_read(sql: str) -> frozenset[str]:
    """The tables (and views) a query reads, its own common table expressions left out."""
    with _PARSER_LOCK:
        if not _PARSER:
            _PARSER.append(duckdb.connect())
        tree = json.loads(_PARSER[0].execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise ValueError(f"cannot parse query: {tree.get('error_message')}")
    tables: set[str] = set()
    ctes: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                tables.add(node["table_name"])
            ctes.update(entry["key"] for entry in (node.get("cte_map") or {}).get("map", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return frozenset(tables - ctes)


def snapshot_tables() -> frozenset[str]:
    """The tables (and views) of the snapshot this request reads."""
    con = _pinned()[1]
    if con is None:
        return frozenset()
    return per_snapshot("snapshot tables", (), lambda: frozenset(
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()))


def _df(name: str, sql: str, params: list | None = None) -> pd.DataFrame:
    """The result of the query ``name`` on the snapshot this request reads. Empty when nothing
    is published yet, or when the snapshot has no table the query reads (one published before
    that layer existed): there is nothing to show. Any other failure is a bug or a damaged
    snapshot: logged with the query's name and raised as LoadError (the page says "could not
    load", never "no data")."""
    path, con = _pinned()
    if con is None:
        return pd.DataFrame()
    if not tables_read(sql) <= snapshot_tables():
        return pd.DataFrame()
    try:
        return con.execute(sql, params or []).df()
    except duckdb.Error as e:
        log.error("query %s failed on snapshot %s: %s", name, path.name if path else "?", e)
        raise LoadError(name) from e


def _shared(name: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    """:func:`_df`, for results every reader allowed to see them shares (reference tables, an
    area's key indicators, the alerts before scoping): computed once per snapshot."""
    return per_snapshot(name, (sql, params), lambda: _df(name, sql, [list(p) if isinstance(p, tuple) else p for p in params]))


def info() -> dict[str, str]:
    df = _shared("info", "SELECT key, value FROM snapshot_info")
    return dict(zip(df["key"], df["value"])) if not df.empty else {}


def districts() -> pd.DataFrame:
    return _shared("districts", "SELECT * FROM districts ORDER BY district_code")


def catalog() -> pd.DataFrame:
    return _shared("catalog", "SELECT * FROM indicator_catalog ORDER BY indicator_id")


def kpis(area: str) -> pd.DataFrame:
    """Latest value of each key indicator (those the catalog gives a card on the overview, in
    its order) for one area (city-wide ones for the city), the value a week before, and the
    last 30 days for a sparkline."""
    city = info().get("city_code", "")
    return _shared("kpis",
        """WITH c AS (SELECT *, CASE WHEN scope = 'city' THEN ? ELSE ? END AS area, overview AS position
                      FROM indicator_catalog WHERE overview IS NOT NULL),
                v AS (SELECT v.* FROM indicator_values v JOIN c ON c.indicator_id = v.indicator_id AND v.district_code = c.area),
                last AS (SELECT max(date) AS d FROM v)
           SELECT c.position, c.indicator_id, c.name_zh, c.name_en, c.unit, c.direction, c.area, cur.value, prev.value AS week_before,
                  list(h.value ORDER BY h.date) AS history, list(h.date ORDER BY h.date) AS history_dates
           FROM c
           LEFT JOIN v cur ON cur.indicator_id = c.indicator_id AND cur.date = (SELECT d FROM last)
           LEFT JOIN v prev ON prev.indicator_id = c.indicator_id AND prev.date = (SELECT d FROM last) - 7
           LEFT JOIN v h ON h.indicator_id = c.indicator_id AND h.date > (SELECT d FROM last) - 30
           GROUP BY ALL ORDER BY c.position""",
        (city, area),
    )


def requests_by_category(area: str, days: int = 7) -> pd.DataFrame:
    """Citizens' requests of the last ``days`` days of data by category, most first."""
    return _shared("requests_by_category",
        """WITH last AS (SELECT max(date) AS d FROM indicator_values WHERE indicator_id = 'svc.requests')
           SELECT c.dimensions['category'] AS category, sum(v.value) AS requests
           FROM indicator_values v JOIN indicator_catalog c USING (indicator_id)
           WHERE c.template = 'svc.requests.{code}' AND v.district_code = ? AND v.date > (SELECT d FROM last) - ?
           GROUP BY ALL HAVING sum(v.value) > 0 ORDER BY requests DESC""",
        (area, days),
    )


PERIODS = ("day", "week", "month", "quarter")


def scores(area: str) -> pd.DataFrame:
    """The latest score of each family (vital, sharing) and period, day first, with the days it covers."""
    return _shared("scores",
        f"""SELECT family, period, period_start, first_day, last_day, score, indicators, weakest_indicator, strongest_indicator
            FROM city_score WHERE district_code = ?
            QUALIFY row_number() OVER (PARTITION BY family, period ORDER BY period_start DESC) = 1
            ORDER BY family DESC, list_position({list(PERIODS)}, period)""",
        (area,),
    )


def contributors(area: str) -> pd.DataFrame:
    """The indicators behind each family's latest day score for one area: value, target, unit,
    direction and each one's score (1.0 = on target), for the top and bottom contributors."""
    return _shared("contributors",
        """SELECT s.family, s.indicator_id, s.value, s.target, s.score, c.unit, c.direction
           FROM indicator_scores s JOIN indicator_catalog c USING (indicator_id)
           WHERE s.district_code = ? AND s.period = 'day'
           QUALIFY s.period_start = max(s.period_start) OVER (PARTITION BY s.family)
           ORDER BY s.family DESC, s.score, s.indicator_id""",
        (area,),
    )


def district_scores() -> pd.DataFrame:
    """Each district's vital signs score of the latest day (NULL where it has none), with that day."""
    return _shared("district_scores",
        """WITH latest AS (SELECT max(period_start) AS day FROM city_score WHERE period = 'day' AND family = 'vital')
           SELECT d.district_code, d.name, d.name_en, d.tile_row, d.tile_col, s.score, (SELECT day FROM latest) AS day
           FROM districts d LEFT JOIN city_score s ON s.district_code = d.district_code AND s.period = 'day'
                AND s.family = 'vital' AND s.period_start = (SELECT day FROM latest)
           ORDER BY d.district_code"""
    )


def series(indicators: list[str], areas: list[str], start: str | None, end: str | None) -> pd.DataFrame:
    return _df("series",
        """SELECT v.indicator_id, v.date, v.district_code, v.value FROM indicator_values v
           WHERE v.indicator_id IN (SELECT unnest(?)) AND v.district_code IN (SELECT unnest(?))
             AND v.date BETWEEN coalesce(CAST(? AS DATE), DATE '1900-01-01') AND coalesce(CAST(? AS DATE), DATE '2999-12-31')
           ORDER BY 1, 3, 2""",
        [indicators, areas, start, end],
    )


def feeds_not_delivered(feeds: list[str]) -> pd.DataFrame:
    """The days on which any of ``feeds`` ("department/feed") has nothing usable: never arrived
    (``missing``) or every file rejected (``rejected``). Why an indicator counting from them has
    no value that day; the feeds' timeliness holds no rows of any person."""
    if not feeds:
        return pd.DataFrame(columns=["department", "feed", "business_date", "timeliness"])
    return _shared("feeds_not_delivered",
        """SELECT department, feed, business_date, timeliness FROM feed_days
           WHERE department || '/' || feed IN (SELECT unnest(?)) AND timeliness IN ('missing', 'rejected')
           ORDER BY business_date, department, feed""",
        (tuple(sorted(feeds)),),
    )


def alerts_for(who: Principal) -> pd.DataFrame:
    """The alerts ``who`` may see (:meth:`Principal.sees_alert`), each with where it stands in
    the loop from alert to closure, read from the operational store now: a step taken shows at
    once, without waiting for a refresh. Columns added: ``loop`` (a LoopState), ``state``,
    ``owner_kind``, ``owner_code`` (current owner), ``due_at``."""
    df = _shared("alerts_for", "SELECT * FROM alerts ORDER BY status = 'open' DESC, severity = 'critical' DESC, date DESC, rule_id")
    if df.empty:
        return df
    folded = states(ctx().store.alert_steps())
    # As records once per snapshot (read-only; making them costs about 10 ms a time).
    records = per_snapshot("alert records", (), lambda: df.to_dict("records"))
    loops = [folded.get(a["alert_id"]) or LoopState(a["alert_id"]) for a in records]
    owners = [current_owner(a, lp) for a, lp in zip(records, loops)]
    out = df.assign(loop=loops, state=[lp.state for lp in loops], owner_kind=[o[0] if o else None for o in owners],
                    owner_code=[o[1] if o else None for o in owners], due_at=[lp.due_at for lp in loops])
    if who.sees_all_alerts():
        return out
    return out[pd.Series([who.sees_alert(a, lp) for a, lp in zip(records, loops)], index=out.index, dtype=bool)]


def forecasts(indicators: list[str], areas: list[str]) -> pd.DataFrame:
    """The latest issue's forecasts (mean, 80% and 95% bounds per day ahead) of the given
    indicators and areas; empty where an indicator is not forecast."""
    return _shared("forecasts",
        """SELECT indicator_id, district_code, issued_on, date, mean, lo80, hi80, lo95, hi95 FROM forecasts
           WHERE issued_on = (SELECT max(issued_on) FROM forecasts)
             AND indicator_id IN (SELECT unnest(?)) AND district_code IN (SELECT unnest(?))
           ORDER BY indicator_id, district_code, date""",
        (tuple(indicators), tuple(areas)),
    )


def deliveries_for(who: Principal) -> pd.DataFrame:
    """A steward's own department's deliveries; every department's for auditors (no row contents)."""
    if not who.can("see_feed_health"):
        return pd.DataFrame()
    if who.scope_kind == "department":
        return _shared("deliveries_for", "SELECT * FROM deliveries WHERE department = ? ORDER BY delivery_id DESC", (who.scope,))
    return _shared("deliveries_for", "SELECT * FROM deliveries ORDER BY delivery_id DESC")


def deliveries_by_id(ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """(department, feed, business date) of the given deliveries: what an audit entry refers to."""
    if not ids:
        return {}
    df = _df("deliveries_by_id", "SELECT delivery_id, department, feed, CAST(business_date AS VARCHAR) AS day FROM deliveries "
             "WHERE delivery_id IN (SELECT unnest(?))", [sorted(set(ids))])
    return {int(r.delivery_id): (r.department, r.feed, r.day) for r in df.itertuples()}


def _department_of(who: Principal) -> str | None:
    """The department a steward is limited to (None: every department, for auditors)."""
    return who.scope if who.scope_kind == "department" else None


def feed_days_for(who: Principal) -> pd.DataFrame:
    """Timeliness per feed and business date: a steward's own feeds, every feed for auditors."""
    if not who.can("see_feed_health"):
        return pd.DataFrame()
    dept = _department_of(who)
    return _shared("feed_days_for", "SELECT * FROM feed_days WHERE ? IS NULL OR department = ? ORDER BY department, feed, business_date", (dept, dept))


def findings_for(who: Principal) -> pd.DataFrame:
    """Cross-department findings (counts, no persons) a steward's department owns; all for auditors."""
    if not who.can("see_feed_health"):
        return pd.DataFrame()
    dept = _department_of(who)
    return _shared("findings_for", """SELECT rule, owner_department, CAST(sum(findings) AS BIGINT) AS findings, min(since) AS since FROM findings_summary
                  WHERE ? IS NULL OR owner_department = ? GROUP BY ALL ORDER BY findings DESC""", (dept, dept))


def rejection_reasons_for(who: Principal) -> pd.DataFrame:
    if not who.can("see_feed_health"):
        return pd.DataFrame()
    dept = _department_of(who)
    return _shared("rejection_reasons_for",
        """SELECT d.business_date, r.reason, count(*) AS n FROM rejections r JOIN deliveries d USING (delivery_id)
           WHERE ? IS NULL OR d.department = ? GROUP BY ALL ORDER BY 1, 2""",
        (dept, dept),
    )


def rejected_rows_for(who: Principal, delivery_id: int) -> pd.DataFrame:
    """The rejected rows of one delivery, only for a steward of the department that delivered it."""
    if not who.can("see_rejected_rows") or who.scope_kind != "department":
        return pd.DataFrame()
    rows = _df("rejected_rows_for",
        """SELECT r.line_number, string_agg(j.reason || coalesce(':' || j.column_name, ''), ', ' ORDER BY j.reason) AS reasons, r.raw
           FROM rejected_rows r JOIN rejections j USING (delivery_id, line_number)
           WHERE r.delivery_id = ? AND r.department = ? GROUP BY ALL ORDER BY r.line_number""",
        [delivery_id, who.scope],
    )
    return rows


def overdue_tickets_for(who: Principal) -> pd.DataFrame:
    """Open requests past their due time on the snapshot's clock, in ``who``'s scope: a district
    manager's own district, a steward's own department as handler (the hotline's steward: every
    one), the whole city for city managers. The snapshot holds no caller, so none can leak."""
    if not who.can("see_requests"):
        return pd.DataFrame()
    if who.scope_kind == "district":
        where, args = "district_code = ?", (who.scope,)
    elif who.scope_kind == "department":
        where, args = ("TRUE", ()) if who.scope == "hotline" else ("handler = ?", (who.scope,))
    else:
        where, args = "TRUE", ()
    as_of = info().get("as_of")
    return _shared("overdue_tickets_for",
        f"""SELECT *, date_diff('day', due_at, CAST(? AS TIMESTAMP)) AS days_overdue FROM open_tickets
            WHERE due_at < CAST(? AS TIMESTAMP) AND {where} ORDER BY due_at, ticket_no""",
        (as_of, as_of, *args),
    )


def handler_performance(who: Principal) -> pd.DataFrame:
    """Each handler's on-time closure over the last 30 days of data and its overdue requests on
    the last day (city-wide aggregates); a department's steward sees its own line only."""
    df = _shared("handler_performance",
        """WITH last AS (SELECT max(date) AS d FROM indicator_values WHERE indicator_id = 'svc.on_time_rate'),
                -- Each handler's indicators by the catalog's handler dimension.
                h AS (SELECT indicator_id, template, dimensions['handler'] AS handler FROM indicator_catalog
                      WHERE template IN ('svc.on_time_rate.{code}', 'svc.overdue.{code}')),
                r AS (SELECT h.handler, sum(numerator) / nullif(sum(denominator), 0) AS on_time_rate
                      FROM indicator_values v JOIN h USING (indicator_id)
                      WHERE h.template = 'svc.on_time_rate.{code}' AND district_code = ?
                        AND date > (SELECT d FROM last) - 30 GROUP BY 1),
                o AS (SELECT h.handler, value AS overdue
                      FROM indicator_values v JOIN h USING (indicator_id)
                      WHERE h.template = 'svc.overdue.{code}' AND district_code = ?
                        AND date = (SELECT d FROM last))
           SELECT r.handler, r.on_time_rate, coalesce(o.overdue, 0) AS overdue
           FROM r LEFT JOIN o USING (handler) ORDER BY r.on_time_rate NULLS LAST, r.handler""",
        (info().get("city_code", ""),) * 2,
    )
    if who.scope_kind == "department" and who.scope != "hotline" and not df.empty:
        return df[df.handler == who.scope]
    return df


# ---------------------------------------------------------------------------- drill-down to the source

def history(indicator: str, area: str) -> pd.DataFrame:
    """Every day's value of one indicator in one area, oldest first."""
    return _shared("history", "SELECT date, value FROM indicator_values WHERE indicator_id = ? AND district_code = ? ORDER BY date",
                   (indicator, area))


def sources(indicator: str, area: str, day: str) -> pd.DataFrame:
    """The deliveries behind one indicator's value on ``day`` in ``area`` (the lineage the
    snapshot carries, warehouse/marts/lineage.py): for flows, stocks and rates, the live
    deliveries with accepted rows dated that day in that area (``rows_that_day``; rows of
    feeds that carry no district are counted city-wide, ``city_wide``); for the departments'
    sharing figures, the deliveries of that business date. Files and counts only, no row."""
    return _shared("sources",
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
    df = _shared("basis", "SELECT indicator_id, any_value(basis) AS basis FROM indicator_feeds GROUP BY 1")
    hit = df[df.indicator_id == indicator] if not df.empty else df
    return None if hit.empty else hit.basis.iloc[0]
