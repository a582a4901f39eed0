"""The serving snapshot: never seen half published, kept per day, and carrying the lineage
from every indicator back to its deliveries."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from helpers import AS_OF_TIME as AS_OF

from warehouse.serving.publish import current, list_snapshots, publish
from warehouse.serving.snapshot import Snapshot


def test_snapshot_is_never_seen_half_published(tiny, tmp_path: Path) -> None:
    home, con = tiny
    serving = tmp_path / "serving"
    publish(con, serving, AS_OF, run_id="first")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), "12"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for i in range(6):
        publish(con, serving, AS_OF, run_id=f"run{i}", newest=3)
        time.sleep(0.3)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err[-2000:]
    reads, errors, runs = out.split()
    assert int(errors) == 0 and int(reads) > 20 and int(runs) >= 2
    assert len(list(serving.glob("snapshot-*.duckdb"))) == 3
    assert current(serving).exists()

def test_retention_keeps_each_days_last_snapshot_and_the_newest(tiny, tmp_path: Path) -> None:
    """Two refreshes a day for four days, kept 3 days and the newest 2: the last snapshot of
    each of the last three days stays, and the newest two (both of the last day), whatever
    the number of refreshes; each kept day opens on its own last snapshot."""
    _, con = tiny
    serving = tmp_path / "serving"
    first = AS_OF - dt.timedelta(days=3)
    for n in range(4):
        for hour in (7, 19):
            clock = first.replace(hour=hour) + dt.timedelta(days=n)
            publish(con, serving, clock, run_id=f"day{n}-{hour}", days=3, newest=2)
    kept = [(s.day - first.date()).days for s in list_snapshots(serving)]
    assert kept == [1, 2, 3, 3]
    snap = Snapshot(serving)
    runs = {}
    for day in snap.days():
        path, cur = snap.pinned(day)
        runs[(day - first.date()).days] = dict(cur.execute("SELECT key, value FROM snapshot_info").fetchall())["run_id"]
    assert runs == {1: "day1-19", 2: "day2-19", 3: "day3-19"}
    assert snap.pinned(first.date()) == (None, None)  # pruned: nothing, never another day's
    assert snap.pinned()[0] == current(serving) == snap.days()[first.date() + dt.timedelta(days=3)]

def test_every_accepted_row_leads_back_to_its_delivery(tiny, tmp_path: Path) -> None:
    """The snapshot's lineage counts every accepted row of every live delivery once, by day and
    district, and names the feeds behind every indicator."""
    _, con = tiny
    path = publish(con, tmp_path / "serving", AS_OF)
    snap = duckdb.connect(str(path), read_only=True)
    by_delivery = dict(snap.execute("SELECT delivery_id, sum(rows) FROM value_sources GROUP BY 1").fetchall())
    live = dict(snap.execute("SELECT delivery_id, rows_accepted FROM deliveries WHERE status IN ('accepted', 'partial') "
                             "AND rows_accepted > 0").fetchall())
    assert by_delivery == live and live
    missing = snap.execute("SELECT indicator_id FROM indicator_catalog EXCEPT SELECT indicator_id FROM indicator_feeds").fetchall()
    assert missing == []
    births = snap.execute("SELECT department || '/' || feed, basis FROM indicator_feeds WHERE indicator_id = 'pop.births'").fetchall()
    assert births == [("psb/household_events", "event")]
    snap.close()

READER = """
import sys, time
from pathlib import Path
from warehouse.serving.snapshot import Snapshot
serving, seconds = Path(sys.argv[1]), float(sys.argv[2])
snap = Snapshot(serving)
reads = errors = 0
runs = set()
end = time.time() + seconds
while time.time() < end:
    try:
        con = snap.connection()
        info = dict(con.execute("SELECT key, value FROM snapshot_info").fetchall())
        for key, value in info.items():
            if key.startswith("rows:"):
                n = con.execute(f"SELECT count(*) FROM {key[5:]}").fetchone()[0]
                assert n == int(value), (key, n, value)
        runs.add(info["run_id"])
        reads += 1
    except Exception as e:
        errors += 1
        print(repr(e), file=sys.stderr)
    time.sleep(0.02)
print(reads, errors, len(runs))
"""
