"""Connections to the warehouse file, with its schema and validation macros in place.

The schema is the numbered migrations of ``warehouse/migrations/`` (recorded in
``meta.schema_migrations``), applied when a connection that writes finds them pending. The
staging tables, one per feed, are the exception: they are generated from the contract's
columns (:func:`staging_ddl`), so a feed's columns are declared once, in the contract, and a
new feed's table appears on the next connection that writes. A column added to an existing
feed is a numbered migration (``ALTER TABLE staging.<feed> ADD COLUMN IF NOT EXISTS ...``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

from warehouse.contract.feeds import FEEDS, Feed
from warehouse.storage.migrate import DUCKDB, migrate
from warehouse.storage.sql import Sql, quote_ident, read_sql
from warehouse.storage.subjects import register_subject_hash

_SQL = resources.files(__package__) / "sql"
MIGRATIONS = resources.files("warehouse") / "migrations"
MIGRATIONS_TABLE = "meta.schema_migrations"

DUCK_TYPES = {"date": "DATE", "timestamp": "TIMESTAMP", "number": "DECIMAL(20, 4)", "rating": "INTEGER"}
"""Staged type of each contract column kind; every other kind is staged as VARCHAR."""


def staging_table(feed: Feed) -> Sql:
    """The staging table of a feed's accepted rows, qualified and quoted for SQL text."""
    return quote_ident("staging", feed.name)


def staging_ddl(feed: Feed) -> Sql:
    """DDL of a feed's staging table: typed contract columns plus lineage."""
    cols = ",\n    ".join(f"{quote_ident(c.name)} {DUCK_TYPES.get(c.kind, 'VARCHAR')}" for c in feed.columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {staging_table(feed)} (\n    {cols},\n"
        "    _delivery_id BIGINT NOT NULL,  -- lineage: the delivery ...\n"
        "    _line BIGINT NOT NULL          -- ... and data row it came from\n)"
    )


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the validation macros (temporary: they never persist in the file)."""
    con.execute(read_sql(_SQL / "macros.sql"))


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection also applies pending migrations, creates
    missing staging tables and can hash identity numbers with its data directory's key
    (``cb_subject_hash``, storage.subjects). The validation macros are temporary: every
    connection defines its own."""
    con = duckdb.connect(str(path), read_only=read_only)
    install_macros(con)
    # Rows carry their lineage (_delivery_id, _line), so physical order never matters
    # except while a loader reads a file (see loaders.run_in_file_order).
    con.execute("SET preserve_insertion_order = false")
    if not read_only:
        if str(path) != ":memory:":
            register_subject_hash(con, Path(path).resolve().parent)
        migrate(con, MIGRATIONS, dialect=DUCKDB, table=MIGRATIONS_TABLE)
        ensure_staging(con)
    return con


def ensure_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Create the staging tables of feeds that have none yet (one read when all exist)."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'").fetchall()}
    for f in FEEDS:
        if f.name not in have:
            con.execute(staging_ddl(f))
