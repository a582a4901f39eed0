"""The read API the cockpit uses: the current serving snapshot, opened read-only."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from warehouse.serving.publish import current


class Snapshot:
    """A read-only connection to the current snapshot, reopened when the pointer moves.

    Each request asks :meth:`connection` once and uses that cursor throughout (the cockpit
    keeps it for the request), so a page never mixes two refreshes. Thread-safe; DuckDB
    cursors are per thread.
    """

    def __init__(self, serving: Path) -> None:
        self.serving = serving
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        # Requests still running on an older snapshot keep their cursor: close only the
        # connections a few switches back.
        self._retired: list[duckdb.DuckDBPyConnection] = []

    def connection(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current snapshot (None before anything was published)."""
        return self.pinned()[1]

    def pinned(self) -> tuple[Path | None, duckdb.DuckDBPyConnection | None]:
        """The current snapshot's path and a cursor on it, taken together (snapshots are
        immutable, so the path is a valid cache key for anything read through the cursor)."""
        path = current(self.serving)
        if path is None:
            return None, None
        with self._lock:
            if path != self._path or self._con is None:
                con = duckdb.connect(str(path), read_only=True)
                if self._con is not None:
                    self._retired.append(self._con)
                self._con, self._path = con, path
                while len(self._retired) > 3:
                    self._retired.pop(0).close()
            return path, self._con.cursor()

    @property
    def path(self) -> Path | None:
        return self._path
