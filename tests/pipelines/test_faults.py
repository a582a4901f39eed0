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

from warehouse.serving.publish import current

FIRST_AS_OF = "2026-11-20 07:00"
AS_OF = "2026-11-21 07:00"
LAST_DAY = "2026-11-20"
# Bookkeeping that legitimately differs between two runs: where and when things ran, how long.
VOLATILE_COLUMN = re.compile(r"(^path$|_at$|^seen_at$|^duration_s$|^seconds$|^built_at$)")
BOOKKEEPING_TABLES = {"meta.library_builds", "meta.mart_builds"}


def _env(home: Path, dagster_home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "CITYBRAIN_FAILPOINT")}
    return {**env, "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(dagster_home or home / "dagster")}


def _refresh(home: Path, as_of: str, dagster_home: Path | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "citybrain", "refresh", "--as-of", as_of],
                            env=_env(home, dagster_home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)


def _refresh_ok(home: Path, as_of: str, dagster_home: Path | None = None) -> float:
    t0 = time.monotonic()
    proc = _refresh(home, as_of, dagster_home)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return time.monotonic() - t0


def _refresh_fails(home: Path, as_of: str, dagster_home: Path | None = None, **popen) -> str:
    """Run a refresh that must fail; what it printed for the operator."""
    proc = _refresh(home, as_of, dagster_home, **popen)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err.decode()[-3000:]
    return err.decode()


def _assert_equals_clean(home: Path, expected: dict, *, ignore_delivery_ids: bool = False) -> None:
    got = fingerprint(home / "warehouse.duckdb", ignore_delivery_ids=ignore_delivery_ids)
    assert got.keys() == expected.keys()
    for table in expected:
        assert got[table] == expected[table], table


# Delivery ids number deliveries in the order they were ingested.
DELIVERY_ID_COLUMN = re.compile(r"(delivery_id$|^supersedes$|^superseded_by$)")


def fingerprint(db: Path, *, ignore_delivery_ids: bool = False) -> dict[str, list[tuple]]:
    """Every warehouse table's rows (bookkeeping columns aside), sorted. Floating-point
    values are rounded to 9 decimals: DuckDB's parallel sums may differ in the last bit
    between any two runs. With ``ignore_delivery_ids``, deliveries ingested in another
    order compare equal."""
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
                             for c, t in columns
                             if not VOLATILE_COLUMN.search(c)
                             and not (ignore_delivery_ids and DELIVERY_ID_COLUMN.search(c)))
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


@pytest.fixture
def small_disk(tmp_path: Path):
    """A tmpfs of a chosen size (Linux, root); the test is skipped where it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def mount_with(size_mb: int) -> Path:
        options = f"size={size_mb}m" + (",remount" if os.path.ismount(mount) else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        return mount

    yield mount_with
    if os.path.ismount(mount):
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _size_mb(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) // 2**20 + 1


def test_a_full_disk_fails_plainly_changes_nothing_and_the_next_refresh_completes(base: Path, clean, small_disk,
                                                                                 tmp_path: Path) -> None:
    expected, _ = clean
    dagster_home = tmp_path / "dagster"  # Dagster's own records stay on the roomy disk
    shutil.copytree(base / "dagster", dagster_home)
    disk = small_disk(_size_mb(base) + 1)
    home = disk / "home"
    shutil.copytree(base, home, symlinks=True, ignore=shutil.ignore_patterns("dagster"))
    before = fingerprint(home / "warehouse.duckdb")
    message = _refresh_fails(home, AS_OF, dagster_home)
    assert "is full" in message and "Free space there and run the refresh again" in message, message[-2000:]
    assert "Traceback" not in message
    assert_snapshot_intact(home)
    assert not list((home / "serving").glob("*.tmp")), "no half-written snapshot is left behind"
    # Whatever steps did commit before the disk filled are whole; the rest is as before.
    after = fingerprint(home / "warehouse.duckdb")
    assert after["staging.household_events"] in (before["staging.household_events"], expected["staging.household_events"])
    small_disk(_size_mb(base) * 4)
    _refresh_ok(home, AS_OF, dagster_home)
    assert_snapshot_intact(home)
    _assert_equals_clean(home, expected)


def _without_root_override() -> None:
    """Drop the capabilities that let root read anything, so file permissions apply (Linux)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP: gone from the process exec'd next


def test_an_unreadable_landing_folder_fails_plainly_and_is_ingested_once_readable(base: Path, clean) -> None:
    clean_without_ids = fingerprint(base.parent / "clean" / "warehouse.duckdb", ignore_delivery_ids=True)
    home = base.parent / "unreadable"
    shutil.copytree(base, home, symlinks=True)
    psb = home / "landing" / "psb"
    psb.chmod(0)
    try:
        message = _refresh_fails(home, AS_OF, preexec_fn=_without_root_override if os.geteuid() == 0 else None)
    finally:
        psb.chmod(0o755)
    assert "cannot read landing/psb: Permission denied" in message and "nothing is lost" in message, message[-2000:]
    assert "Traceback" not in message
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    new = dict(con.execute(f"""SELECT department, count(*) FROM ingest.deliveries WHERE business_date = DATE '{LAST_DAY}'
                               GROUP BY ALL""").fetchall())
    con.close()
    assert "psb" not in new and new.get("health"), "the other departments' files were ingested meanwhile"
    _refresh_ok(home, AS_OF)
    assert_snapshot_intact(home)
    # psb's files came in a refresh later than in the clean run: the same rows, other delivery ids.
    _assert_equals_clean(home, clean_without_ids, ignore_delivery_ids=True)
