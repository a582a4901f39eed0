"""Library builds at scale: the full build, then a one-day incremental update.

Generates a city with two days of deliveries (the initial load plus the first day on the
first date, then the second day), ingests and builds the libraries over the first day,
then ingests the second day and updates them incrementally. Both builds run in this
process, one after the other; peak memory is the process's max RSS.

    .venv/bin/python bench/libraries.py                 # city scale (12.5M residents)
    .venv/bin/python bench/libraries.py --scale small
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citybrain.synth.generate import generate  # noqa: E402
from warehouse.ingest.deliveries import ingest_landing  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402
from warehouse.libraries.build import build_all  # noqa: E402


def hold_back(home: Path, day: dt.date, held: Path | None = None) -> Path:
    """Move ``day``'s delivery folders out of the landing zone (into ``held``, default
    ``<home>/held``), to deliver them later; returns where they wait."""
    held = held or home / "held"
    for p in (home / "landing").glob(f"*/*/{day.isoformat()}"):
        dest = held / p.relative_to(home / "landing")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(p), dest)
    return held


def deliver_held(home: Path, held: Path, day: dt.date | None = None, departments: set[str] | None = None) -> None:
    """Put the held folders (of ``day`` and of ``departments`` only, when given) back in the
    landing zone, as if they had just arrived."""
    for p in held.glob(f"*/*/{day.isoformat() if day else '*'}"):
        if departments is None or p.relative_to(held).parts[0] in departments:
            dest = home / "landing" / p.relative_to(held)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(p), dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="city", choices=["tiny", "small", "city"])
    ap.add_argument("--end", default="2026-11-20")
    args = ap.parse_args()
    end = dt.date.fromisoformat(args.end)
    home = Path(tempfile.mkdtemp(prefix=f"cb-bench-lib-{args.scale}-"))
    try:
        t0 = time.perf_counter()
        generate(home, args.scale, 2, end, 11, progress=False, clean_truth=False)
        print(f"generated 2 days at {args.scale} scale in {time.perf_counter() - t0:.0f} s", flush=True)
        held = hold_back(home, end)
        con = connect(home / "warehouse.duckdb")
        t0 = time.perf_counter()
        ingest_landing(con, home / "landing", home / "tmp")
        print(f"ingested day 1 (initial load) in {time.perf_counter() - t0:.0f} s", flush=True)
        clock = dt.datetime.combine(end, dt.time(7))
        t0 = time.perf_counter()
        full = build_all(con, clock)
        t_full = time.perf_counter() - t0
        deliver_held(home, held)
        ingest_landing(con, home / "landing", home / "tmp")
        t0 = time.perf_counter()
        inc = build_all(con, clock)
        t_inc = time.perf_counter() - t0
        persons = con.execute("SELECT count(*) FROM population.persons").fetchone()[0]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"persons {persons:,}; full build {t_full:.1f} s ({', '.join(f'{r.library} {r.seconds:.1f}s' for r in full)})")
        print(f"one-day incremental {t_inc:.1f} s ({', '.join(f'{r.library} {r.keys_rebuilt:,} keys {r.seconds:.1f}s' for r in inc)})")
        print(f"incremental / full = {t_inc / t_full:.3f}; peak RSS {peak:.2f} GiB (generation ran in this process too)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
