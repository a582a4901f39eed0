"""The cockpit under load while refreshes publish: gunicorn with several worker processes,
50 simulated users (managers, analysts, stewards) for minutes, and meanwhile the daily
refresh runs again and again, each run publishing a new snapshot under the users' feet.
Prints p50/p95/p99 per callback, the errors (target: none), the snapshots published during
the load and how many of them the users saw. Target: p95 server time under 300 ms.

Works on a generated city in a scratch folder: the last days' files are held back and
landed one day at a time, each followed by ``citybrain refresh``.

    .venv/bin/python bench/load.py                      # small city, 50 users, 180 s
    .venv/bin/python bench/load.py --users 50 --seconds 300 --workers 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dash_client import DashUser, Scenario, drive, free_port, report, scratch_home, snapshot_choices, start_cockpit  # noqa: E402

from citybrain.synth.generate import generate  # noqa: E402


def _refresh(home: Path) -> None:
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    subprocess.run([sys.executable, "-m", "citybrain", "refresh"], env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small", choices=["tiny", "small"])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--think", type=float, default=1.0, help="Mean pause between a user's actions, seconds.")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--held-days", type=int, default=4, help="Days landed (and refreshed) during the load.")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cb-bench-load-"))
    home = work / "home"
    try:
        end = dt.date.today() - dt.timedelta(days=1)
        generate(home, args.scale, None, end, args.seed, progress=False)
        held = work / "held"
        held_days = [(end - dt.timedelta(days=k)).isoformat() for k in reversed(range(args.held_days))]
        for day in held_days:
            for folder in (home / "landing").glob(f"*/*/{day}"):
                dest = held / folder.relative_to(home / "landing")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(folder), dest)
        t0 = time.perf_counter()
        _refresh(home)
        print(f"{args.scale} city refreshed in {time.perf_counter() - t0:.0f} s; {len(held_days)} days held back", flush=True)

        root = scratch_home(home)
        city, districts, indicators, days = snapshot_choices(root)
        port = free_port()
        server = start_cockpit(root, port, args.workers, args.threads)
        published: list[tuple[float, float]] = []  # (start, end) of each refresh, seconds into the load
        refresh_errors: list[str] = []
        start = time.monotonic()
        stop = start + args.seconds

        def refresher() -> None:
            for day in held_days:
                if time.monotonic() >= stop:
                    break
                for folder in held.glob(f"*/*/{day}"):
                    shutil.move(str(folder), home / "landing" / folder.relative_to(held))
                began = time.monotonic() - start
                try:
                    _refresh(home)
                except subprocess.CalledProcessError as e:
                    refresh_errors.append(f"refresh of {day} failed: exit {e.returncode}")
                published.append((began, time.monotonic() - start))

        try:
            roles = ["boss", "xihu", "ana", "police"]
            names = [roles[i % len(roles)] for i in range(args.users)]
            users = [DashUser(f"http://127.0.0.1:{port}", n) for n in names]
            scenarios = [Scenario(n, args.seed + i, districts, indicators, city, days) for i, n in enumerate(names)]
            print(f"{args.users} users (think {args.think:.1f} s) for {args.seconds:.0f} s against gunicorn "
                  f"{args.workers}x{args.threads}, refreshing {len(held_days)} days meanwhile", flush=True)
            background = threading.Thread(target=refresher)
            background.start()
            rounds = drive(users, scenarios, args.think, lambda: time.monotonic() < stop)
            background.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
        worst = report(users, rounds)
        seen = set().union(*(u.seen_as_of for u in users))
        print(f"\nrefreshes during the load: {len(published)} "
              + ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in published)
              + (f"; failed: {refresh_errors}" if refresh_errors else "")
              + f"; distinct snapshots the users saw: {len(seen)}")
        errors = sum(len(u.errors) for u in users)
        print(f"worst p95 server time {worst:.1f} ms (target < 300 ms): {'met' if worst < 300 else 'NOT met'}; "
              f"errors: {errors} (target 0)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
