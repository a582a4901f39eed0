"""The City Brain Dagster code location (``dagster dev`` / ``dg dev`` load this module)."""


import dagster as dg

from assets.ingestion import INGEST_ASSETS
from assets.libraries import LIBRARY_ASSETS
from assets.marts import MART_ASSETS
from assets.resources import WarehouseResource
from pipelines.jobs import daily_refresh, daily_schedule, indicators_refresh
from pipelines.sensors import indicators_after_refresh, landing_sensor

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, *LIBRARY_ASSETS, *MART_ASSETS],
    jobs=[daily_refresh, indicators_refresh],
    schedules=[daily_schedule],
    sensors=[landing_sensor, indicators_after_refresh],
    resources={"warehouse": WarehouseResource()},
)
