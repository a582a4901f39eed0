"""How the daily refresh grows with the warehouse: per added day of history, district and department.

Times the refresh of one next day's deliveries (`citybrain refresh` in a new process, as the
schedule runs it) in warehouses that differ in one thing at a time, all `small` cities of the
same seed:

* **days**: 13 districts with 30, 60 and 120 days of history before the timed day;
* **districts**: cities of the first 5, 9 and 13 of Hangzhou's districts (`CITYBRAIN_CITY`:
  a city file with fewer districts; the residents stay as many, spread over fewer districts),
  each with 60 days of history;
* **departments**: the 60-day, 13-district warehouse, its next day delivered without one
  department's files at a time, against all of them.

Each measured warehouse is prepared once and copied before every timed refresh; rounds go
over every variant in turn, so machine noise falls on all alike. Prints each variant's
median and the cost per added day, district and department (least-squares slopes, and each
department's own share).

    .venv/bin/python bench/growth.py               # small cities, 2 rounds, about 15 minutes on 2 cores
    .venv/bin/python bench/growth.py --rounds 1 --days 10 20 40
    .venv/bin/python bench/growth.py --scale city --only departments --days 1 --rounds 1   # the baseline, then each department's share of the next day
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from day import Refresh, last_delivery, timed_refresh  # noqa: E402  (bench/day.py)
from libraries import deliver_held, hold_back  # noqa: E402  (bench/libraries.py)
from refresh import step_times  # noqa: E402  (bench/refresh.py)

from warehouse.contract.city import _DEFAULT as HANGZHOU  # noqa: E402
from warehouse.contract.feeds import DEPARTMENTS  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402

BIN = Path(sys.executable).parent
DIMENSIONS = ["days", "districts", "departments"]
SEED = 5


def city_file(work: Path, districts: int) -> Path:
    """A city file holding the first ``districts`` of Hangzhou's districts (no map boundaries)."""
    raw = json.loads(HANGZHOU.read_text(encoding="utf-8"))
    raw["districts"] = raw["districts"][:districts]
    raw.pop("boundaries", None)
    path = work / f"city_{districts}.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def _env(city: Path | None) -> dict[str, str]:
    return {"CITYBRAIN_CITY": str(city)} if city else {}


def _generate(home: Path, scale: str, days: int, end: dt.date, city: Path | None) -> None:
    subprocess.run([str(BIN / "citybrain"), "generate", "--home", str(home), "--scale", scale, "--days", str(days),
                    "--end", end.isoformat(), "--seed", str(SEED), "--quiet"],
                   env={**os.environ, **_env(city)}, check=True, stdout=subprocess.DEVNULL)


def _copy(src: Path, dst: Path) -> None:
    """A copy of a home: landing files (never written) as hard links, everything else copied."""
    shutil.rmtree(dst, ignore_errors=True)

    def copy(s: str, d: str) -> None:
        if "/landing/" in s or "/held/" in s:
            os.link(s, d)
        else:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy)


def _refresh(home: Path, day: dt.date, city: Path | None) -> Refresh:
    """Refresh as the morning after ``day``."""
    return timed_refresh(home, f"{day + dt.timedelta(days=1)} 07:00", _env(city))


class Variant:
    """A prepared warehouse whose next day's refresh is timed: ``base`` holds it before the day lands."""

    def __init__(self, name: str, base: Path, day: dt.date, city: Path | None, departments: set[str] | None = None) -> None:
        self.name, self.base, self.day, self.city, self.departments = name, base, day, city, departments
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self.rows = 0
        self.steps: dict[str, float] = {}  # the last round's seconds per step
        self.ingest: dict[str, tuple[int, float]] = {}  # the last round's rows and ingest seconds per department (ledger)

    def run(self, scratch: Path) -> float:
        _copy(self.base, scratch)
        before = last_delivery(scratch)
        deliver_held(scratch, scratch / "held", self.day, self.departments)
        started = time.time()
        done = _refresh(scratch, self.day, self.city)
        self.ingest = _ingest_by_department(scratch, before)
        self.rows = sum(rows for rows, _ in self.ingest.values())
        self.steps = {step: sec for _, step, sec in step_times(scratch, started)}
        self.seconds.append(done.seconds)
        self.cpu_seconds.append(done.cpu)
        return done.seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_seconds)

    def __str__(self) -> str:
        return f"{self.median:6.1f} s ({self.cpu:5.1f} s CPU)"


def _ingest_by_department(home: Path, since_id: int) -> dict[str, tuple[int, float]]:
    """Rows read and ingest seconds (the ledger's ``duration_s``) per department, of deliveries after ``since_id``."""
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        return {d: (int(rows), float(sec)) for d, rows, sec in con.execute(
            "SELECT department, sum(rows_read), sum(duration_s) FROM ingest.deliveries WHERE delivery_id > ? GROUP BY 1",
            [since_id]).fetchall()}


def _prepare(work: Path, scale: str, name: str, districts: int, history: list[int], end: dt.date) -> dict[int, Path]:
    """Generate a city of ``districts`` districts ending on ``end`` and keep, for every ``h`` in
    ``history``, a home holding ``h`` days ingested and refreshed with day ``h + 1`` held back."""
    city = None if districts == 13 else city_file(work, districts)
    home = work / name
    days = max(history) + 1
    start = end - dt.timedelta(days=days - 1)
    t0 = time.perf_counter()
    _generate(home, scale, days, end, city)
    for i in range(min(history), days):
        hold_back(home, start + dt.timedelta(days=i))
    bases, landed = {}, min(history)
    for h in sorted(history):
        for i in range(landed, h):
            deliver_held(home, home / "held", start + dt.timedelta(days=i))
        landed = h
        _refresh(home, start + dt.timedelta(days=h - 1), city)
        bases[h] = work / f"{name}_base_{h}"
        _copy(home, bases[h])
    shutil.rmtree(home)
    print(f"  prepared {name}: {districts} districts, {days} days generated, history {sorted(history)} "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return bases


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    mx = statistics.mean(x for x, _ in points)
    my = statistics.mean(y for _, y in points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--days", type=int, nargs="+", default=[30, 60, 120], help="History lengths (days) to compare.")
    ap.add_argument("--districts", type=int, nargs="+", default=[5, 9, 13], help="District counts to compare.")
    ap.add_argument("--end", default="2026-11-20", help="The last generated business date.")
    ap.add_argument("--scale", default="small", choices=["tiny", "small", "city"])
    ap.add_argument("--only", nargs="+", default=DIMENSIONS, choices=DIMENSIONS, help="The dimensions to measure.")
    args = ap.parse_args()
    if "days" not in args.only:
        args.days = [max(args.days)]
    if "districts" not in args.only:
        args.districts = [13]
    end = dt.date.fromisoformat(args.end)
    mid = sorted(args.days)[len(args.days) // 2]  # the history the district and department variants share
    work = Path(tempfile.mkdtemp(prefix="cb-bench-growth-"))
    try:
        print("preparing the warehouses (untimed)", flush=True)
        bases = _prepare(work, args.scale, "d13", 13, sorted(set(args.days) | {mid}), end)
        start13 = end - dt.timedelta(days=max(max(args.days), mid))
        day13 = {h: start13 + dt.timedelta(days=h) for h in bases}
        by_days = [Variant(f"{h} days", bases[h], day13[h], None) for h in sorted(args.days)]
        shared = next(v for v in by_days if v.base == bases[mid]) if mid in args.days else Variant(f"{mid} days", bases[mid], day13[mid], None)
        by_districts: list[tuple[int, Variant]] = []
        for k in sorted(args.districts):
            if k == 13:
                by_districts.append((k, shared))
                continue
            # The same timed day as the 13 districts' (ending the generation there).
            b = _prepare(work, args.scale, f"d{k}", k, [mid], day13[mid])[mid]
            by_districts.append((k, Variant(f"{k} districts", b, day13[mid], city_file(work, k))))
        without = [Variant(f"without {d}", bases[mid], day13[mid], None, set(DEPARTMENTS) - {d})
                   for d in DEPARTMENTS if "departments" in args.only]
        # Each department's run is paired with a run of all departments just before it, so a
        # machine that slows down over the rounds does not pass for a department's cost.
        order = [*(by_days if len(by_days) > 1 else []), *(v for _, v in by_districts if len(by_districts) > 1)]
        order += [x for v in without for x in (shared, v)] or [shared]
        paired: dict[str, list[tuple[float, float]]] = {v.name: [] for v in without}
        scratch = work / "scratch"
        for r in range(args.rounds):
            line = []
            for v in dict.fromkeys(order) if not without else order:
                line.append(f"{v.name} {v.run(scratch):.1f} s ({v.cpu_seconds[-1]:.1f} CPU)")
                if v in without:
                    paired[v.name].append((shared.seconds[-1] - v.seconds[-1], shared.cpu_seconds[-1] - v.cpu_seconds[-1]))
            print(f"  round {r + 1}: " + ", ".join(line), flush=True)
        if len(by_days) > 1:
            print(f"per added day of history (13 districts, next day ~{shared.rows:,} rows):")
            for v in by_days:
                print(f"  {v.name:>10}: {v}")
            print(f"  slope: {_slope([(int(v.name.split()[0]), v.median) for v in by_days]):+.3f} s "
                  f"({_slope([(int(v.name.split()[0]), v.cpu) for v in by_days]):+.3f} s CPU) per day of history")
            short, long = by_days[0], by_days[-1]
            grew = sorted(long.steps, key=lambda k: short.steps.get(k, 0.0) - long.steps[k])[:5]
            print("  the steps that grew most (last round): " + "; ".join(
                f"{k} " + " / ".join(f"{v.steps.get(k, 0.0):.1f}" for v in by_days) + " s" for k in grew))
        if len(by_districts) > 1:
            print(f"per district ({mid} days of history, the same residents spread over the districts):")
            for k, v in by_districts:
                print(f"  {k:>3} districts: {v}  ({v.rows:,} rows)")
            print(f"  slope: {_slope([(k, v.median) for k, v in by_districts]):+.3f} s "
                  f"({_slope([(k, v.cpu) for k, v in by_districts]):+.3f} s CPU) per district")
        if without:
            print(f"per department ({mid} days of history, 13 districts; all departments: {shared}, {shared.rows:,} rows):")
            print("  (paired with the run of all departments just before it; then its rows and ingest time in that run's ledger)")
            for d, v in zip(DEPARTMENTS, without):
                wall = statistics.median(a for a, _ in paired[v.name])
                cpu = statistics.median(b for _, b in paired[v.name])
                rows, ingest = shared.ingest.get(d, (0, 0.0))
                print(f"  {d:>14}: {wall:+6.2f} s ({cpu:+6.2f} s CPU)   {rows:>12,} rows, ingested in {ingest:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
