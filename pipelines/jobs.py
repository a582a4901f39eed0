"""The daily job and its schedule: the same job runs from the schedule, the sensor, the UI and the CLI."""


from pathlib import Path

import dagster as dg

from assets import named
from assets.marts import INDICATOR_ASSETS, dirty_days
from assets.serving import SERVING_ASSETS
from warehouse.settings import Settings, daily_cron

DAILY_JOB = "daily_refresh"
INDICATOR_JOB = "indicators_refresh"
# The indicators job: the marts for a range of days, then the snapshot that publishes them.
INDICATORS_SELECTION = dg.AssetSelection.assets(*INDICATOR_ASSETS, *SERVING_ASSETS)

# Transient faults (the warehouse file locked by another process for a moment, a full disk
# being cleared, a network share hiccup) are retried: twice, ~5 s then ~10 s later.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Runs the daemon launches print only warnings and errors to the terminal (scripts/up);
# every event is still recorded in the instance and shown in the Dagster UI.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def executor(s: Settings) -> dg.ExecutorDefinition:
    """Where every job's steps run (the code location's default executor): in the run's own
    process by default; on Celery workers when ``CITYBRAIN_EXECUTOR=celery`` (broker
    ``CITYBRAIN_CELERY_BROKER``, result backend ``CITYBRAIN_CELERY_BACKEND``, passed by name
    so Dagster resolves them where the run executes and never shows their passwords;
    docs/scaling.md). Every step writes the one DuckDB file, so the Celery queue is served by
    a single worker process, and the warehouse pool serialises writers across runs as well."""
    if s.executor != "celery":
        return dg.in_process_executor
    from dagster_celery import celery_executor  # the 'scale' extra

    return celery_executor.configured({
        "broker": {"env": "CITYBRAIN_CELERY_BROKER"},
        "backend": {"env": "CITYBRAIN_CELERY_BACKEND"},
    }, name="celery")


daily_refresh = dg.define_asset_job(
    DAILY_JOB,
    selection=dg.AssetSelection.all() - INDICATORS_SELECTION,
    op_retry_policy=TRANSIENT_RETRY,
    config=QUIET_CONSOLE,
    description="Ingest every new delivery, update the libraries and findings, and mark the days to recompute.",
    metadata=named("每日刷新", "Daily refresh"),
)
# Runs after each daily_refresh over the dirty days (one run for a range of daily
# partitions), then rescores, re-evaluates alerts, exports open data and publishes.
indicators_refresh = dg.define_asset_job(
    INDICATOR_JOB,
    selection=INDICATORS_SELECTION,
    op_retry_policy=TRANSIENT_RETRY,
    config=QUIET_CONSOLE,
    description="Indicators for a range of days, then the city score, alerts, open data and the serving snapshot.",
    metadata=named("指标计算", "Indicator refresh"),
)


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the daily partitions first..last."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def next_indicator_run(instance: dg.DagsterInstance) -> dict[str, str] | None:
    """What the next ``indicators_refresh`` computes: the tags of a run over the days the latest
    ``marts/dirty_days`` marked, or None when it marked none (no data yet). The one decision
    behind both the run-status sensor and ``citybrain refresh``."""
    record = instance.get_latest_materialization_event(dirty_days.key)
    meta = record.asset_materialization.metadata if record and record.asset_materialization else {}
    first, last = meta.get("first_day"), meta.get("last_day")
    if not first or first.value == "none":
        return None
    return partition_range_tags(first.value, last.value)

# Feeds are due at 06:00 the day after their business date; refresh half an hour later by
# default. An analyst may move it on the cockpit's console: the time is the runtime setting
# saved in the data directory (warehouse/settings.py), read when the definitions are built.
def daily_schedule(root: Path) -> dg.ScheduleDefinition:
    """The daily refresh's schedule, at the time saved in the data directory ``root``."""
    return dg.ScheduleDefinition(
        name="daily_after_deadline",
        job=daily_refresh,
        cron_schedule=daily_cron(root),
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="The daily refresh, after every feed's 06:00 deadline.",
        metadata=named("每日刷新（报送截止后）", "Daily refresh (after the feeds' deadline)"),
    )
