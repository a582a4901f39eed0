"""The synthetic city: deterministic, valid identifiers, contract paths and columns, full defect coverage."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from helpers import make_city, truth_deliveries, truth_rejections
from stdnum.cn import ric, uscc

from warehouse.contract.city import load_city
from warehouse.contract.feeds import FEEDS, FEEDS_BY_ID, FILE_REASONS, ROW_REASONS


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() + f":{p.stat().st_mtime_ns}"
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_city_other_seed_other_city(tmp_path: Path, tiny_city: Path) -> None:
    again = make_city(tmp_path / "again", seed=1)
    assert _digest(again / "landing") == _digest(tiny_city / "landing")
    assert (again / "truth" / "rejections.csv").read_bytes() == (tiny_city / "truth" / "rejections.csv").read_bytes()
    other = make_city(tmp_path / "other", seed=2)
    assert _digest(other / "landing") != _digest(tiny_city / "landing")


def test_every_identifier_in_clean_rows_is_valid_per_stdnum(tiny_city: Path) -> None:
    checked = 0
    for f in FEEDS:
        table = pq.read_table(tiny_city / "truth" / "clean" / f"{f.department}__{f.name}.parquet").to_pylist()
        for row in table:
            for c in f.columns:
                v = row[c.name]
                if v is None and not c.required:  # an optional identifier left empty
                    continue
                if c.kind == "id_number" or (c.kind == "holder_id" and row["holder_type"] == "person"):
                    assert ric.is_valid(v), (f.id, c.name, v)
                    checked += 1
                elif c.kind == "uscc" or (c.kind == "holder_id" and row["holder_type"] == "legal_person"):
                    assert uscc.is_valid(v), (f.id, c.name, v)
                    checked += 1
            if f.id == "psb/household_events":
                assert ric.get_birth_date(row["id_number"]).isoformat() == row["birth_date"]
                assert int(row["id_number"][16]) % 2 == (1 if row["gender"] == "1" else 0)
    assert checked > 5000


def test_ground_truth_covers_every_reason(tiny_city: Path) -> None:
    row_reasons = {r[5] for r in truth_rejections(tiny_city)}
    assert row_reasons == set(ROW_REASONS)
    file_reasons = {d["file_reason"] for d in truth_deliveries(tiny_city)} - {""}
    assert file_reasons == set(FILE_REASONS) | {"unknown_feed"}


def test_deliveries_land_at_contract_paths_with_contract_columns(tiny_city: Path) -> None:
    check_contract_paths_and_columns(tiny_city)


def check_contract_paths_and_columns(tiny_city: Path) -> None:
    """Every clean delivery sits at its CONTRACT path with the CONTRACT columns, in every format and encoding."""
    city = set(load_city().district_codes)
    seen_formats, seen_encodings = set(), set()
    con = duckdb.connect()
    for d in truth_deliveries(tiny_city):
        if d["file_reason"]:
            continue
        feed = FEEDS_BY_ID[f"{d['department']}/{d['feed']}"]
        path = tiny_city / "landing" / d["department"] / d["feed"] / d["business_date"] / d["file_name"]
        assert path.is_file(), path
        seen_formats.add(d["format"])
        seen_encodings.add(d["encoding"])
        expected = feed.column_names + (["remark"] if d["extra_columns"] else [])
        if d["format"] == "csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == (d["encoding"] == "utf-8-sig")
            text = raw.decode("gb18030" if d["encoding"] == "gb18030" else "utf-8-sig")
            header = next(csv.reader(text.splitlines()[:1]))
            assert header == expected
        elif d["format"] == "parquet":
            assert pq.read_schema(path).names == expected
        else:
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a planted malformed line
                assert list(obj) == expected
        manifest = path.with_name(path.name + ".manifest.json")
        if manifest.exists():
            m = json.loads(manifest.read_text())
            assert m["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert m["rows"] == int(d["rows"])
    assert seen_formats == {"csv", "jsonl", "parquet"}
    assert {"utf-8", "utf-8-sig", "gb18030"} <= seen_encodings
    # Every district of the city appears in the population feed.
    districts = {r[0] for r in con.execute(
        f"SELECT DISTINCT district_code FROM read_parquet('{tiny_city}/truth/clean/psb__household_events.parquet')").fetchall()}
    assert districts == city


def test_every_business_day_has_every_feed_unless_planted_missing(tiny_city: Path) -> None:
    summary = json.loads((tiny_city / "truth" / "summary.json").read_text())
    with open(tiny_city / "truth" / "missing.csv", encoding="utf-8") as fh:
        missing = {(r["department"], r["feed"], r["business_date"]) for r in csv.DictReader(fh)}
    assert missing, "the generator plants at least one missing delivery"
    import datetime as dt

    start = dt.date.fromisoformat(summary["start"])
    for i in range(summary["days"]):
        day = (start + dt.timedelta(i)).isoformat()
        for f in FEEDS:
            files = list((tiny_city / "landing" / f.department / f.name / day).glob(f"{f.name}_*"))
            if (f.department, f.name, day) in missing:
                assert not [p for p in files if "resend" not in p.name]
            else:
                assert files, (f.id, day)


@pytest.mark.slow
def test_small_scale_matches_its_description(tmp_path: Path) -> None:
    home = make_city(tmp_path, scale="small", seed=3, days=30)
    check_contract_paths_and_columns(home)
    con = duckdb.connect()
    persons = con.execute(
        f"SELECT count(DISTINCT id_number) FROM read_parquet('{home}/truth/clean/psb__household_events.parquet') WHERE event_type = 'update'"
    ).fetchone()[0]
    entities = con.execute(
        f"SELECT count(DISTINCT uscc) FROM read_parquet('{home}/truth/clean/samr__entity_events.parquet')"
    ).fetchone()[0]
    assert 95_000 <= persons <= 105_000
    assert 9_500 <= entities <= 12_000
    # Workdays carry far more registrations than rest days (offices are closed).
    import datetime as dt

    from warehouse.contract.workdays import is_workday

    dates = [r[0] for r in con.execute(
        f"SELECT CAST(registration_date AS DATE) FROM read_parquet('{home}/truth/clean/civil__marriage_registrations.parquet')"
    ).fetchall()]
    window = [dt.date(2026, 11, 20) - dt.timedelta(i) for i in range(30)]
    work_days = [d for d in window if is_workday(d)]
    per_workday = sum(1 for d in dates if is_workday(d)) / len(work_days)
    per_rest_day = sum(1 for d in dates if not is_workday(d)) / (len(window) - len(work_days))
    assert per_workday > 3 * per_rest_day


def test_a_person_who_dies_before_ever_holding_an_identity_card_is_generated(tmp_path: Path) -> None:
    """Small city, seed 3, 60 days: on 2026-11-11 someone born or moved in after the last card was
    issued dies (the generator used to index past the end of its card table and stop)."""
    home = make_city(tmp_path, scale="small", seed=3, days=60, end="2026-11-20")
    assert sorted(p.name for p in (home / "landing" / "psb" / "household_events").iterdir())[-1] == "2026-11-20"
