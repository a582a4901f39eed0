"""From a file landing to the cockpit showing it, with the platform running as scripts/up runs it.

Generates a city in a scratch folder and holds its last ``--rounds`` days back, refreshes
the rest from the command line (as scripts/up does on start), then serves the whole platform
with ``citybrain serve`` (cockpit, Dagster's webserver and daemon: the landing sensor at
``--interval`` seconds). Each round drops one held day's deliveries (every feed) into the
landing zone and asks the cockpit, as a signed-in analyst, for that day's city-wide
indicator values (the explorer's download callback) every half second until they come
back. Prints, per round, the seconds from landing to screen and where they went: waiting
for the sensor, the ingest run, the hand-over to the indicators run, the indicators run and
publishing (from Dagster's own run records). Targets: <= 30 s at small scale, <= 90 s at city
scale, the sensor's interval included.

    .venv/bin/python bench/landing.py                       # small city, 2 rounds, the platform's sensor interval
    .venv/bin/python bench/landing.py --interval 10 --rounds 3
    .venv/bin/python bench/landing.py --scale city --days 2 --rounds 1
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dash_client import PASSWORD, DashUser, free_port  # noqa: E402
from libraries import deliver_held, hold_back  # noqa: E402

from citybrain.synth.generate import generate  # noqa: E402
from cockpit.auth import add_user  # noqa: E402
from warehouse.contract.city import load_city  # noqa: E402
from warehouse.ops.store import OpsStore  # noqa: E402
from warehouse.settings import settings  # noqa: E402

BIN = Path(sys.executable).parent
INDICATOR = "svc.requests"  # every day of the hotline has requests: the value is never absent


def _shown(user: DashUser, city: str, day: str) -> bool:
    """Whether the cockpit returns ``day``'s city-wide value (the explorer's CSV download)."""
    body = user.call("download", "ex-download.data", [1], [[INDICATOR], [city], day, day])
    data = (body or {}).get("response", {}).get("ex-download", {}).get("data") or {}
    text = data.get("content", "")
    if data.get("base64"):
        text = base64.b64decode(text).decode("utf-8-sig")
    return day in text


def _wait_until_up(proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("citybrain serve stopped:\n" + log.read_text()[-3000:])
        if "City Brain is up" in log.read_text():
            return
        time.sleep(0.5)
    raise RuntimeError("the platform did not come up in 300 s")


def _runs_since(dagster_home: Path, since: float) -> list[tuple[str, float, float, float]]:
    """(job, created, started, ended) of the runs created after ``since`` (epoch seconds)."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        out = []
        for rec in instance.get_run_records():
            if rec.create_timestamp.timestamp() >= since:
                out.append((rec.dagster_run.job_name, rec.create_timestamp.timestamp(), rec.start_time or 0.0,
                            rec.end_time or 0.0))
    return sorted(out, key=lambda r: r[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small", choices=["tiny", "small", "city"])
    ap.add_argument("--days", type=int, default=30, help="days of history generated (the held days included)")
    ap.add_argument("--rounds", type=int, default=2, help="days held back and landed one at a time")
    ap.add_argument("--interval", type=int, default=settings().landing_interval, help="the landing sensor's interval in seconds (default: the platform's)")
    ap.add_argument("--end", default="2026-11-20")
    args = ap.parse_args()
    end = dt.date.fromisoformat(args.end)
    home = Path(tempfile.mkdtemp(prefix=f"cb-bench-landing-{args.scale}-"))
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "CITYBRAIN_LANDING_INTERVAL": str(args.interval)}
    serve = None
    try:
        t0 = time.perf_counter()
        generate(home, args.scale, args.days, end, 5, progress=False, clean_truth=False)
        days = [end - dt.timedelta(days=i) for i in range(args.rounds - 1, -1, -1)]
        held = {d: hold_back(home, d, home / "held" / d.isoformat()) for d in days}
        print(f"generated {args.days} days at {args.scale} scale in {time.perf_counter() - t0:.0f} s; "
              f"holding back {', '.join(map(str, days))}", flush=True)
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "citybrain"), "refresh"], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"start-up refresh in {time.perf_counter() - t0:.0f} s", flush=True)
        add_user(OpsStore(home), "bench", PASSWORD, "analyst", None)

        port = free_port()
        log = home / "serve.log"
        serve = subprocess.Popen([str(BIN / "citybrain"), "serve", "--port", str(port)], env=env, stdout=log.open("w"),
                                 stderr=subprocess.STDOUT, process_group=0)
        _wait_until_up(serve, log)
        user = DashUser(f"http://127.0.0.1:{port}", "bench")
        city = load_city().code
        time.sleep(args.interval + 2)  # the sensor has looked once: a round starts anywhere in its cycle
        totals = []
        for day in days:
            landed = time.time()
            deliver_held(home, held[day])
            while not _shown(user, city, day.isoformat()):
                if time.time() - landed > 600:
                    raise RuntimeError(f"{day} did not reach the cockpit in 600 s; see {home / 'logs'}")
                time.sleep(0.5)
            total = time.time() - landed
            totals.append(total)
            runs = _runs_since(home / "dagster", landed)
            parts = []
            previous = landed
            for job, created, started, ended in runs:
                if not ended:  # published; the run is still recording its last events
                    parts.append(f"wait {created - previous:5.1f} s, {job} (start-up {started - created:4.1f} s) still finishing")
                    previous = landed + total
                    continue
                parts.append(f"wait {created - previous:5.1f} s, {job} {ended - created:5.1f} s "
                             f"(of which start-up {started - created:4.1f} s)")
                previous = ended
            after = landed + total - previous
            # Publishing comes before the run records its own end, so the screen may be first.
            shown = f"then on screen after {after:4.1f} s" if after >= 0.05 else "on screen as the run ended"
            print(f"round {day}: landing -> screen {total:5.1f} s   [{'; '.join(parts)}; {shown}]", flush=True)
        target = 30 if args.scale != "city" else 90
        print(f"median landing -> screen: {statistics.median(totals):.1f} s over {len(totals)} rounds "
              f"(sensor interval {args.interval} s; target <= {target} s at {args.scale} scale)")
    finally:
        if serve is not None:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=90)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
