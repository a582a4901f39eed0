"""The cockpit's one cache of what it reads (query results, pieces of pages built from them,
what Dagster says about its code locations).

An entry is named by a :class:`Key`: what it holds, the source it came from (a serving
snapshot's path, which never changes once published, or a Dagster endpoint), and whatever
else it depends on (area, language, role...). The cache is bounded both in entries and in an
estimate of its bytes, and evicts the least recently used entry first (``cachetools``): the
current snapshot's entries, read all the time, stay; a reader travelling to a past day adds
that day's entries without emptying everyone else's, and a replaced snapshot's entries age out.

Values are shared between requests and threads: callers must not modify them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import NamedTuple, TypeVar

import pandas as pd
from cachetools import LRUCache

T = TypeVar("T")

# Bounds of one cockpit process (each gunicorn worker has its own cache).
MAX_ENTRIES = 4096
MAX_BYTES = 512 * 2**20
# What an entry other than a DataFrame is counted as (a page's figures, a list of records...):
# measuring those would cost more than building some of them.
OTHER_BYTES = 64 * 2**10


class Key(NamedTuple):
    """The name of a cache entry."""

    name: str  # what it holds: a query's name ("kpis"), a page part ("overview")...
    source: Hashable  # where it came from: a snapshot's path, a Dagster endpoint
    args: tuple = ()  # everything else the value depends on


def estimate_bytes(value: object) -> int:
    """An estimate of the memory ``value`` holds: a DataFrame's own (its columns' buffers; with
    pandas' Arrow-backed strings that counts the text too), a flat :data:`OTHER_BYTES` for
    anything else."""
    if isinstance(value, pd.DataFrame):
        # The columns' own buffers, summed directly: DataFrame.memory_usage builds a Series for
        # it and cost about five times as much, paid on every entry kept.
        return max(sum(column.array.nbytes for _, column in value.items()), 1)
    return OTHER_BYTES


class Cache:
    """A thread-safe LRU cache bounded in entries and in estimated bytes.

    :meth:`get` computes a missing value outside the lock (a slow query does not hold up the
    other readers; two readers missing the same key at once may both compute it). A value that
    raises is not kept, and a value larger than the whole byte bound is served but not kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self._lru: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=estimate_bytes)
        self._lock = threading.Lock()

    def get(self, key: Key, compute: Callable[[], T]) -> T:
        """The value named ``key``, computed by ``compute()`` when not kept."""
        with self._lock:
            if key in self._lru:
                return self._lru[key]  # reading it makes it the most recently used
        value = compute()
        with self._lock:
            try:
                self._lru[key] = value
            except ValueError:  # larger than the whole bound
                return value
            while len(self._lru) > self.max_entries:
                self._lru.popitem()
        return value

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def bytes(self) -> int:
        """The estimated bytes kept."""
        return int(self._lru.currsize)


CACHE = Cache()


def cached(key: Key, compute: Callable[[], T]) -> T:
    """``compute()``'s result, kept in the cockpit's cache under ``key``."""
    return CACHE.get(key, compute)
