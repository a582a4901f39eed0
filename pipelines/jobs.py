"""The daily job and its schedule: the same job runs from the schedule, the sensor, the UI and the CLI."""


import dagster as dg

DAILY_JOB = "daily_refresh"

# Every step writes the one DuckDB file, so the job runs in one process (the warehouse pool
# serialises writers across runs as well).
daily_refresh = dg.define_asset_job(
    DAILY_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest every new delivery, then rebuild what depends on it.",
)

# Feeds are due at 06:00 the day after their business date; refresh half an hour later.
daily_schedule = dg.ScheduleDefinition(
    name="daily_after_deadline",
    job=daily_refresh,
    cron_schedule="30 6 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The daily refresh, after every feed's 06:00 deadline.",
)
