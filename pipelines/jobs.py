"""The daily job and its schedule: the same job runs from the schedule, the sensor, the UI and the CLI."""


import os

import dagster as dg

from assets.marts import INDICATOR_ASSETS
from assets.serving import SERVING_ASSETS
from warehouse.ops import settings
from warehouse.storage.home import Home

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


def _executor() -> dg.ExecutorDefinition:
    """Where steps run: in the run's own process by default; on Celery workers when
    ``CITYBRAIN_EXECUTOR=celery`` (broker ``CITYBRAIN_CELERY_BROKER``, result backend
    ``CITYBRAIN_CELERY_BACKEND``; docs/scaling.md). Every step writes the one DuckDB file,
    so the Celery queue is served by a single worker process, and the warehouse pool
    serialises writers across runs as well."""
    if os.environ.get("CITYBRAIN_EXECUTOR", "in_process") != "celery":
        return dg.in_process_executor
    from dagster_celery import celery_executor  # the 'scale' extra

    return celery_executor.configured({
        "broker": {"env": "CITYBRAIN_CELERY_BROKER"},
        "backend": {"env": "CITYBRAIN_CELERY_BACKEND"},
    }, name="celery")


daily_refresh = dg.define_asset_job(
    DAILY_JOB,
    selection=dg.AssetSelection.all() - INDICATORS_SELECTION,
    executor_def=_executor(),
    op_retry_policy=TRANSIENT_RETRY,
    config=QUIET_CONSOLE,
    description="Ingest every new delivery, update the libraries and findings, and mark the days to recompute.",
)
# Runs after each daily_refresh over the dirty days (one run for a range of daily
# partitions), then rescores, re-evaluates alerts, exports open data and publishes.
indicators_refresh = dg.define_asset_job(
    INDICATOR_JOB,
    selection=INDICATORS_SELECTION,
    executor_def=_executor(),
    op_retry_policy=TRANSIENT_RETRY,
    config=QUIET_CONSOLE,
    description="Indicators for a range of days, then the city score, alerts, open data and the serving snapshot.",
)


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the daily partitions first..last."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}

# Feeds are due at 06:00 the day after their business date; refresh half an hour later by
# default. An analyst may move it on the cockpit's console: the time is kept in the
# platform's settings (warehouse/ops/settings.py), read here when the code location loads.
daily_schedule = dg.ScheduleDefinition(
    name="daily_after_deadline",
    job=daily_refresh,
    cron_schedule=settings.daily_cron(Home.resolve().root),
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The daily refresh, after every feed's 06:00 deadline.",
)
