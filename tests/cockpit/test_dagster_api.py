"""The pipeline-runs page's client against a real Dagster webserver: list runs, launch the
daily refresh, launch an indicator backfill; and the names it relies on match the code location."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from cockpit import dagster_api
from pipelines.definitions import defs


def test_the_names_the_cockpit_sends_exist_in_the_code_location() -> None:
    assert defs.resolve_job_def(dagster_api.DAILY_JOB)
    graph = defs.resolve_asset_graph()
    partitioned = graph.get(dg.AssetKey(list(dagster_api.PARTITIONED_ASSET)))
    assert partitioned.partitions_def is not None
    for key in dagster_api.AFTER_INDICATORS:
        assert graph.get(dg.AssetKey(list(key))).partitions_def is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("dagster")
    dagster_home = root / "dagster"
    dagster_home.mkdir()
    shutil.copy(Path(__file__).parents[2] / "pipelines" / "dagster.yaml", dagster_home)
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "CITYBRAIN_HOME": str(root / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "dagster_webserver", "-m", "pipelines.definitions", "-h", "127.0.0.1",
                             "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, "the Dagster webserver exited"
            assert time.monotonic() < deadline, "the Dagster webserver did not start in 120 s"
            time.sleep(1)
        yield url, dagster_home
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_runs_are_listed_and_launched_through_dagsters_graphql(dagster_url, monkeypatch) -> None:
    url, dagster_home = dagster_url
    monkeypatch.setenv("CITYBRAIN_DAGSTER_URL", url)
    assert dagster_api.recent_runs() == []
    run_id = dagster_api.launch_refresh("ana")
    runs = dagster_api.recent_runs()
    assert [r.run_id for r in runs] == [run_id]
    assert runs[0].job == dagster_api.DAILY_JOB and runs[0].tags["citybrain/launched_by"] == "ana"
    backfill_id = dagster_api.launch_backfill("2026-11-01", "2026-11-03", "ana")
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        backfill = instance.get_backfill(backfill_id)
        subset = backfill.asset_backfill_data.target_subset
        days = subset.get_partitions_subset(dg.AssetKey(list(dagster_api.PARTITIONED_ASSET))).get_partition_keys()
        assert sorted(days) == ["2026-11-01", "2026-11-02", "2026-11-03"]
        assert backfill.tags["citybrain/launched_by"] == "ana"


def test_a_stopped_dagster_is_reported_in_plain_words(monkeypatch) -> None:
    monkeypatch.setenv("CITYBRAIN_DAGSTER_URL", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(dagster_api.DagsterUnavailable, match="not answering"):
        dagster_api.recent_runs()
