"""The 12345 service library and its indicators at city scale, over a long history.

Generates ``--days`` days (default 90) of citizens' requests for a city of 12.5 million
residents (~30,000 requests a day, ~3 steps each) and no other feed, then times, in this
process:

1. the initial load: ingest every file, build the libraries (the service library; the
   others are empty), compute every indicator over every day, the scores and the alerts;
2. the next day, as the daily refresh sees it: ingest that day's files, update the
   libraries incrementally, recompute the days it can change, the scores and the alerts.

Each ticket's later steps move the indicators of every day since its creation, so the
second step shows what a day's requests cost the daily refresh at city scale.

    .venv/bin/python bench/service.py [--days 90]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from libraries import deliver_held, hold_back  # noqa: E402  (bench/libraries.py)

from citybrain.synth.deliver import Deliveries  # noqa: E402
from citybrain.synth.hotline import Hotline  # noqa: E402
from citybrain.synth.ids import id_numbers  # noqa: E402
from citybrain.synth.world import SCALES  # noqa: E402
from warehouse.contract.city import load_city  # noqa: E402
from warehouse.ingest.deliveries import ingest_landing  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402
from warehouse.libraries.build import build_all  # noqa: E402
from warehouse.marts.alerts import evaluate  # noqa: E402
from warehouse.marts.indicators.compute import refresh  # noqa: E402
from warehouse.marts.score import compute_scores  # noqa: E402


def _generate(home: Path, days: int, end: dt.date, seed: int) -> None:
    """Only the hotline's feed, with callers drawn from 200,000 residents' identity numbers."""
    start = end - dt.timedelta(days - 1)
    rng = np.random.default_rng(seed)
    n = 200_000
    callers = id_numbers(np.full(n, "330106"), rng.integers(-20_000, 15_000, n), rng.choice(["1", "2"], n), rng)
    out = Deliveries(home, start, end, seed, 0.0, clean_truth=False, city_scale=True, clean=True)
    hotline = Hotline(load_city(), SCALES["city"].residents, seed, clean=True)
    for i in range(days):
        day = start + dt.timedelta(i)
        hotline.day(day, callers, out.emit)
        out.close_before(day + dt.timedelta(1))
    out.close()


def _refresh(con, home: Path, clock: dt.datetime) -> dict[str, float]:
    """The daily refresh's warehouse steps, each timed."""
    times = {}
    t0 = time.perf_counter()
    ingest_landing(con, home / "landing", home / "tmp")
    times["ingest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_all(con, clock)
    times["libraries"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    span = refresh(con, clock)
    times["indicators"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    compute_scores(con)
    evaluate(con, clock)
    times["scores+alerts"] = time.perf_counter() - t0
    times["days recomputed"] = (span[1] - span[0]).days + 1 if span else 0
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--end", default="2026-11-20")
    args = ap.parse_args()
    end = dt.date.fromisoformat(args.end)
    home = Path(tempfile.mkdtemp(prefix="cb-bench-service-"))
    try:
        t0 = time.perf_counter()
        _generate(home, args.days + 1, end, 7)
        print(f"generated {args.days + 1} days of 12345 requests at city scale in {time.perf_counter() - t0:.0f} s", flush=True)
        held = hold_back(home, end)
        con = connect(home / "warehouse.duckdb")
        clock = dt.datetime.combine(end, dt.time(7))
        first = _refresh(con, home, clock)
        tickets, steps = con.execute("SELECT (SELECT count(*) FROM service.tickets), (SELECT count(*) FROM service.ticket_history)").fetchone()
        print(f"initial load of {args.days} days: {tickets:,} tickets, {steps:,} steps")
        print("  " + ", ".join(f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}" for k, v in first.items()), flush=True)
        deliver_held(home, held)
        rows = con.execute("SELECT count(*) FROM staging.service_requests").fetchone()[0]
        nxt = _refresh(con, home, clock + dt.timedelta(1))
        rows = con.execute("SELECT count(*) FROM staging.service_requests").fetchone()[0] - rows
        total = sum(v for k, v in nxt.items() if isinstance(v, float))
        print(f"the next day ({rows:,} steps): {total:.1f} s in all")
        print("  " + ", ".join(f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}" for k, v in nxt.items()))
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB (generation ran in this process too)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
