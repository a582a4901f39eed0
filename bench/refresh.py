"""One whole refresh of a large valid delivery, next to DuckDB's bare load of the same file.

Lands a valid CSV of ``psb/household_events`` (default 2 million rows, every row valid) in an
empty data directory and times ``citybrain refresh`` as an operator runs it (a new process:
start-up, Dagster's instance, ingest, the libraries, the indicators, alerts, publish, exit),
alternating with the bare load (``CREATE TABLE AS SELECT * FROM read_csv(...)`` into a fresh
file, in a new process too, so both pay their start-up). Then prints where the refresh's time
went, step by step, from Dagster's own records of the last round, and the limit: the time
around the steps plus the two steps no refresh of this delivery can skip (its ingest, the
first build of the population library it fills). Target: refresh <= 3x bare.

    .venv/bin/python bench/refresh.py                 # 2M rows, 3 rounds
    .venv/bin/python bench/refresh.py --rows 500000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest import DAY, FEED, make_feed  # noqa: E402

BIN = Path(sys.executable).parent
BARE = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); con.execute('SET enable_progress_bar = false'); con.execute(f\"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[2]}')\"); con.execute('CHECKPOINT')"


def run_refresh(src: Path, work: Path) -> tuple[float, Path]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    landing = home / "landing" / FEED.department / FEED.name / DAY.isoformat()
    landing.mkdir(parents=True)
    (landing / src.name).hardlink_to(src)
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "citybrain"), "refresh", "--as-of", f"{DAY} 23:00"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, home


def run_bare(src: Path, work: Path) -> float:
    db = work / "bare.duckdb"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE, str(db), str(src)], check=True)
    return time.perf_counter() - t0


def step_times(home: Path, since: float = 0.0) -> list[tuple[str, str, float]]:
    """(run's job, step, seconds) of every step of the runs created after ``since`` (a Unix time), in order."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    out = []
    with dg.DagsterInstance.get() as instance:
        for record in reversed(instance.get_run_records()):
            if record.create_timestamp.timestamp() < since:
                continue
            run = record.dagster_run
            starts: dict[str, float] = {}
            for rec in instance.all_logs(run.run_id):
                ev = rec.dagster_event
                if ev is None or not ev.step_key:
                    continue
                if ev.event_type == dg.DagsterEventType.STEP_START:
                    starts[ev.step_key] = rec.timestamp
                elif ev.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                    out.append((run.job_name, ev.step_key, rec.timestamp - starts.get(ev.step_key, rec.timestamp)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cb-bench-refresh-"))
    try:
        src = work / f"{FEED.name}_{DAY:%Y%m%d}.csv"
        make_feed(src, args.rows, defect_rate=0.0)
        print(f"delivery: {args.rows:,} valid rows of {FEED.id}, {src.stat().st_size / 2**20:.0f} MiB", flush=True)
        refresh, bare = [], []
        home = work
        for i in range(args.rounds):
            seconds, home = run_refresh(src, work)
            refresh.append(seconds)
            bare.append(run_bare(src, work))
            print(f"  round {i + 1}: citybrain refresh {refresh[-1]:6.2f} s   bare load {bare[-1]:5.2f} s", flush=True)
        r, b = statistics.median(refresh), statistics.median(bare)
        print(f"median: refresh {r:.2f} s, bare {b:.2f} s -> refresh/bare = {r / b:.2f}x (target <= 3x)")
        steps = step_times(home)
        in_steps = sum(s for _, _, s in steps)
        print(f"the last round's refresh, step by step ({in_steps:.1f} s in steps, "
              f"{refresh[-1] - in_steps:.1f} s around them: start-up, instance, runs' set-up, exit):")
        for job, step, seconds in sorted(steps, key=lambda x: -x[2])[:12]:
            print(f"  {seconds:6.2f} s  {job} / {step}")
        # The part no refresh of this delivery can skip: loading it and building the library
        # of the persons it brings, plus the process and Dagster's record of the runs.
        must = {step: seconds for _, step, seconds in steps if step in ("ingest", "population__persons")}
        around = refresh[-1] - in_steps
        floor = around + sum(must.values())
        print(f"the limit: around the steps {around:.1f} s + ingest {must.get('ingest', 0):.1f} s + the population "
              f"library's first build {must.get('population__persons', 0):.1f} s = {floor:.1f} s = {floor / b:.2f}x bare, "
              f"against 3x bare = {3 * b:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
