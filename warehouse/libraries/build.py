"""Build the thematic libraries from live staged rows, fully or incrementally.

A full build recomputes every record. An incremental build recomputes only the records
touched by deliveries ingested (or superseded) since the previous build: each model is
the same SQL with its key filter narrowed to those records, so the result is identical
to a full rebuild (``tests/warehouse/libraries/test_libraries.py`` proves it).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from importlib import resources

import duckdb

from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.ingest.schema import staging_table
from warehouse.libraries import e_certificate, legal_person, population, service
from warehouse.libraries.model import Library
from warehouse.storage.sql import Sql, quote_ident, quote_table, read_sql

# Every library, in build order: a library comes after those it reads. Its DDL is created in
# the same order, so a view may read the libraries declared before it.
LIBRARIES: dict[str, Library] = {
    lib.name: lib for lib in (population.LIBRARY, e_certificate.LIBRARY, legal_person.LIBRARY, service.LIBRARY)
}
for _i, _lib in enumerate(LIBRARIES.values()):
    assert set(_lib.after) <= set(list(LIBRARIES)[:_i]), f"{_lib.name} is listed before a library it reads"

_MODELS = {m.table: m for lib in LIBRARIES.values() for m in lib.models}


def feeds_behind(name: str) -> tuple[str, ...]:
    """The contract feeds (``department/feed``) a feed or a library table is made from: a feed
    is its own; a library table, those of what its model ``reads``, followed through the
    library tables it reads. Raises KeyError for a name that is neither."""
    if name in FEEDS_BY_ID:
        return (name,)
    return tuple(dict.fromkeys(f for r in _MODELS[name].reads for f in feeds_behind(r)))


# Days public security has to record a death that health reported (死亡未销户).
DEATH_GRACE_DAYS = 30


def _sql(file: str) -> Sql:
    return read_sql(resources.files(__package__).joinpath(file))


def live_view_ddl(library: Library) -> Sql:
    """The ``<library>.live_<feed>`` views: a fused feed's staged rows of live deliveries only
    (rows of superseded or rejected deliveries never count)."""
    return "\n".join(
        f"CREATE OR REPLACE VIEW {quote_ident(library.name, 'live_' + f.name)} AS SELECT s.* FROM {staging_table(f)} s "
        "JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id;"
        for f in (FEEDS_BY_ID[i] for i in library.feeds)
    )


@dataclass(frozen=True)
class BuildResult:
    library: str
    mode: str  # full | incremental | unchanged
    keys_rebuilt: int
    seconds: float
    last_delivery_id: int


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``live_<feed>`` views a library has not got yet (one read when all exist).

    The libraries' tables are the warehouse's migrations (``warehouse/migrations/``); these
    views are generated from each library's declared feeds instead, like the staging tables
    from the contract, so a feed a library starts to fuse needs no hand-written DDL."""
    have = {f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (SELECT unnest(?))",
        [list(LIBRARIES)]).fetchall()}
    for lib in LIBRARIES.values():
        if any(f"{lib.name}.live_{FEEDS_BY_ID[i].name}" not in have for i in lib.feeds):
            con.execute(live_view_ddl(lib))


def set_clock(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> None:
    """Record the refresh's clock; 'expired' and ages are judged against it."""
    ensure_schema(con)
    con.execute("DELETE FROM meta.clock")
    con.execute("INSERT INTO meta.clock VALUES (?, ?)", [as_of, as_of.date()])


def build(con: duckdb.DuckDBPyConnection, library: str, *, full: bool = False) -> BuildResult:
    """Bring one library up to date with the ledger; incremental unless ``full`` or never built."""
    ensure_schema(con)
    t0 = time.perf_counter()
    last = con.execute("SELECT coalesce(max(delivery_id), 0) FROM ingest.deliveries").fetchone()[0]
    prev = con.execute(
        "SELECT max(last_delivery_id) FROM meta.library_builds WHERE library = ?", [library]
    ).fetchone()[0]
    mode = "full" if full or prev is None else "incremental"
    lib = LIBRARIES[library]
    con.execute("BEGIN TRANSACTION")
    try:
        if mode == "full":
            for m in lib.models:
                con.execute(f"DELETE FROM {quote_table(m.table)}")
                con.execute(lib.render(m, incremental=False))
            keys = con.execute(f"SELECT count(*) FROM {quote_table(lib.models[-1].table)}").fetchone()[0]
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE cb_changed AS SELECT delivery_id FROM ingest.deliveries "
                "WHERE delivery_id > ? OR superseded_by > ?",
                [prev, prev],
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE {lib.affected_table} AS "
                        f"SELECT DISTINCT k FROM ({lib.affected}) t(k) WHERE k IS NOT NULL")
            keys = con.execute(f"SELECT count(*) FROM {lib.affected_table}").fetchone()[0]
            if keys == 0:
                mode = "unchanged"
            for m in lib.models if keys else []:
                con.execute(f"DELETE FROM {quote_table(m.table)} WHERE {quote_ident(m.key)} IN (SELECT k FROM {lib.affected_table})")
                con.execute(lib.render(m, incremental=True))
        seconds = round(time.perf_counter() - t0, 3)
        con.execute(
            "INSERT INTO meta.library_builds VALUES (?, ?, ?, ?, ?, ?)",
            [library, dt.datetime.now(), mode, last, keys, seconds],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return BuildResult(library, mode, keys, seconds, last)


def build_findings(con: duckdb.DuckDBPyConnection, grace_days: int = DEATH_GRACE_DAYS) -> int:
    """Recompute the cross-department consistency findings; returns how many there are."""
    ensure_schema(con)
    delete, insert = _sql("findings.sql").split(";", 1)  # one statement per call: only one takes parameters
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(delete)
        con.execute(insert, {"grace_days": int(grace_days)})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM quality.findings").fetchone()[0]


def build_all(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, *, full: bool = False) -> list[BuildResult]:
    """Every library in dependency order, then the findings."""
    set_clock(con, as_of)
    out = [build(con, lib, full=full) for lib in LIBRARIES]
    build_findings(con)
    return out
