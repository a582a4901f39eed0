"""A Hangzhou day end to end: the baseline, then the next day, each one `citybrain refresh`.

Generates a city with two days of deliveries (the initial load with its first day, then the
next day), holds the second day back, and times `citybrain refresh` (a new process, as the
schedule runs it: ingest, libraries, indicators, forecasts, alerts, publish) over the first;
then lands the held day and times the refresh again. Peak memory is the largest resident set
of the refresh process or of any one of its children. Targets: the baseline day ≤ 6 min, the next
day ≤ 90 s and ≤ 8 GiB.

    .venv/bin/python bench/day.py                 # city scale (12.5M residents, ~17M rows a day)
    .venv/bin/python bench/day.py --scale small   # a quick rehearsal
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from libraries import deliver_held, hold_back  # noqa: E402  (bench/libraries.py)

from citybrain.synth.generate import generate  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402

GIB = 2**30


def _landed_rows(home: Path, since_id: int) -> tuple[int, int]:
    """Files and rows read by the deliveries after ``since_id``."""
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        files, rows = con.execute("SELECT count(*), coalesce(sum(rows_read), 0) FROM ingest.deliveries WHERE delivery_id > ?",
                                  [since_id]).fetchone()
        return int(files), int(rows)


def last_delivery(home: Path) -> int:
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        return int(con.execute("SELECT coalesce(max(delivery_id), 0) FROM ingest.deliveries").fetchone()[0])


# `citybrain refresh` as `python -m citybrain` runs it, writing its peak resident set (KiB; its
# own or its largest child's) to the file named first.
_PEAK = """import resource, runpy, sys
out = sys.argv.pop(1)
try:
    runpy.run_module("citybrain", run_name="__main__", alter_sys=True)
finally:
    peak = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    open(out, "w").write(str(peak))
"""


@dataclass(frozen=True)
class Refresh:
    """One timed refresh."""

    seconds: float  # wall time
    cpu: float  # CPU seconds of the process and its children (steadier than wall time on a shared machine)
    peak_gib: float


def timed_refresh(home: Path, as_of: str, env: dict[str, str] | None = None) -> Refresh:
    """One `citybrain refresh` in a new process (``env`` added to its environment)."""
    env = {**os.environ, **(env or {}), "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    peak = home / "peak_kib.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", _PEAK, str(peak), "refresh", "--as-of", as_of], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Refresh(seconds, cpu, int(peak.read_text()) * 1024 / GIB)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="city", choices=["tiny", "small", "city"])
    ap.add_argument("--end", default="2026-11-20", help="The next day's business date.")
    ap.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a scratch folder, removed).")
    args = ap.parse_args()
    end = dt.date.fromisoformat(args.end)
    home = args.keep or Path(tempfile.mkdtemp(prefix=f"cb-bench-day-{args.scale}-"))
    try:
        t0 = time.perf_counter()
        generate(home, args.scale, 2, end, 11, progress=False, clean_truth=False)
        print(f"generated two days at {args.scale} scale in {time.perf_counter() - t0:.0f} s", flush=True)
        held = hold_back(home, end)
        base = timed_refresh(home, f"{end} 07:00")
        base_s, base_gib = base.seconds, base.peak_gib
        base_files, base_rows = _landed_rows(home, 0)
        print(f"baseline day ({end - dt.timedelta(days=1)}): {base_files} files, {base_rows:,} rows: "
              f"{base_s:.1f} s, peak {base_gib:.2f} GiB (target <= 360 s)", flush=True)
        before = last_delivery(home)
        deliver_held(home, held)
        nxt = timed_refresh(home, f"{end + dt.timedelta(days=1)} 07:00")
        next_s, next_gib = nxt.seconds, nxt.peak_gib
        files, rows = _landed_rows(home, before)
        print(f"next day ({end}): {files} files, {rows:,} rows: {next_s:.1f} s, peak {next_gib:.2f} GiB "
              f"(target <= 90 s and <= 8 GiB): {'met' if next_s <= 90 and next_gib <= 8 else 'NOT met'}")
    finally:
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
