"""Run the daily job in this process (``citybrain refresh``), recorded in the Dagster instance."""

import os
import shutil
from pathlib import Path

import dagster as dg

from warehouse.home import Home

_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def ensure_dagster_home(home: Home) -> Path:
    """``$DAGSTER_HOME``, defaulting to ``<home>/dagster``, with the project's instance settings."""
    dh = Path(os.environ.get("DAGSTER_HOME") or home.root / "dagster")
    dh.mkdir(parents=True, exist_ok=True)
    if not (dh / "dagster.yaml").exists():
        shutil.copy(_TEMPLATE, dh / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dh)
    return dh


def run_daily_job(home: Home, as_of: str = "", instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Execute ``daily_refresh`` over whatever the landing zone holds now, then
    ``indicators_refresh`` over the days it marked dirty (what the run-status sensor does
    when the daemon runs). Returns the last run's result (the first one's if it failed)."""
    from pipelines.definitions import defs
    from pipelines.jobs import partition_range_tags

    os.environ["CITYBRAIN_HOME"] = str(home.root)
    if instance is None:
        ensure_dagster_home(home)
        instance = dg.DagsterInstance.get()
    run_config = {
        "resources": {"warehouse": {"config": {"home": str(home.root), "as_of": as_of}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    first = defs.resolve_job_def("daily_refresh").execute_in_process(
        instance=instance, run_config=run_config, tags={"citybrain/trigger": "cli"}, raise_on_error=False
    )
    if not first.success:
        return first
    dirty = {m.asset_key.path[-1]: m.materialization.metadata for m in first.get_asset_materialization_events()}.get("dirty_days", {})
    lo, hi = dirty.get("first_day"), dirty.get("last_day")
    if not lo or lo.value == "none":
        return first
    return defs.resolve_job_def("indicators_refresh").execute_in_process(
        instance=instance, run_config=run_config,
        tags={"citybrain/trigger": "cli", **partition_range_tags(lo.value, hi.value)}, raise_on_error=False,
    )
