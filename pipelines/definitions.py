"""The City Brain Dagster code location (``dagster dev`` / ``dg dev`` load this module)."""


import datetime as dt

import dagster as dg

from assets.ingest import INGEST_ASSETS
from assets.libraries import LIBRARY_ASSETS
from assets.marts import MART_ASSETS
from assets.resources import WarehouseResource
from assets.serving import SERVING_ASSETS
from pipelines.jobs import daily_refresh, daily_schedule, executor, indicators_refresh
from pipelines.sensors import indicators_after_refresh, landing_sensor_every
from warehouse.settings import Settings, settings
from warehouse.storage.home import Home, keep_private

keep_private()  # every Dagster process (code server, runs, daemon) loads this module

# Every feed's ingest, the libraries, marts and snapshot must be rebuilt every morning: the feeds are due by
# 06:00, the daily job starts at 06:30, and by 09:00 (Asia/Shanghai) the cockpit must show
# today's data. Dagster's freshness daemon flags them in the UI when they are not.
DAILY_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="0 9 * * *", lower_bound_delta=dt.timedelta(hours=3),
                                          timezone="Asia/Shanghai")
FRESHNESS_GROUPS = ("ingest", "libraries", "marts", "serving")  # every feed's ingest too: each daily refresh materializes it



def build_definitions(s: Settings) -> dg.Definitions:
    """The code location for the deployment ``s`` describes: its settings reach the jobs as
    their executor, the schedule and sensor as their times, the assets as the ``warehouse``
    resource. Built once, when the code location loads; nothing below reads the settings."""
    built = dg.Definitions(
        assets=[*INGEST_ASSETS, *LIBRARY_ASSETS, *MART_ASSETS, *SERVING_ASSETS],
        jobs=[daily_refresh, indicators_refresh],
        schedules=[daily_schedule(Home.resolve(s.home).root)],
        sensors=[landing_sensor_every(s.landing_interval), indicators_after_refresh],
        resources={"warehouse": WarehouseResource.from_settings(s)},
        executor=executor(s),
    )
    return built.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, DAILY_FRESHNESS),
        selection=dg.AssetSelection.groups(*FRESHNESS_GROUPS),
    )


# One Definitions object at module scope (Dagster refuses two), freshness applied in place.
defs = build_definitions(settings())
