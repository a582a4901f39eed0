"""The read API the cockpit uses: the current serving snapshot, or the one that stood at the
end of an earlier day (time travel), opened read-only."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from pathlib import Path

import duckdb

from warehouse.serving.publish import current, end_of_day, list_snapshots

# Connections kept open: the current snapshot and a few past days people are looking at.
_OPEN = 6


class Snapshot:
    """Read-only connections to the current snapshot, reopened when the pointer moves, and to
    the snapshots of past days on request.

    Each request asks :meth:`pinned` once and uses that cursor throughout (the cockpit keeps
    it for the request), so a page never mixes two refreshes. Thread-safe; DuckDB cursors are
    per thread.
    """

    def __init__(self, serving: Path) -> None:
        self.serving = serving
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._open: OrderedDict[Path, duckdb.DuckDBPyConnection] = OrderedDict()
        # Requests still running on a snapshot no longer wanted keep their cursor: close only
        # the connections a few evictions back.
        self._retired: list[duckdb.DuckDBPyConnection] = []
        self._days: tuple[int, dict[dt.date, Path]] | None = None

    def connection(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current snapshot (None before anything was published)."""
        return self.pinned()[1]

    def days(self) -> dict[dt.date, Path]:
        """The days a snapshot stands for (each day's last), read again only when the folder changes."""
        try:
            stamp = os.stat(self.serving).st_mtime_ns
        except FileNotFoundError:
            return {}
        cached = self._days
        if cached is None or cached[0] != stamp:
            cached = (stamp, end_of_day(list_snapshots(self.serving)))
            self._days = cached
        return cached[1]

    def pinned(self, day: dt.date | None = None) -> tuple[Path | None, duckdb.DuckDBPyConnection | None]:
        """The path of the current snapshot (or of the one that stood at the end of ``day``)
        and a cursor on it, taken together (snapshots are immutable, so the path is a valid
        cache key for anything read through the cursor). A day without a snapshot: (None, None)."""
        path = current(self.serving) if day is None else self.days().get(day)
        if path is None:
            return None, None
        with self._lock:
            con = self._open.get(path)
            if con is None:
                try:
                    con = duckdb.connect(str(path), read_only=True)
                except duckdb.IOException:
                    if day is None:
                        raise
                    return None, None  # pruned since the index was read
                self._open[path] = con
                while len(self._open) > _OPEN:
                    self._retired.append(self._open.popitem(last=False)[1])
                while len(self._retired) > 3:
                    self._retired.pop(0).close()
            self._open.move_to_end(path)
            if day is None:
                self._path = path
            return path, con.cursor()

    @property
    def path(self) -> Path | None:
        return self._path
