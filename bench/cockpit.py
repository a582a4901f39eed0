"""The cockpit under 20 concurrent users, next to the same queries run directly on DuckDB.

Serves a refreshed data directory's current snapshot with ``citybrain cockpit`` (gunicorn)
and drives simulated users (city managers, district managers, analysts) through the
overview and the indicator explorer, posting the callbacks the browser would, each user
pausing a random 0.5-1.5 x ``--think`` seconds between actions as a person does
(``--think 0`` turns it into a stress test of throughput); ``--scenario catalog``: officers
on the data catalog instead (issue #32: catalog page p95 <= 150 ms, 20 users). Prints, per
callback, p50/p95 of the server's own time (Server-Timing) and of the time seen by the
client, beside p50/p95 of the callback's warehouse queries run directly on the snapshot,
one at a time, in this process, without the cockpit's per-snapshot cache (what each
callback would cost if every user asked something new). Target: p95 server time under 150 ms.
When the serving folder keeps more than one day, every fourth user looks at the oldest day
(time travel: the ``cb_day`` cookie), so today's and a past day's snapshots are read at once.

    CITYBRAIN_HOME=/data/city .venv/bin/citybrain generate --scale city
    CITYBRAIN_HOME=/data/city .venv/bin/citybrain refresh
    .venv/bin/python bench/cockpit.py --home /data/city
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dash_client import DashUser, Scenario, drive, free_port, report, scratch_home, snapshot_choices, start_cockpit  # noqa: E402

from cockpit import context  # noqa: E402
from cockpit.cache import CACHE  # noqa: E402
from cockpit.data import reference  # noqa: E402
from cockpit.data.alerts import alerts_for  # noqa: E402
from cockpit.data.indicators import district_scores, kpis, scores, series  # noqa: E402
from cockpit.roles import Principal  # noqa: E402
from warehouse.serving.publish import current, list_snapshots  # noqa: E402
from warehouse.settings import settings  # noqa: E402
from warehouse.storage.home import Home  # noqa: E402


def _direct(home: Path, rounds: int, seed: int, city: str, districts: list[str], indicators: list[str]) -> dict[str, list[float]]:
    """The queries behind each callback, run directly on the snapshot (no HTTP, no Dash)."""
    context.init(Home(home), settings())
    rng = random.Random(seed)
    boss = Principal("boss", "city_manager")
    out: dict[str, list[float]] = {"page /": [], "overview": [], "page /explorer": [], "explorer": []}
    for _ in range(rounds):
        area = rng.choice(districts + [city])
        steps = {
            "page /": lambda: (reference.info(), reference.districts()),
            "overview": lambda a=area: (reference.info(), reference.districts(), scores(a), reference.catalog(), kpis(a),
                                        district_scores(), alerts_for(boss)),
            "page /explorer": lambda: (reference.info(), reference.catalog(), reference.districts()),
            "explorer": lambda: (series(rng.sample(indicators, 2), rng.sample(districts, 2) + [city], None, None),
                                 reference.catalog()),
        }
        for name, run in steps.items():
            CACHE.clear()  # the queries themselves, not the cockpit's cache
            t0 = time.perf_counter()
            run()
            out[name].append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="A refreshed data directory (its serving snapshot is used).")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60, help="How long the users keep working.")
    ap.add_argument("--think", type=float, default=1.0, help="Mean pause between a user's actions, seconds.")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scenario", choices=("overview", "catalog"), default="overview",
                    help="overview: city and district managers and analysts on the overview and the explorer; "
                         "catalog: officers on the data catalog (the list, a search or filter, an entry's page).")
    args = ap.parse_args()
    snapshot = current(args.home / "serving")
    if snapshot is None:
        sys.exit(f"{args.home} has no serving snapshot: run `citybrain refresh` there first")
    root = scratch_home(args.home)
    try:
        city, districts, indicators, days = snapshot_choices(root)
        print(f"snapshot {snapshot.name} ({snapshot.stat().st_size / 2**20:.0f} MiB), {len(indicators)} indicators, "
              f"{len(days)} days; {args.users} users (think {args.think:.1f} s) for {args.seconds:.0f} s against gunicorn "
              f"{args.workers}x{args.threads}", flush=True)
        port = free_port()
        server = start_cockpit(root, port, args.workers, args.threads)
        try:
            drivers = ["boss", "xihu", "ana"] if args.scenario == "overview" else ["clerk"]
            names = [drivers[i % len(drivers)] for i in range(args.users)]
            users = [DashUser(f"http://127.0.0.1:{port}", n) for n in names]
            kept = sorted({s.day for s in list_snapshots(args.home / "serving")})
            if len(kept) > 1:
                for user in users[3::4]:
                    user.http.cookies.set("cb_day", str(kept[0]))
                print(f"{len(users[3::4])} of them on {kept[0]} (time travel), the others on today", flush=True)
            from urllib.parse import quote

            from warehouse.sharing.catalog import declared

            codes = [quote(c, safe="/") for c in declared()]
            owners = sorted({e.owner for e in declared().values()})
            scenarios = [Scenario(n, args.seed + i, districts, indicators, city, days, codes, owners) for i, n in enumerate(names)]
            stop = time.monotonic() + args.seconds
            rounds = drive(users, scenarios, args.think, lambda: time.monotonic() < stop)
        finally:
            server.terminate()
            server.wait(timeout=30)
        direct = _direct(root, 30, args.seed, city, districts, indicators) if args.scenario == "overview" else None
        worst = report(users, rounds, direct)
        print(f"\nworst p95 server time {worst:.1f} ms (target < 150 ms): {'met' if worst < 150 else 'NOT met'}; "
              + (f"median direct query time per callback {statistics.median(x for v in direct.values() for x in v):.1f} ms"
                 if direct else ""))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
