"""The pipeline-runs page's client against a real Dagster webserver, served on its private
socket as scripts/up serves it: list runs, launch the daily refresh, launch an indicator
backfill; and the names it relies on match the code location."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from helpers import served_dagster

from cockpit import context, dagster_api
from pipelines.definitions import defs
from warehouse.settings import Settings
from warehouse.storage.home import Home


def test_the_names_the_cockpit_sends_exist_in_the_code_location() -> None:
    assert defs.resolve_job_def(dagster_api.DAILY_JOB)
    graph = defs.resolve_asset_graph()
    partitioned = graph.get(dg.AssetKey(list(dagster_api.PARTITIONED_ASSET)))
    assert partitioned.partitions_def is not None
    for key in dagster_api.AFTER_INDICATORS:
        assert graph.get(dg.AssetKey(list(key))).partitions_def is None


@pytest.fixture(scope="module")
def dagster_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Dagster's webserver as scripts/up serves it: on a socket in the data directory."""
    with served_dagster(tmp_path_factory.mktemp("dagster")) as served:
        yield served


def test_runs_are_listed_and_launched_through_dagsters_graphql(dagster_socket, tmp_path: Path) -> None:
    sock, dagster_home = dagster_socket
    context.init(Home(tmp_path), Settings(dagster_socket=sock))  # as the app factory hands the settings on
    assert sock.parent.stat().st_mode & 0o077 == 0  # no other user of the host can reach the socket
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


def test_a_stopped_dagster_is_reported_in_plain_words(tmp_path: Path) -> None:
    context.init(Home(tmp_path), Settings(dagster_socket=tmp_path / "dagster.sock"))
    with pytest.raises(dagster_api.DagsterUnavailable, match="not answering"):
        dagster_api.recent_runs()
