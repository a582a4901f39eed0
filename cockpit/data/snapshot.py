"""The snapshot a request reads and how the cockpit's queries run on it: one snapshot pinned
per request (a past day's when the reader travels in time), results kept in the cockpit's one
cache (cockpit/cache.py) per snapshot, and a failed query logged and raised as LoadError
(cockpit/loading.py), never shown as "no data"."""

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
from cockpit.timetravel import chosen_day

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


def query(name: str, sql: str, params: list | None = None) -> pd.DataFrame:
    """The result of the query ``name`` on the snapshot this request reads. Empty when nothing
    is published yet, or when the snapshot has no table the query reads (one published before
    that layer existed): there is nothing to show. Any other failure is a bug or a damaged
    snapshot: logged with the query's name and raised as LoadError (the page says "could not
    load", never "no data")."""
    path, con = _pinned()
    if con is None:
        return pd.DataFrame()
    # Which tables the query reads and the snapshot holds are asked inside the try: a query
    # that does not parse, or a snapshot whose tables cannot be listed, is a failure like any.
    try:
        if not tables_read(sql) <= snapshot_tables():
            return pd.DataFrame()
        return con.execute(sql, params or []).df()
    except (duckdb.Error, ValueError) as e:
        log.error("query %s failed on snapshot %s: %s", name, path.name if path else "?", e)
        raise LoadError(name) from e


def shared(name: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    """:func:`query`, for results every reader allowed to see them shares (reference tables, an
    area's key indicators, the alerts before scoping): computed once per snapshot."""
    return per_snapshot(name, (sql, params), lambda: query(name, sql, [list(p) if isinstance(p, tuple) else p for p in params]))
