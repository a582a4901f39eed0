"""The cockpit's one cache: named keys, a bound in entries and in bytes, least recently used first."""

from __future__ import annotations

import pandas as pd
import pytest

from cockpit.cache import Cache, Key, estimate_bytes


def test_an_entry_is_computed_once_per_name_source_and_arguments() -> None:
    cache, calls = Cache(), []

    def compute(value):
        calls.append(value)
        return value

    assert cache.get(Key("kpis", "snap-1", ("330106",)), lambda: compute(1)) == 1
    assert cache.get(Key("kpis", "snap-1", ("330106",)), lambda: compute(2)) == 1
    assert cache.get(Key("kpis", "snap-2", ("330106",)), lambda: compute(3)) == 3  # another snapshot
    assert cache.get(Key("scores", "snap-1", ("330106",)), lambda: compute(4)) == 4  # another query
    assert calls == [1, 3, 4]


def test_the_least_recently_used_goes_first_so_a_past_day_does_not_empty_today() -> None:
    cache = Cache(max_entries=3)
    today = [Key(name, "today") for name in ("info", "kpis")]
    for key in today:
        cache.get(key, lambda: 0)
    for day in range(5):  # a reader travels through five past days, reading today's page between
        cache.get(Key("info", f"day-{day}"), lambda: 0)
        for key in today:
            cache.get(key, lambda: 0)
    assert len(cache) == 3
    assert all(cache.get(key, lambda: pytest.fail("today's entry was evicted")) == 0 for key in today)


def test_the_bytes_bound_evicts_and_a_value_larger_than_it_is_served_but_not_kept() -> None:
    frame = pd.DataFrame({"value": range(1000)})
    size = estimate_bytes(frame)
    assert size >= 8000
    cache = Cache(max_bytes=int(size * 2.5))
    for i in range(3):
        cache.get(Key("series", "snap", (i,)), lambda: frame)
    assert len(cache) == 2 and cache.bytes <= size * 2.5
    huge = pd.DataFrame({"value": range(10_000)})
    assert cache.get(Key("huge", "snap"), lambda: huge) is huge
    assert Key("huge", "snap") not in cache._lru


def test_a_failure_is_not_kept() -> None:
    cache = Cache()

    def fail():
        raise RuntimeError("query failed")

    with pytest.raises(RuntimeError):
        cache.get(Key("kpis", "snap"), fail)
    assert cache.get(Key("kpis", "snap"), lambda: "now") == "now"
