"""Generation speed and peak memory: the `small` city, and one day of the `city` scale.

Each scale runs in its own process so peak memory (max RSS) is that run's alone.

    .venv/bin/python bench/generate.py            # small and one city day
    .venv/bin/python bench/generate.py --only small
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = {"small": ["--scale", "small"], "city": ["--scale", "city", "--days", "1"]}


def run(scale: str, end: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"cb-bench-{scale}-"))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "citybrain", "generate", "--home", str(home), *RUNS[scale], "--end", end, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = json.loads((home / "truth" / "summary.json").read_text())
        size = sum(p.stat().st_size for p in (home / "landing").rglob("*") if p.is_file())
        return {
            "scale": scale, "rows": summary["rows_emitted"], "seconds": round(wall, 1),
            "rows_per_s": round(summary["rows_emitted"] / wall), "peak_rss_gib": round(max(peak_kib, before) / 2**20, 2),
            "landing_gib": round(size / 2**30, 2),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", choices=list(RUNS))
    ap.add_argument("--end", default="2026-11-20")
    args = ap.parse_args()
    for scale in [args.only] if args.only else list(RUNS):
        r = run(scale, args.end)
        print(f"{r['scale']:>6}: {r['rows']:>12,} rows in {r['seconds']:>7.1f} s = {r['rows_per_s']:>9,} rows/s, "
              f"peak RSS {r['peak_rss_gib']:.2f} GiB, landing {r['landing_gib']:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
