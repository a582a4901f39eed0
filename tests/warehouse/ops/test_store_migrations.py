"""The operational store's schema is its numbered migrations (warehouse/ops/migrations/<engine>/),
recorded in the store and applied by warehouse.storage.migrate when it opens."""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from warehouse.ops.store import MIGRATIONS as OPS_MIGRATIONS
from warehouse.ops.store import OpsStore, _legacy_version
from warehouse.storage.migrate import SQLITE, migrate, migrations, recorded_version

_LATEST = migrations(OPS_MIGRATIONS)[-1].version
_LEGACY_LATEST = 4  # the last migration whose tables the code before migrations made (the alert loop)


def _ops_file(home: Path) -> sqlite3.Connection:
    home.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(home / "ops.sqlite")


def test_a_new_operational_store_is_made_by_its_migrations_and_reopening_runs_no_ddl(tmp_path: Path) -> None:
    OpsStore(tmp_path)
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    assert recorded_version(con, SQLITE, "schema_migrations") == _LATEST
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
    assert recorded_version(con, SQLITE, "schema_migrations") == _LATEST
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM access_log")


def test_a_store_made_by_the_code_before_migrations_is_adopted_not_altered(tmp_path: Path) -> None:
    """Every table and trigger the code before migrations made on every open (migrations 1-4)
    already there: those are recorded as applied and none is run again; only the later ones run."""
    legacy = [m for m in migrations(OPS_MIGRATIONS) if m.version <= _LEGACY_LATEST]
    con = _ops_file(tmp_path)
    for m in legacy:
        con.executescript(m.sql)
    con.close()
    statements: list[str] = []
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    con.set_trace_callback(statements.append)
    later = [m.version for m in migrations(OPS_MIGRATIONS) if m.version > _LEGACY_LATEST]
    assert migrate(con, OPS_MIGRATIONS, dialect=SQLITE, table="schema_migrations", adopt=_legacy_version) == later
    assert recorded_version(con, SQLITE, "schema_migrations") == _LATEST
    legacy_tables = {t for m in legacy for t in re.findall(r"CREATE (?:TABLE|INDEX|TRIGGER) (?:IF NOT EXISTS )?(\w+)", m.sql)}
    rerun = [s for s in statements if re.match(r"\s*ALTER", s)
             or any(re.match(rf"\s*CREATE (TABLE|INDEX|TRIGGER) (IF NOT EXISTS )?{t}\b", s) for t in legacy_tables)]
    assert not rerun, rerun
    OpsStore(tmp_path)  # and the store opens as usual


def test_the_operational_store_keeps_its_migrations_in_one_folder_per_engine() -> None:
    """The PostgreSQL dialect will be a sibling folder with the same numbered files."""
    folder = resources.files("warehouse.ops") / "migrations"
    assert [f.name for f in folder.iterdir() if f.is_dir() and not f.name.startswith("__")] == ["sqlite"]
