"""Each store's schema is its numbered migrations, recorded in the store
(warehouse.storage.migrate): the runner, and the warehouse's migrations (warehouse/migrations/)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse.ingest.schema import MIGRATIONS, MIGRATIONS_TABLE, connect, ensure_staging
from warehouse.libraries.build import ensure_schema as ensure_live_views
from warehouse.marts.indicators.catalog import write_catalog
from warehouse.ops.store import MIGRATIONS as OPS_MIGRATIONS
from warehouse.storage.migrate import DUCKDB, migrate, migrations, recorded_version

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


PRE_MIGRATIONS = Path(__file__).with_name("pre_migrations_warehouse.sql")


def _pre_migrations(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse at ``path`` with the schema the code before migrations made, and no rows."""
    con = duckdb.connect(str(path))
    con.execute(PRE_MIGRATIONS.read_text(encoding="utf-8"))
    return con


def _columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], tuple[str, str]]:
    """Every column of every table and view but the migrations table's: (schema, table, column)
    -> (type, nullable). Not their order: every write names its columns."""
    return {(s, t, c): (ty, n) for s, t, c, ty, n in con.execute(
        """SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_catalog = current_database() AND NOT (table_schema = 'meta' AND table_name = 'schema_migrations')""").fetchall()}


def test_a_new_warehouse_and_one_made_before_migrations_end_with_the_same_tables(tmp_path: Path) -> None:
    """Migrated, a warehouse made before migrations has the very columns, types and nullability
    of one its migrations made from nothing (0006's NOT NULL owner_kind included)."""
    _pre_migrations(tmp_path / "old.duckdb").close()
    old, new = connect(tmp_path / "old.duckdb"), connect(tmp_path / "new.duckdb")
    for con in (old, new):
        ensure_live_views(con)  # generated from the declarations, as the staging tables are
    assert recorded_version(old, DUCKDB, MIGRATIONS_TABLE) == recorded_version(new, DUCKDB, MIGRATIONS_TABLE) == _latest(MIGRATIONS)
    have, want = _columns(old), _columns(new)
    assert {k: v for k, v in have.items() if want.get(k) != v} == {} and set(want) - set(have) == set()
    assert want[("marts", "alerts", "owner_kind")] == ("VARCHAR", "NO")
    # The catalog's copy names its columns: both hold the same rows.
    for con in (old, new):
        write_catalog(con)
    rows = "SELECT * FROM marts.indicator_catalog ORDER BY indicator_id"
    assert old.execute(rows).fetchall() == new.execute(rows).fetchall()


def test_a_warehouse_made_before_migrations_comes_out_at_the_latest_version(tmp_path: Path) -> None:
    """A warehouse as the code before migrations left it (its schema frozen in
    pre_migrations_warehouse.sql): an alert owned by a cockpit role, and no migrations table."""
    path = tmp_path / "warehouse.duckdb"
    con = _pre_migrations(path)
    con.execute("""INSERT INTO marts.alerts (alert_id, rule_id, severity, date, district_code, subject, status, message,
                   owner_role, owner_scope, first_seen, last_seen)
                   VALUES ('a', 'feed_missing', 'warning', DATE '2026-11-20', '330100', 'psb/household_events', 'open', 'm',
                           'steward', 'psb', now(), now()),
                          ('b', 'threshold', 'warning', DATE '2026-11-20', '330106', 'pop.births', 'open', 'm',
                           'district_manager', '330106', now(), now()),
                          ('c', 'threshold', 'warning', DATE '2026-11-20', '330100', 'pop.births', 'open', 'm',
                           'city_manager', NULL, now(), now())""")
    con.execute("INSERT INTO ingest.landing_files VALUES ('x.csv', 'f', 'h', now())")
    con.close()
    con = connect(path)
    assert recorded_version(con, DUCKDB, MIGRATIONS_TABLE) == _latest(MIGRATIONS)
    assert con.execute("SELECT owner_kind, owner_scope FROM marts.alerts ORDER BY alert_id").fetchall() == [
        ("department", "psb"), ("district", "330106"), ("city", None)]
    assert con.execute("SELECT count(*) FROM ingest.landing_files").fetchone()[0] == 1
    con.close()
    con = connect(path)  # again: nothing left to do
    assert migrate(_Recorder(con), MIGRATIONS, dialect=DUCKDB, table=MIGRATIONS_TABLE) == []
