"""The indicator step over N dirty days: what a daily refresh costs once late events reach back.

A daily refresh recomputes the stocks (registered residents, valid certificates, insured
employees) from the earliest day its deliveries touch: a back-dated birth, death or
enrolment, up to 30 days in the synthetic city as in real ones. Once a warehouse has more
history than that, the next day's indicator step covers about a month of days, not the one or
two a fresh bench city has.

This times ``compute`` (as ``marts/indicator_values`` runs it) over the last N days of a
warehouse generated and refreshed before (``--home``), in place: those days get the values a
refresh would give them. Every day of a range is read from the libraries as they stand, so
the cost is that of a warehouse with that much history (only certificate uses exist for the
generated days alone). Each range is timed two ways:

* as a **backfill** computes it: every indicator on every day;
* as the **refresh** does when the back-dated events are the stocks' while every feed's
  deliveries of the day are dated that day: the stocks over the range, each flow (certificate
  uses above all, ~17M a day at city scale) on the last day only.

Per run it prints the seconds and the statements that took longest.

    .venv/bin/python bench/day.py --keep /tmp/cb-city          # a city-scale home, kept
    .venv/bin/python bench/indicators.py --home /tmp/cb-city --days 2 30
    .venv/bin/python bench/indicators.py --home /tmp/cb-city --days 30 --only refresh
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from warehouse.contract.feeds import FEEDS  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402
from warehouse.marts.indicators import compute  # noqa: E402


class _Timed:
    """A connection that records how long each statement took."""

    def __init__(self, con) -> None:
        self.con, self.log = con, []

    def execute(self, sql: str, *args):
        t0 = time.perf_counter()
        out = self.con.execute(sql, *args)
        self.log.append((time.perf_counter() - t0, " ".join(sql.split())))
        return out

    def __getattr__(self, name: str):
        return getattr(self.con, name)


def _label(sql: str) -> str:
    """The statement's first comment, else its start."""
    text = sql.split("--", 1)[1] if "--" in sql[:80] else sql
    return text.strip()[:90]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="A home generated and refreshed before.")
    ap.add_argument("--days", type=int, nargs="+", default=[2, 30], help="Dirty ranges to time (days, ending on the last day).")
    ap.add_argument("--top", type=int, default=6, help="Statements to show per run.")
    ap.add_argument("--only", choices=["backfill", "refresh"], help="Time one of the two ways only.")
    args = ap.parse_args()
    con = connect(args.home / "warehouse.duckdb")
    last, as_of = con.execute("SELECT max(business_date), max(arrived_at) FROM ingest.live_deliveries").fetchone()
    uses = con.execute("SELECT count(DISTINCT CAST(used_at AS DATE)) FROM staging.certificate_usage").fetchone()[0]
    print(f"{args.home}: last business date {last}, certificate uses on {uses} day(s)")
    ways = {"backfill": None, "refresh": {f.id: last for f in FEEDS}}
    for n in args.days:
        first = last - dt.timedelta(days=n - 1)
        for way, since in ways.items():
            if args.only and way != args.only:
                continue
            timed = _Timed(con)
            t0 = time.perf_counter()
            compute.compute(timed, first, last, as_of + dt.timedelta(hours=1), since)
            print(f"{n:3d} dirty days ({first} .. {last}) as a {way}: {time.perf_counter() - t0:6.1f} s")
            for seconds, sql in sorted(timed.log, reverse=True)[: args.top]:
                print(f"      {seconds:6.2f} s  {_label(sql)}")


if __name__ == "__main__":
    main()
