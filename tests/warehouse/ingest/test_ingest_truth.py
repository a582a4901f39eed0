"""Ingestion scored against the generator's ground truth: every planted defect, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import found_deliveries, found_rejections, ingest_all, make_city, truth_deliveries, truth_rejections

from warehouse.contract.feeds import FEEDS
from warehouse.ingest.schema import staging_table


def _assert_matches_truth(home: Path) -> None:
    con = ingest_all(home)
    expected, found = truth_rejections(home), found_rejections(con)
    assert not expected - found, f"planted defects not detected: {sorted(expected - found)[:5]}"
    assert not found - expected, f"clean rows rejected: {sorted(found - expected)[:5]}"
    ledger = found_deliveries(con)
    for d in truth_deliveries(home):
        key = (d["department"], d["feed"], d["business_date"], d["file_name"])
        assert key in ledger, key
        reason, status, read, accepted, rejected, extra = ledger[key]
        assert reason == d["file_reason"], (key, reason)
        assert read == accepted + rejected
        if d["file_reason"] in ("", "missing_column", "manifest_mismatch"):
            assert read == int(d["rows"]), key
        if d["file_reason"]:
            assert status == "rejected" and accepted == 0
        assert extra == (["remark"] if d["extra_columns"] else [])
    assert len(ledger) == len(truth_deliveries(home))
    # Every accepted row is staged exactly once with its lineage.
    every_staged = " UNION ALL ".join(f"SELECT _delivery_id FROM {staging_table(f)}" for f in FEEDS)
    staged_feeds = con.execute(
        f"SELECT d.feed, count(*) FROM ingest.deliveries d JOIN ({every_staged}) s ON s._delivery_id = d.delivery_id GROUP BY 1"
    ).fetchall()
    for feed, staged in staged_feeds:
        assert staged == con.execute("SELECT sum(rows_accepted) FROM ingest.deliveries WHERE feed = ?", [feed]).fetchone()[0]


def test_tiny_city_seed_1(tiny_city: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    _assert_matches_truth(home)


@pytest.mark.parametrize("seed, end", [(2, "2026-02-20"), (3, "2026-10-05")])  # Spring Festival; National Day
def test_tiny_city_other_seeds(tmp_path: Path, seed: int, end: str) -> None:
    _assert_matches_truth(make_city(tmp_path, seed=seed, end=end))


@pytest.mark.slow
def test_small_city(tmp_path: Path) -> None:
    _assert_matches_truth(make_city(tmp_path, scale="small", seed=5, days=30))
