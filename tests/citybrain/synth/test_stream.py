"""The synthetic hotline stream (issue #33): the daily feed's events in time order, with
planted surges that the truth file lists exactly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from citybrain.synth.stream import events
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect

DAYS = [dt.date(2026, 11, 30), dt.date(2026, 12, 1)]


def test_events_are_ordered_reproducible_and_of_the_replayed_days() -> None:
    rows, surges = events(DAYS, seed=5)
    again, surges_again = events(DAYS, seed=5)
    assert rows == again and surges == surges_again
    times = [r["event_time"] for r in rows]
    assert times == sorted(times) and {t[:10] for t in times} == {d.isoformat() for d in DAYS}
    assert len({r["event_id"] for r in rows}) == len(rows)
    assert events(DAYS, seed=6)[0] != rows


def test_planted_surges_are_in_the_stream_as_the_truth_says() -> None:
    rows, surges = events(DAYS, seed=5)
    assert len(surges) == len(DAYS)
    for s in surges:
        inside = [r for r in rows if r["event_id"].startswith("RS") and r["district_code"] == s["district"]
                  and r["category"] == s["category"] and s["start"] <= r["event_time"] <= s["end"]]
        assert len(inside) == s["extra"] and all(r["event_type"] == "create" for r in inside)


def test_every_event_is_a_valid_row_of_the_daily_feed(tmp_path: Path) -> None:
    rows, _ = events(DAYS, seed=5)
    for day in DAYS:
        folder = tmp_path / "landing" / "hotline" / "service_requests" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / "day.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows if r["event_time"][:10] == day.isoformat()), encoding="utf-8")
    con = connect(tmp_path / "warehouse.duckdb")
    outs = ingest_landing(con, tmp_path / "landing", tmp_path / "tmp")
    assert [o.status for o in outs] == ["accepted", "accepted"]
    assert con.execute("SELECT count(*) FROM staging.service_requests").fetchone()[0] == len(rows)
