"""The cockpit under 20 concurrent users, next to the same queries run directly on DuckDB.

Serves a refreshed data directory's current snapshot with ``citybrain cockpit`` (gunicorn)
and drives simulated users (city managers, district managers, analysts) through the
overview and the indicator explorer, posting the callbacks the browser would, each user
pausing a random 0.5-1.5 x ``--think`` seconds between actions as a person does
(``--think 0`` turns it into a stress test of throughput). Prints, per
callback, p50/p95 of the server's own time (Server-Timing) and of the time seen by the
client, beside p50/p95 of the callback's warehouse queries run directly on the snapshot,
one at a time, in this process. Target: p95 server time under 150 ms.

    CITYBRAIN_HOME=/data/city .venv/bin/citybrain generate --scale city
    CITYBRAIN_HOME=/data/city .venv/bin/citybrain refresh
    .venv/bin/python bench/cockpit.py --home /data/city
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dash_client import BENCH_USERS, DashUser, percentile, scratch_home, start_cockpit  # noqa: E402

from cockpit import context, data  # noqa: E402
from cockpit.roles import Principal  # noqa: E402
from warehouse.home import Home  # noqa: E402
from warehouse.publish import current  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scenario:
    """What one simulated user does in a round, with the choices a person would make."""

    def __init__(self, username: str, seed: int, districts: list[str], indicators: list[str], city: str, days: list[str]):
        self.username, self.role = username, BENCH_USERS[username][0]
        self.rng = random.Random(seed)
        self.districts, self.indicators, self.city, self.days = districts, indicators, city, days

    def _areas(self) -> list[str]:
        if self.role == "district_manager":
            return [BENCH_USERS[self.username][1], self.city]
        return self.rng.sample(self.districts, self.rng.randint(1, 3)) + [self.city]

    def round(self, user: DashUser, think: float) -> None:
        def pause() -> None:
            time.sleep(think * self.rng.uniform(0.5, 1.5))

        if self.role != "analyst":
            user.page("/")
            user.call("overview", "ov-asof.children", [None])
            pause()
            user.call("overview", "ov-asof.children", [self.rng.choice(self.districts)])
            pause()
        user.page("/explorer")
        first, last = sorted(self.rng.sample(self.days, 2)) if len(self.days) > 1 else (None, None)
        user.call("explorer", "ex-graph.figure",
                  [self.rng.sample(self.indicators, self.rng.randint(1, 3)), self._areas(), first, last])
        pause()


def _direct(home: Path, rounds: int, seed: int, city: str, districts: list[str], indicators: list[str]) -> dict[str, list[float]]:
    """The queries behind each callback, run directly on the snapshot (no HTTP, no Dash)."""
    context.init(Home(home))
    rng = random.Random(seed)
    boss = Principal("boss", "city_manager")
    out: dict[str, list[float]] = {"page /": [], "overview": [], "page /explorer": [], "explorer": []}
    for _ in range(rounds):
        area = rng.choice(districts + [city])
        steps = {
            "page /": lambda: (data.info(), data.districts()),
            "overview": lambda a=area: (data.info(), data.districts(), data.scores(a), data.catalog(), data.kpis(a),
                                        data.district_scores(), data.alerts_for(boss)),
            "page /explorer": lambda: (data.info(), data.catalog(), data.districts()),
            "explorer": lambda: (data.series(rng.sample(indicators, 2), rng.sample(districts, 2) + [city], None, None),
                                 data.catalog()),
        }
        for name, run in steps.items():
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
    args = ap.parse_args()
    snapshot = current(args.home / "serving")
    if snapshot is None:
        sys.exit(f"{args.home} has no serving snapshot: run `citybrain refresh` there first")
    root = scratch_home(args.home)
    try:
        context.init(Home(root))
        city = data.info()["city_code"]
        districts = list(data.districts().district_code)
        indicators = list(data.catalog().indicator_id)
        days = [str(d)[:10] for d in data.series(["pop.registered"], [city], None, None).date]
        print(f"snapshot {snapshot.name} ({snapshot.stat().st_size / 2**20:.0f} MiB), {len(indicators)} indicators, "
              f"{len(days)} days; {args.users} users (think {args.think:.1f} s) for {args.seconds:.0f} s against gunicorn "
              f"{args.workers}x{args.threads}", flush=True)
        port = _free_port()
        server = start_cockpit(root, port, args.workers, args.threads)
        try:
            drivers = ["boss", "xihu", "ana"]  # the overview's and explorer's users
            names = [drivers[i % len(drivers)] for i in range(args.users)]
            users = [DashUser(f"http://127.0.0.1:{port}", n) for n in names]
            stop = time.monotonic() + args.seconds
            rounds = [0] * len(users)

            def work(i: int) -> None:
                scenario = Scenario(names[i], args.seed + i, districts, indicators, city, days)
                while time.monotonic() < stop:
                    scenario.round(users[i], args.think)
                    rounds[i] += 1

            threads = [threading.Thread(target=work, args=(i,)) for i in range(len(users))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
        direct = _direct(root, 30, args.seed, city, districts, indicators)
        timings: dict[str, list[tuple[float, float]]] = {}
        for u in users:
            for name, values in u.timings.items():
                timings.setdefault(name, []).extend(values)
        errors = [e for u in users for e in u.errors]
        total = sum(len(v) for v in timings.values())
        print(f"\n{total} callbacks in {sum(rounds)} user rounds, {len(errors)} errors"
              + (f" (first: {errors[0]})" if errors else ""))
        print(f"{'callback':<16}{'n':>6}{'server p50':>12}{'server p95':>12}{'client p50':>12}{'client p95':>12}"
              f"{'direct p50':>12}{'direct p95':>12}{'p95 ratio':>11}")
        worst = 0.0
        for name, values in sorted(timings.items()):
            client = [c for c, _ in values]
            server_ms = [s for _, s in values]
            d = direct.get(name, [])
            p95 = percentile(server_ms, 95)
            worst = max(worst, p95)
            ratio = p95 / percentile(d, 95) if d else float("nan")
            print(f"{name:<16}{len(values):>6}{percentile(server_ms, 50):>12.1f}{p95:>12.1f}{percentile(client, 50):>12.1f}"
                  f"{percentile(client, 95):>12.1f}{percentile(d, 50):>12.1f}{percentile(d, 95):>12.1f}{ratio:>10.1f}x")
        print(f"\nworst p95 server time {worst:.1f} ms (target < 150 ms): {'met' if worst < 150 else 'NOT met'}; "
              f"median direct query time per callback {statistics.median(x for v in direct.values() for x in v):.1f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
