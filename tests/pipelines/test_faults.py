"""Faults an operations team meets: a refresh killed with SIGKILL at a random moment, a
department re-sending a month of files. Afterwards the warehouse equals a clean run's and
the cockpit's snapshot was never broken."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.publish import current

FIRST_AS_OF = "2026-11-20 07:00"
AS_OF = "2026-11-21 07:00"
LAST_DAY = "2026-11-20"
# Bookkeeping that legitimately differs between two runs: where and when things ran, how long.
VOLATILE_COLUMN = re.compile(r"(^path$|_at$|^seen_at$|^duration_s$|^seconds$|^built_at$)")
BOOKKEEPING_TABLES = {"meta.library_builds", "meta.mart_builds"}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "CITYBRAIN_FAILPOINT")}
    return {**env, "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}


def _refresh(home: Path, as_of: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "citybrain", "refresh", "--as-of", as_of], env=_env(home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _refresh_ok(home: Path, as_of: str) -> float:
    t0 = time.monotonic()
    proc = _refresh(home, as_of)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return time.monotonic() - t0


def fingerprint(db: Path) -> dict[str, list[tuple]]:
    """Every warehouse table's rows (bookkeeping columns aside), sorted. Floating-point
    values are rounded to 9 decimals: DuckDB's parallel sums may differ in the last bit
    between any two runs."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            """SELECT table_schema || '.' || table_name, list((column_name, data_type) ORDER BY ordinal_position)
               FROM information_schema.columns JOIN information_schema.tables USING (table_catalog, table_schema, table_name)
               WHERE table_type = 'BASE TABLE' GROUP BY ALL ORDER BY 1""").fetchall()
        out = {}
        for name, columns in tables:
            if name in BOOKKEEPING_TABLES:
                continue
            kept = ", ".join(f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"'
                             for c, t in (tuple(col.values()) if isinstance(col, dict) else col for col in columns)
                             if not VOLATILE_COLUMN.search(c))
            out[name] = con.execute(f"SELECT {kept} FROM {name} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def assert_snapshot_intact(home: Path) -> None:
    """CURRENT names a complete snapshot whose tables hold the rows it records."""
    path = current(home / "serving")
    assert path is not None and path.exists()
    con = duckdb.connect(str(path), read_only=True)
    try:
        info = dict(con.execute("SELECT key, value FROM snapshot_info").fetchall())
        for key, value in info.items():
            if key.startswith("rows:"):
                assert con.execute(f"SELECT count(*) FROM {key[5:]}").fetchone()[0] == int(value), key
    finally:
        con.close()


@pytest.fixture(scope="module")
def base(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny city refreshed up to the day before its last, with the last day's files landed since."""
    home = tmp_path_factory.mktemp("faults") / "base"
    shutil.copytree(tiny_city, home)
    held = home.parent / "held"
    for folder in (home / "landing").glob(f"*/*/{LAST_DAY}"):
        shutil.move(str(folder), held / folder.relative_to(home / "landing"))
    _refresh_ok(home, FIRST_AS_OF)
    for folder in held.glob(f"*/*/{LAST_DAY}"):
        shutil.move(str(folder), home / "landing" / folder.relative_to(held))
    return home


@pytest.fixture(scope="module")
def clean(base: Path) -> tuple[dict, float]:
    home = base.parent / "clean"
    shutil.copytree(base, home, symlinks=True)
    seconds = _refresh_ok(home, AS_OF)
    return fingerprint(home / "warehouse.duckdb"), seconds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_refresh_killed_at_a_random_moment_then_rerun_equals_a_clean_run(base: Path, clean, seed: int) -> None:
    expected, clean_seconds = clean
    home = base.parent / f"killed{seed}"
    shutil.copytree(base, home, symlinks=True)
    delay = random.Random(seed).uniform(1.0, clean_seconds * 0.9)
    proc = _refresh(home, AS_OF)
    time.sleep(delay)
    finished_first = proc.poll() is not None
    if not finished_first:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert finished_first or proc.returncode == -signal.SIGKILL
    # Killed anywhere, the cockpit still has a whole snapshot to read.
    assert_snapshot_intact(home)
    _refresh_ok(home, AS_OF)
    assert_snapshot_intact(home)
    got = fingerprint(home / "warehouse.duckdb")
    assert got.keys() == expected.keys()
    for table in expected:
        assert got[table] == expected[table], f"{table} differs after a kill at {delay:.1f} s"


def test_every_file_re_sent_is_absorbed_idempotently(base: Path, clean) -> None:
    """A department re-sends everything it delivered (same names, same bytes, a new arrival
    time): nothing changes but the landing zone's file register."""
    expected, _ = clean
    home = base.parent / "resent"
    shutil.copytree(base.parent / "clean", home, symlinks=True)
    deliveries_before = fingerprint(home / "warehouse.duckdb")["ingest.deliveries"]
    resent = 0
    for path in sorted((home / "landing" / "psb").rglob("*")):
        if path.is_file():
            path.write_bytes(path.read_bytes())  # written again: new mtime, same content
            resent += 1
    assert resent > 20
    _refresh_ok(home, AS_OF)
    got = fingerprint(home / "warehouse.duckdb")
    assert got["ingest.deliveries"] == deliveries_before
    for table in expected:
        if table != "ingest.landing_files":
            assert got[table] == expected[table], table
