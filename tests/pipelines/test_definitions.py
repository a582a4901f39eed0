"""The Dagster code location: definitions load, the job runs, the sensor and schedule request it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.ingest import CHECKS, INGEST_ASSETS, staging_key
from assets.resources import WarehouseResource
from pipelines.definitions import defs
from pipelines.jobs import next_indicator_run, partition_range_tags
from pipelines.run import run_daily_job
from pipelines.sensors import indicators_after_refresh, landing_sensor
from warehouse.contract.feeds import FEEDS, FEEDS_BY_ID
from warehouse.libraries.build import LIBRARIES
from warehouse.storage.home import Home

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tiny_city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "h"
    shutil.copytree(tiny_city, h)
    monkeypatch.setenv("CITYBRAIN_HOME", str(h))
    return h


def test_definitions_validate_with_the_dagster_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_names_table_the_cockpit_reads_is_derived_from_the_definitions() -> None:
    """Every job, step, schedule and sensor carries its names on its definition, and the table
    the cockpit reads them from (with the job and asset names it sends) is current."""
    from pipelines.names import TABLE, derive, render

    table = derive(defs)  # a definition without its names raises KeyError
    assert TABLE.read_text(encoding="utf-8") == render(table), "stale: run python -m pipelines.names"
    assert set(table["job"]) >= {j.name for j in defs.resolve_all_job_defs()} - {"__ASSET_JOB"}
    assert set(table["instigator"]) == {s.name for s in [*defs.schedules, *defs.sensors]}
    for kind in ("job", "step", "instigator"):
        for code, (zh, en) in table[kind].items():
            assert zh and en and zh != en, (kind, code)
    library_steps = {"__".join(lib.models[-1].table.split(".")): (lib.name_zh, lib.name_en) for lib in LIBRARIES.values()}
    assert {k: tuple(v) for k, v in table["step"].items() if k in library_steps} == library_steps


def test_every_feed_has_an_asset_in_the_warehouse_pool_with_its_checks() -> None:
    graph = defs.resolve_asset_graph()
    for f in FEEDS:
        node = graph.get(staging_key(f))
        assert node.pools == {"warehouse"}
        assert {c.name for c in graph.get_check_keys_for_assets({staging_key(f)})} == set(CHECKS)
    for name in ("daily_refresh", "indicators_refresh"):
        assert defs.resolve_job_def(name).executor_def.name == "in_process"
    assert graph.get(dg.AssetKey(["marts", "indicator_values"])).partitions_def is not None


def test_materialize_ingests_and_reports_checks(home: Path) -> None:
    result = dg.materialize(INGEST_ASSETS, resources={"warehouse": WarehouseResource(home=str(home))})
    assert result.success
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert len(checks) == len(FEEDS) * len(CHECKS)
    usage = checks[("certificate_usage", "schema_drift")]
    assert not usage.passed and "remark" in usage.metadata["unknown_columns_14d"].value  # the planted drift
    meta = {m.asset_key.path[-1]: m.materialization.metadata for m in result.get_asset_materialization_events()}
    assert meta["household_events"]["rows_read"].value > 2000
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest.deliveries WHERE feed = 'household_events'").fetchone()[0] >= 14


def test_the_daily_job_runs_in_process_and_is_recorded(home: Path) -> None:
    with dg.instance_for_test() as instance:
        result = run_daily_job(Home.resolve(home), "2026-11-21 07:00", instance)
        assert result.success
        runs = instance.get_run_records()
        assert sorted(r.dagster_run.job_name for r in runs) == ["daily_refresh", "indicators_refresh"]
        tags = next(r.dagster_run.tags for r in runs if r.dagster_run.job_name == "indicators_refresh")
        assert tags["dagster/asset_partition_range_start"] == "2026-11-07"
        assert tags["dagster/asset_partition_range_end"] == "2026-11-20"
        # The run-status sensor requests the same range after a daily_refresh that succeeded.
        daily = next(r for r in runs if r.dagster_run.job_name == "daily_refresh")
        success = next(iter(instance.get_records_for_run(daily.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records))
        with dg.build_run_status_sensor_context(sensor_name="indicators_after_refresh", dagster_instance=instance,
                                                dagster_run=daily.dagster_run,
                                                dagster_event=success.event_log_entry.dagster_event) as ctx:
            req = indicators_after_refresh(ctx)
        # One decision for both (pipelines.jobs.next_indicator_run): the sensor plans the run the CLI made.
        cli_range = {k: v for k, v in tags.items() if k.startswith("dagster/asset_partition_range_")}
        assert req.tags == cli_range == next_indicator_run(instance)
        again = run_daily_job(Home.resolve(home), "", instance)
        assert again.success
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest.deliveries WHERE reason = 'unknown_feed'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM population.persons").fetchone()[0] > 2000
    assert con.execute("SELECT as_of FROM meta.clock").fetchone()[0] is not None
    modes = [r[0] for r in con.execute("SELECT mode FROM meta.library_builds ORDER BY built_at").fetchall()]
    first = len(LIBRARIES)  # the first refresh builds every library in full
    assert modes[:first] == ["full"] * first and set(modes[first:]) <= {"unchanged", "incremental"}
    assert con.execute("SELECT count(DISTINCT date) FROM marts.indicator_values").fetchone()[0] == 14
    assert (home / "serving" / "CURRENT").exists() and (home / "open_data" / "indicators.csv").exists()


def test_indicators_backfill_over_a_date_range(home: Path) -> None:
    with dg.instance_for_test() as instance:
        assert run_daily_job(Home.resolve(home), "2026-11-21 07:00", instance).success
        con = duckdb.connect(str(home / "warehouse.duckdb"))
        before = con.execute("SELECT count(*) FROM marts.indicator_values").fetchone()[0]
        con.execute("DELETE FROM marts.indicator_values WHERE date BETWEEN '2026-11-10' AND '2026-11-12'")
        con.close()
        job = defs.resolve_job_def("indicators_refresh")
        run_config = {"resources": {"warehouse": {"config": {"home": str(home), "as_of": "2026-11-21 07:00"}}}}
        result = job.execute_in_process(instance=instance, run_config=run_config,
                                        tags=partition_range_tags("2026-11-10", "2026-11-12"))
        assert result.success
        assert {m.partition for m in result.get_asset_materialization_events() if m.asset_key.path[-1] == "indicator_values"} == {
            "2026-11-10", "2026-11-11", "2026-11-12"}
        single = job.execute_in_process(instance=instance, run_config=run_config, partition_key="2026-11-15")
        assert single.success
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM marts.indicator_values").fetchone()[0] == before


def test_landing_sensor_requests_only_what_changed(home: Path) -> None:
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=None, repository_def=defs.get_repository_def())
        first = landing_sensor(ctx)
        assert isinstance(first, dg.SensorResult)
        (req,) = first.run_requests
        assert set(req.asset_selection) >= {staging_key(f) for f in FEEDS}
        # Nothing changed: skip.
        ctx = dg.build_sensor_context(instance=instance, cursor=first.cursor, repository_def=defs.get_repository_def())
        assert isinstance(landing_sensor(ctx), dg.SkipReason)
        # A correction to one feed requests that feed only.
        p = next((home / "landing" / "civil" / "marriage_registrations").rglob("*.csv"))
        p.write_bytes(p.read_bytes() + b"\n")
        ctx = dg.build_sensor_context(instance=instance, cursor=first.cursor, repository_def=defs.get_repository_def())
        second = landing_sensor(ctx)
        (req,) = second.run_requests
        keys = {k.to_user_string() for k in req.asset_selection}
        assert staging_key(FEEDS_BY_ID["civil/marriage_registrations"]).to_user_string() in keys
        assert "population/persons" in keys and "quality/consistency_findings" in keys  # downstream of civil
        assert "marts/dirty_days" in keys and "marts/indicator_values" not in keys  # the indicators run next, by range
        assert not any(k.startswith("staging/") and "marriage" not in k for k in keys)
        assert req.run_key != first.run_requests[0].run_key


def test_landing_sensor_does_not_request_again_what_a_refresh_has_just_read(home: Path) -> None:
    """scripts/up refreshes from the command line, then starts the daemon: the sensor's first
    tick (no cursor of its own) finds nothing new; a file landing afterwards is requested."""
    with dg.instance_for_test() as instance:
        assert run_daily_job(Home.resolve(home), "2026-11-21 07:00", instance).success
        fresh = dg.build_sensor_context(instance=instance, cursor=None, repository_def=defs.get_repository_def())
        assert isinstance(landing_sensor(fresh), dg.SkipReason)
        late = home / "landing" / "health" / "death_records" / "2026-11-21" / "death_records_20261121.jsonl"
        late.parent.mkdir(parents=True)
        late.write_text(next((home / "landing" / "health" / "death_records").rglob("*.jsonl")).read_text(encoding="utf-8"),
                        encoding="utf-8")
        again = dg.build_sensor_context(instance=instance, cursor=None, repository_def=defs.get_repository_def())
        (req,) = landing_sensor(again).run_requests
        assert staging_key(FEEDS_BY_ID["health/death_records"]) in req.asset_selection
        assert staging_key(FEEDS_BY_ID["psb/household_events"]) not in req.asset_selection


def test_schedule_requests_the_daily_job_after_the_deadline() -> None:
    daily_schedule = defs.resolve_schedule_def("daily_after_deadline")
    assert daily_schedule.cron_schedule == "30 6 * * *"
    assert daily_schedule.execution_timezone == "Asia/Shanghai"
    # The context is entered and left, as the daemon does: left open, it would keep the test
    # instance's state storage as the process's current one after the instance is gone.
    with dg.instance_for_test() as instance, dg.build_schedule_context(instance=instance) as ctx:
        data = daily_schedule.evaluate_tick(ctx)
        (req,) = data.run_requests
        assert data.run_requests is not None and req.job_name in (None, "daily_refresh")


def test_cli_generate_then_refresh(tmp_path: Path) -> None:
    env = {**os.environ, "CITYBRAIN_HOME": str(tmp_path / "home"), "DAGSTER_HOME": ""}
    env.pop("DAGSTER_HOME")
    cli = [sys.executable, "-m", "citybrain"]
    gen = subprocess.run([*cli, "generate", "--days", "3", "--end", "2026-11-20", "--seed", "4", "--quiet"],
                         env=env, capture_output=True, text=True, cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr[-2000:]
    ref = subprocess.run([*cli, "refresh", "--as-of", "2026-11-21 07:00"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert "deliveries in the ledger" in ref.stdout
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()
    bad = subprocess.run([*cli, "refresh", "--as-of", "tomorrow"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "YYYY-MM-DD HH:MM" in bad.stderr


def test_cli_refresh_over_nothing_ingestible_reports_it_plainly(tmp_path: Path) -> None:
    """An empty landing zone, then one holding only a feed the contract does not know: each
    refresh ends with the ledger and the reason, publishes nothing and does not crash."""
    env = {**os.environ, "CITYBRAIN_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    cli = [sys.executable, "-m", "citybrain", "refresh", "--as-of", "2026-11-21 07:00"]
    (tmp_path / "home" / "landing").mkdir(parents=True)
    empty = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr[-2000:]
    assert "the delivery ledger is empty" in empty.stdout and "nothing published yet" in empty.stdout
    assert "landing zone" in empty.stderr and "Traceback" not in empty.stderr + empty.stdout

    stray = tmp_path / "home" / "landing" / "weather" / "rain" / "2026-11-20" / "rain.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("district,mm\n330106,3\n", encoding="utf-8")
    unknown = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert unknown.returncode == 0, unknown.stderr[-2000:]
    assert "rejected         1 files" in unknown.stdout
    assert "weather/rain/2026-11-20/rain.csv" in unknown.stdout and "known feed" in unknown.stdout
    assert "nothing published yet" in unknown.stdout and "Traceback" not in unknown.stderr + unknown.stdout


def test_libraries_and_marts_carry_a_daily_freshness_policy_and_jobs_retry_with_backoff() -> None:
    from pipelines.definitions import DAILY_FRESHNESS, FRESHNESS_GROUPS, defs
    from pipelines.jobs import TRANSIENT_RETRY

    graph = defs.resolve_asset_graph()
    nodes = [graph.get(k) for k in graph.get_all_asset_keys()]
    fresh = {n.key.to_user_string() for n in nodes if n.freshness_policy == DAILY_FRESHNESS}
    assert fresh == {n.key.to_user_string() for n in nodes if n.group_name in FRESHNESS_GROUPS}
    assert {"population/persons", "marts/indicator_values", "serving/snapshot"} <= fresh
    for job in ("daily_refresh", "indicators_refresh"):
        policy = defs.resolve_job_def(job).op_retry_policy
        assert policy == TRANSIENT_RETRY and policy.backoff == dg.Backoff.EXPONENTIAL and policy.max_retries >= 2


def test_a_warehouse_locked_by_another_process_for_a_moment_is_retried(tiny_city: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(5)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(home / "warehouse.duckdb")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with dg.instance_for_test() as instance:
        result = run_daily_job(Home.resolve(home), "2026-11-21 07:00", instance)
        assert result.success
        retried = [e for run in instance.get_runs()
                   for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)]
    holder.wait()
    assert retried, "the first attempt met the lock and was retried"
