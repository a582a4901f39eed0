"""Numbered schema migrations, recorded in the store they change.

A store's schema is a folder of files ``NNNN_what.sql`` (0001, 0002, … with no gap), applied
in order. Each runs in one transaction together with the row that records it in the store's
migrations table (``version, name, applied_at``), so a migration is applied whole or not at
all, and exactly once. Opening a store that records the latest version runs no DDL at all:
one read of the table, and nothing else.

Every store this runner serves has a :class:`Dialect`: the warehouse is DuckDB, the
operational store SQLite, and PostgreSQL (for the operational store) will be one more dialect
with its own folder of the same numbered files. The migration files are written in SQL that
the engines share wherever they can; a statement only one engine knows stays in that engine's
file, with a comment saying so.

Stores made before migrations were recorded have no table yet: the warehouse's first
migrations accept an existing schema (``IF NOT EXISTS``), so applying all of them to such a
store is safe; where an engine cannot say ``IF NOT EXISTS`` (SQLite's ``ADD COLUMN``), the
caller passes ``adopt``, which tells from the existing tables how far the store had come.
Some steps are not SQL (computing a keyed hash over old rows): ``hooks`` run such a step
right after its version's file, inside the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from warehouse.storage.sql import Sql, quote_ident, read_sql

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered file of a store's migrations."""

    version: int
    name: str  # the file's name, as recorded
    sql: Sql


def migrations(folder: Traversable) -> tuple[Migration, ...]:
    """The migrations in ``folder``, in order; numbered 1, 2, … without gaps or repeats."""
    found = []
    for f in folder.iterdir():
        m = _FILE.match(f.name)
        if m:
            found.append(Migration(int(m.group(1)), f.name, read_sql(f)))
        elif f.name.endswith(".sql"):
            raise ValueError(f"{f.name}: a migration is named NNNN_lowercase_words.sql")
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations in {folder} must be numbered 0001, 0002, … without gaps: {[m.name for m in found]}")
    return tuple(found)


def _sqlite_statements(script: str) -> list[str]:
    """A script cut into statements (``sqlite3.complete_statement`` knows a trigger's body):
    SQLite runs one statement per call, and ``executescript`` would commit the transaction."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if any(line.strip() and not line.strip().startswith("--") for line in buf.splitlines()):
        raise ValueError(f"unterminated statement in a migration: {buf.strip()[:80]}")
    return out


@dataclass(frozen=True)
class Dialect:
    """What the runner needs to know of an engine.

    ``begin`` starts a transaction that keeps other writers out until it ends (SQLite's
    ``BEGIN IMMEDIATE``: several cockpit processes may open the store at once);
    ``has_table`` answers whether a table exists (schema, name; bound parameters);
    ``statements`` cuts a script into what one ``execute`` call may run; ``param`` is the
    placeholder of a bound parameter."""

    name: str
    begin: Sql
    has_table: Sql
    statements: Callable[[Sql], list[Sql]]
    param: Sql = "?"


DUCKDB = Dialect(
    "duckdb", "BEGIN TRANSACTION",
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
    lambda script: [script],  # DuckDB runs a whole script in one call
)
SQLITE = Dialect(
    "sqlite", "BEGIN IMMEDIATE",
    # SQLite has one schema per file ("main"); the first parameter is the schema, as elsewhere.
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND ? = 'main' AND name = ?",
    _sqlite_statements,
)


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return schema or "main", name


def recorded_version(con: Any, dialect: Dialect, table: str) -> int | None:
    """The latest version recorded in ``table`` (0: none yet), None when the store has no
    migrations table (a new store, or one made before migrations were recorded)."""
    if not con.execute(dialect.has_table, list(_split(table))).fetchone()[0]:
        return None
    return con.execute(f"SELECT coalesce(max(version), 0) FROM {quote_ident(*table.split('.'))}").fetchone()[0]


def migrate(con: Any, folder: Traversable, *, dialect: Dialect, table: str,
            adopt: Callable[[Any], int] | None = None,
            hooks: Mapping[int, Callable[[Any], None]] | None = None) -> list[int]:
    """Bring the store behind ``con`` to the latest migration in ``folder``; returns the
    versions applied (empty when it was up to date, and then nothing but one read ran).

    ``table`` is the store's migrations table (``meta.schema_migrations``,
    ``schema_migrations``). ``adopt`` tells, for a store without that table, which version
    its existing tables already are (recorded without being run; default 0). ``hooks`` run
    Python steps after a version's SQL, in its transaction."""
    steps = migrations(folder)
    latest = steps[-1].version if steps else 0
    if recorded_version(con, dialect, table) == latest:
        return []
    schema = _split(table)[0]
    quoted = quote_ident(*table.split("."))
    applied: list[int] = []
    con.execute(dialect.begin)
    try:
        # Read again inside the transaction: another process may have migrated meanwhile.
        have = recorded_version(con, dialect, table)
        if have is None:
            baseline = adopt(con) if adopt else 0
            if schema != "main":
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            con.execute(f"CREATE TABLE {quoted} (version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, "
                        "applied_at TIMESTAMP NOT NULL)")
            p = dialect.param
            for m in steps[:baseline]:  # what the store already had, made by earlier code
                con.execute(f"INSERT INTO {quoted} VALUES ({p}, {p}, {p})", [m.version, m.name, _now()])
            have = baseline
        for m in steps[have:]:
            for statement in dialect.statements(m.sql):
                con.execute(statement)
            if hooks and m.version in hooks:
                hooks[m.version](con)
            p = dialect.param
            con.execute(f"INSERT INTO {quoted} VALUES ({p}, {p}, {p})", [m.version, m.name, _now()])
            applied.append(m.version)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return applied


def _now() -> str:
    # Bound as text: every engine casts it to the TIMESTAMP column (sqlite3's own datetime
    # adapter is deprecated).
    return dt.datetime.now().isoformat(sep=" ", timespec="seconds")
