"""Build the thematic libraries from live staged rows, fully or incrementally.

A full build recomputes every record. An incremental build recomputes only the records
touched by deliveries ingested (or superseded) since the previous build: each model is
the same SQL with its key filter narrowed to those records, so the result is identical
to a full rebuild (``tests/warehouse/test_libraries.py`` proves it).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

_SQL = Path(__file__).parent / "sql"
_KEYS = re.compile(r"__KEYS__\(([^)]+)\)")

# Days public security has to record a death that health reported (死亡未销户).
DEATH_GRACE_DAYS = 30


@dataclass(frozen=True)
class Model:
    """One SQL model: the table it fills and the affected-keys table that limits it."""

    file: str
    table: str
    key: str
    affected: str


MODELS = {
    "population": [
        Model("person_history.sql", "population.person_history", "id_number", "cb_affected_persons"),
        Model("persons.sql", "population.persons", "id_number", "cb_affected_persons"),
    ],
    "legal_person": [
        Model("entity_history.sql", "legal_person.entity_history", "uscc", "cb_affected_entities"),
        Model("entities.sql", "legal_person.entities", "uscc", "cb_affected_entities"),
    ],
    "e_certificate": [
        Model("certificate_history.sql", "e_certificate.certificate_history", "certificate_no", "cb_affected_certificates"),
        Model("certificate_state.sql", "e_certificate.certificate_state", "certificate_no", "cb_affected_certificates"),
    ],
}

# Which keys of a library a new (or newly superseded) delivery can touch.
_CHANGED = "_delivery_id IN (SELECT delivery_id FROM cb_changed)"
_PERSONS = f"""
        SELECT id_number FROM staging.household_events WHERE {_CHANGED}
        UNION SELECT id_number FROM staging.death_records WHERE {_CHANGED}
        UNION SELECT party1_id_number FROM staging.marriage_registrations WHERE {_CHANGED}
        UNION SELECT party2_id_number FROM staging.marriage_registrations WHERE {_CHANGED}
        UNION SELECT id_number FROM staging.insurance_events WHERE {_CHANGED}"""
_AFFECTED = {
    "population": _PERSONS,
    # An entity changes with its own events and with any change to one of its employees.
    "legal_person": f"""
        SELECT uscc FROM staging.entity_events WHERE {_CHANGED}
        UNION SELECT employer_uscc FROM population.live_insurance_events WHERE id_number IN ({_PERSONS})""",
    "e_certificate": f"""
        SELECT certificate_no FROM staging.certificate_events WHERE {_CHANGED}""",
}


@dataclass(frozen=True)
class BuildResult:
    library: str
    mode: str  # full | incremental | unchanged
    keys_rebuilt: int
    seconds: float
    last_delivery_id: int


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the libraries' tables and views if missing."""
    con.execute((_SQL / "schema.sql").read_text(encoding="utf-8"))
    con.execute((_SQL / "views.sql").read_text(encoding="utf-8"))


def set_clock(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> None:
    """Record the refresh's clock; 'expired' and ages are judged against it."""
    ensure_schema(con)
    con.execute("DELETE FROM meta.clock")
    con.execute("INSERT INTO meta.clock VALUES (?, ?)", [as_of, as_of.date()])


def _render(sql: str, affected: str | None) -> str:
    if affected is None:
        return _KEYS.sub("TRUE", sql)
    return _KEYS.sub(lambda m: f"{m.group(1)} IN (SELECT k FROM {affected})", sql)


def build(con: duckdb.DuckDBPyConnection, library: str, *, full: bool = False) -> BuildResult:
    """Bring one library up to date with the ledger; incremental unless ``full`` or never built."""
    ensure_schema(con)
    t0 = time.perf_counter()
    last = con.execute("SELECT coalesce(max(delivery_id), 0) FROM ingest.deliveries").fetchone()[0]
    prev = con.execute(
        "SELECT max(last_delivery_id) FROM meta.library_builds WHERE library = ?", [library]
    ).fetchone()[0]
    mode = "full" if full or prev is None else "incremental"
    models = MODELS[library]
    affected_table = models[0].affected
    con.execute("BEGIN TRANSACTION")
    try:
        if mode == "full":
            for m in models:
                con.execute(f"DELETE FROM {m.table}")
                con.execute(_render((_SQL / m.file).read_text(encoding="utf-8"), None))
            keys = con.execute(f"SELECT count(*) FROM {models[-1].table}").fetchone()[0]
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE cb_changed AS SELECT delivery_id FROM ingest.deliveries "
                "WHERE delivery_id > ? OR superseded_by > ?",
                [prev, prev],
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE {affected_table} AS SELECT DISTINCT k FROM ({_AFFECTED[library]}) t(k) WHERE k IS NOT NULL")
            keys = con.execute(f"SELECT count(*) FROM {affected_table}").fetchone()[0]
            if keys == 0:
                mode = "unchanged"
            for m in models if keys else []:
                con.execute(f"DELETE FROM {m.table} WHERE {m.key} IN (SELECT k FROM {affected_table})")
                con.execute(_render((_SQL / m.file).read_text(encoding="utf-8"), affected_table))
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
    sql = (_SQL / "findings.sql").read_text(encoding="utf-8").replace("$grace_days", str(int(grace_days)))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM quality.findings").fetchone()[0]


def build_all(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, *, full: bool = False) -> list[BuildResult]:
    """Every library in dependency order, then the findings."""
    set_clock(con, as_of)
    out = [build(con, lib, full=full) for lib in ("population", "e_certificate", "legal_person")]
    build_findings(con)
    return out
