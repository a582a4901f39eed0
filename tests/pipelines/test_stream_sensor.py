"""The landing sensor and a stream's micro-batches (issue #33): a batch waits for the next
refresh, it does not start one; a daily file still does, and that refresh ingests both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.ingest import staging_key
from pipelines.definitions import defs
from pipelines.sensors import landing_sensor
from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.ingest.landing import digests, scan


@pytest.fixture
def home(tiny_city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "h"
    shutil.copytree(tiny_city, h)
    monkeypatch.setenv("CITYBRAIN_HOME", str(h))
    return h


def test_a_stream_batch_waits_for_the_next_refresh(home: Path) -> None:
    hotline = FEEDS_BY_ID["hotline/service_requests"]
    folder = home / "landing" / "hotline" / "service_requests" / "2026-11-20"
    with dg.instance_for_test() as instance:
        first = landing_sensor(dg.build_sensor_context(instance=instance, cursor=None, repository_def=defs.get_repository_def()))
        assert isinstance(first, dg.SensorResult)
        before = digests(home / "landing")
        batch = folder / "stream-000000000001-000000000002-1of1.jsonl"
        batch.parent.mkdir(parents=True, exist_ok=True)
        batch.write_text(json.dumps({"event_id": "S1"}) + "\n", encoding="utf-8")
        assert digests(home / "landing") == before
        assert batch in {f.path for f in scan(home / "landing")}  # a refresh still reads it
        ctx = dg.build_sensor_context(instance=instance, cursor=first.cursor, repository_def=defs.get_repository_def())
        assert isinstance(landing_sensor(ctx), dg.SkipReason)
        # A daily file of the same feed starts a refresh, as before.
        (folder / "service_requests_late.jsonl").write_text(batch.read_text(encoding="utf-8"), encoding="utf-8")
        ctx = dg.build_sensor_context(instance=instance, cursor=first.cursor, repository_def=defs.get_repository_def())
        (req,) = landing_sensor(ctx).run_requests
        assert staging_key(hotline) in req.asset_selection
