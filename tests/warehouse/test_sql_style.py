"""One way to write and evolve SQL: values bound, identifiers quoted by one helper, and each
store's schema its numbered migrations, recorded in the store (warehouse.storage.migrate)."""

from __future__ import annotations

import io
import re
import sqlite3
import tokenize
from importlib import resources
from pathlib import Path

import duckdb
import pytest

from warehouse.ingest.schema import MIGRATIONS, MIGRATIONS_TABLE, connect, ensure_staging
from warehouse.libraries.build import ensure_schema as ensure_live_views
from warehouse.ops.store import MIGRATIONS as OPS_MIGRATIONS
from warehouse.ops.store import OpsStore, _legacy_version
from warehouse.storage.migrate import DUCKDB, SQLITE, migrate, migrations, recorded_version
from warehouse.storage.sql import quote_ident

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("warehouse", "cockpit", "assets", "pipelines", "citybrain")
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ATTACH|VALUES|WHERE|FROM|JOIN)\b")
QUOTED_FIELD = re.compile(r"'\{(?!\{)")  # '{value}' inside an f-string: a value spliced as a SQL string
# Known, not yet converted: the ingestion pass's own text (file paths, a delivered file's header
# names as JSON keys, the contract's code lists as ENUM types). Every entry names why.
PENDING = {
    "warehouse/ingest/loaders.py": "file paths and header names in the file-order checked load",
    "warehouse/ingest/validation.py": "code lists as ENUM types, the business date",
    "warehouse/ingest/deliveries.py": "contract column names as JSON keys",
}


def _python_files() -> list[Path]:
    return sorted(p for top in SOURCES for p in (ROOT / top).rglob("*.py"))


def _fstrings(path: Path) -> list[tuple[int, str]]:
    toks = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in toks
            if t.type == tokenize.STRING and re.match(r"^[rRbB]?[fF][rRbB]?['\"]", t.string)]


def test_no_value_is_spliced_into_sql_text() -> None:
    """A value enters SQL as a bound parameter; an f-string of SQL may hold identifiers and SQL
    expressions from code constants, never a quoted value, and nothing templates values in."""
    found = []
    for path in _python_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in PENDING:
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"\b_lit\(|\.replace\(\s*f?[\"']\$", line):
                found.append(f"{rel}:{n}: {line.strip()}")
        for n, s in _fstrings(path):
            if SQL_WORD.search(s) and QUOTED_FIELD.search(s):
                found.append(f"{rel}:{n}: {s[:100]}")
    assert not found, "values spliced into SQL text:\n" + "\n".join(found)


def test_identifiers_are_quoted_by_one_helper() -> None:
    """No hand-built identifier quoting outside warehouse.storage.sql."""
    found = [f"{p.relative_to(ROOT)}:{n}" for p in _python_files() if p.relative_to(ROOT).as_posix() not in PENDING
             and p.name != "sql.py" for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if ".replace('\"', '\"\"')" in line or '\'"\' +' in line]
    assert not found, found
    assert quote_ident("staging", 'a"b') == '"staging"."a""b"'


# --------------------------------------------------------------------------- the runner


def test_migrations_are_numbered_without_gaps(tmp_path: Path) -> None:
    assert [m.version for m in migrations(MIGRATIONS)] == list(range(1, len(migrations(MIGRATIONS)) + 1))
    assert [m.version for m in migrations(OPS_MIGRATIONS)] == list(range(1, len(migrations(OPS_MIGRATIONS)) + 1))
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="without gaps"):
        migrations(tmp_path)


def test_a_failed_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER);\nSELECT no_such_column FROM a;")
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        migrate(con, tmp_path, dialect=DUCKDB, table="meta.schema_migrations")
    assert recorded_version(con, DUCKDB, "meta.schema_migrations") is None
    assert not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('a', 'b')").fetchone()[0]


class _Recorder:
    """A DuckDB connection that remembers every statement it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []

    def execute(self, sql: str, params=None):
        self.statements.append(sql)
        return self.con.execute(sql, params)


def _latest(folder) -> int:
    return migrations(folder)[-1].version


# --------------------------------------------------------------------------- the warehouse


def test_a_new_warehouse_is_made_by_its_migrations_and_reopening_runs_no_ddl(tmp_path: Path) -> None:
    connect(tmp_path / "warehouse.duckdb").close()
    con = connect(tmp_path / "warehouse.duckdb")
    assert recorded_version(con, DUCKDB, MIGRATIONS_TABLE) == _latest(MIGRATIONS)
    names = [r[0] for r in con.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY version").fetchall()]
    assert names == [m.name for m in migrations(MIGRATIONS)]
    ensure_live_views(con)  # what the first library build adds: views generated from the declarations
    rec = _Recorder(con)
    assert migrate(rec, MIGRATIONS, dialect=DUCKDB, table=MIGRATIONS_TABLE) == []
    ensure_staging(rec)
    ensure_live_views(rec)
    assert all(s.lstrip().startswith("SELECT") for s in rec.statements), rec.statements


def test_a_warehouse_made_before_migrations_comes_out_at_the_latest_version(tmp_path: Path) -> None:
    """A warehouse as the code before migrations left it: the same tables, made and altered in
    place on every connection, an alert owned by a cockpit role, and no migrations table."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    for m in migrations(MIGRATIONS):
        if m.name != "0006_alert_owner_kind.sql":  # that code named a role, not a kind
            con.execute(m.sql)
    con.execute("""INSERT INTO marts.alerts (alert_id, rule_id, severity, date, district_code, subject, status, message,
                   owner_role, owner_scope, first_seen, last_seen)
                   VALUES ('a', 'feed_missing', 'warning', DATE '2026-11-20', '330100', 'psb/household_events', 'open', 'm',
                           'steward', 'psb', now(), now())""")
    con.execute("INSERT INTO ingest.landing_files VALUES ('x.csv', 'f', 'h', now())")
    con.close()
    con = connect(path)
    assert recorded_version(con, DUCKDB, MIGRATIONS_TABLE) == _latest(MIGRATIONS)
    assert con.execute("SELECT owner_kind, owner_scope FROM marts.alerts").fetchall() == [("department", "psb")]
    assert con.execute("SELECT count(*) FROM ingest.landing_files").fetchone()[0] == 1
    con.close()
    con = connect(path)  # again: nothing left to do
    assert migrate(_Recorder(con), MIGRATIONS, dialect=DUCKDB, table=MIGRATIONS_TABLE) == []


# --------------------------------------------------------------------------- the operational store


def _ops_file(home: Path) -> sqlite3.Connection:
    home.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(home / "ops.sqlite")


def test_a_new_operational_store_is_made_by_its_migrations_and_reopening_runs_no_ddl(tmp_path: Path) -> None:
    OpsStore(tmp_path)
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    assert recorded_version(con, SQLITE, "schema_migrations") == _latest(OPS_MIGRATIONS)
    statements: list[str] = []
    con.set_trace_callback(statements.append)
    assert migrate(con, OPS_MIGRATIONS, dialect=SQLITE, table="schema_migrations") == []
    assert all(s.lstrip().startswith("SELECT") for s in statements), statements


def test_a_first_release_store_gains_sessions_and_a_chained_append_only_log(tmp_path: Path) -> None:
    """The store as first released: no sessions, an unchained log; opened, its entries are chained."""
    con = _ops_file(tmp_path)
    con.executescript(migrations(OPS_MIGRATIONS)[0].sql)
    con.execute("INSERT INTO users VALUES ('boss', 'x', 'city_manager', NULL, '2026-11-01T08:00:00', 0)")
    con.executemany("INSERT INTO access_log VALUES (?, 'boss', 'city_manager', 'view_rejected_rows', 1, 2, '[]', 'check')",
                    [("2026-11-01T09:00:00",), ("2026-11-01T10:00:00",)])
    con.commit()
    con.close()
    store = OpsStore(tmp_path)
    assert store.verify_audit_chain() == (2, None)
    store.log_access("boss", "city_manager", "view_rejected_rows", delivery_id=1, rows=1, id_numbers=[], purpose="again")
    assert store.verify_audit_chain() == (3, None)
    assert store.open_session("boss")  # the sessions table is there
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    assert recorded_version(con, SQLITE, "schema_migrations") == _latest(OPS_MIGRATIONS)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM access_log")


def test_a_store_made_by_the_code_before_migrations_is_adopted_not_altered(tmp_path: Path) -> None:
    """Every table and trigger already there (the code before made them on every open): the
    migrations are recorded as applied, and none is run again."""
    con = _ops_file(tmp_path)
    for m in migrations(OPS_MIGRATIONS):
        con.executescript(m.sql)
    con.close()
    statements: list[str] = []
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    con.set_trace_callback(statements.append)
    assert migrate(con, OPS_MIGRATIONS, dialect=SQLITE, table="schema_migrations",
                   adopt=_legacy_version) == []
    assert recorded_version(con, SQLITE, "schema_migrations") == _latest(OPS_MIGRATIONS)
    assert not [s for s in statements if re.match(r"\s*(ALTER|CREATE (TABLE|INDEX|TRIGGER) (?!.*schema_migrations))", s)]
    OpsStore(tmp_path)  # and the store opens as usual


def test_the_operational_store_keeps_its_migrations_in_one_folder_per_engine() -> None:
    """The PostgreSQL dialect will be a sibling folder with the same numbered files."""
    folder = resources.files("warehouse.ops") / "migrations"
    assert [f.name for f in folder.iterdir() if f.is_dir() and not f.name.startswith("__")] == ["sqlite"]
