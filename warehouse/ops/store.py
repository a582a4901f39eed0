"""The operational store: what the cockpit writes, many processes at once (SQLite, WAL).

It keeps who may sign in, their sessions and sign-in attempts (``users.py``), the steps of
the loop from alert to closure (``alert_steps.py``), requests for shared data and their keys
(``share_requests.py``), owners' edits of catalog entries (``catalog_edits.py``) and the access audit log
(``access_log.py``); :class:`OpsStore` puts them together. This module opens the store and
brings its schema to the latest migration, and keeps what is particular to the engine:
connections, the transaction that keeps other writers out (the migrations' dialect), the
order rows were written in, and how a store made before migrations is adopted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from warehouse.ops.access_log import AccessLog
from warehouse.ops.alert_steps import AlertSteps
from warehouse.ops.catalog_edits import CatalogEdits
from warehouse.ops.share_requests import ShareRequests
from warehouse.ops.users import Users
from warehouse.storage.migrate import SQLITE, migrate
from warehouse.storage.subjects import subject_hash, subject_key

# The store's schema: numbered migrations (warehouse.storage.migrate), one folder per engine.
MIGRATIONS = resources.files(__package__) / "migrations" / "sqlite"
MIGRATIONS_TABLE = "schema_migrations"
_READERS = 8  # open connections a store keeps for reads


def _legacy_version(con: sqlite3.Connection) -> int:
    """How far a store made before migrations were recorded had come (0: a new store). Its
    tables then were made and altered in place on every open; SQLite cannot add a column only
    if it is missing, so the migrations those tables already reflect are recorded, not run.
    (A PostgreSQL store is always made by the migrations and never needs this.)"""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "access_log" not in tables:
        return 0
    if "entry_hash" not in {r[1] for r in con.execute("SELECT * FROM pragma_table_info('access_log')")}:
        return 1  # 0002: sessions and the chained log
    return 4 if "alert_steps" in tables else 3  # 0004: the alert loop


class OpsStore(Users, AlertSteps, AccessLog, ShareRequests, CatalogEdits):
    """One SQLite file, ``<home>/ops.sqlite``; every method opens its own short connection."""

    DIALECT = SQLITE
    # The column that orders a table's rows as they were written (SQLite's own rowid).
    _WRITTEN_ORDER = "rowid"

    def __init__(self, home: Path) -> None:
        self.path = home / "ops.sqlite"
        self.home = home
        self._pool: list[sqlite3.Connection] = []  # open connections for _read
        self._pool_file: tuple[int, int] | None = None
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        home.mkdir(parents=True, exist_ok=True)
        with self._con() as con:
            con.execute("PRAGMA journal_mode=WAL")
            # Once per new version; a store already at the latest runs no DDL.
            migrate(con, MIGRATIONS, dialect=self.DIALECT, table=MIGRATIONS_TABLE, adopt=_legacy_version,
                    hooks={2: self._chain_unchained})

    def _connect(self) -> sqlite3.Connection:
        """A new connection, waiting up to 30 s for another writer; usable from any thread, one at a time."""
        con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            con.execute("PRAGMA busy_timeout = 30000")
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        """A short connection: committed (or rolled back) and closed at the end of the block,
        not whenever the garbage collector gets to it."""
        con = self._connect()
        try:
            with con:
                yield con
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads only, from this store's few open ones: opening one costs 40
        times a point query, and the interfaces read the key's grant and the officer on every
        call. Each statement sees the latest commit (no transaction is held between uses);
        connections are dropped if the file was replaced (a restore) and never cross a fork."""
        try:
            st = os.stat(self.path)
            file = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            file = None
        with self._pool_lock:
            if self._pool_pid != os.getpid():  # a forked child: never use the parent's connections
                self._pool, self._pool_pid = [], os.getpid()
            con = self._pool.pop() if self._pool and self._pool_file == file else None
        if con is None:
            con = self._connect()
        try:
            yield con
            if con.in_transaction:  # a read opens none; never keep one open in the pool
                con.rollback()
        except BaseException:
            con.close()
            raise
        with self._pool_lock:
            if self._pool_file != file:
                for old in self._pool:
                    old.close()
                self._pool, self._pool_file = [], file
            if len(self._pool) < _READERS and file is not None and self._pool_pid == os.getpid():
                self._pool.append(con)
                return
        con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A short connection that keeps other writers out from its first statement, so what is
        read in the block is still so when the block writes; committed at the end of the block,
        rolled back on an error."""
        with self._con() as con:
            con.execute(self.DIALECT.begin)
            yield con

    def subject_hash(self, id_number: str) -> str:
        """Keyed hash of an identity number (upper-cased, trimmed)."""
        return subject_hash(subject_key(self.home), id_number)
