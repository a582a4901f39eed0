"""The landing-zone sensor: request a refresh of the feeds whose files are new or changed."""


import hashlib
import json

import dagster as dg

from assets import named
from assets.ingest import LANDING_DIGEST, UNRECOGNISED_KEY, staging_key
from pipelines.jobs import INDICATORS_SELECTION, daily_refresh, indicators_refresh, next_indicator_run
from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.ingest.landing import UNRECOGNISED, digests
from warehouse.storage.home import Home

# How soon the indicators follow a finished refresh: the daemon checks run statuses this often
# (its sensor loop turns at most every 5 s, so a shorter interval would change nothing).
AFTER_REFRESH_INTERVAL = 5


def _asset_key(feed_id: str) -> dg.AssetKey:
    return staging_key(FEEDS_BY_ID[feed_id]) if feed_id != UNRECOGNISED else UNRECOGNISED_KEY


def last_ingested(instance: dg.DagsterInstance, feed_ids) -> dict[str, str]:
    """The landing digest each feed's latest ingest recorded, whichever run made it (the
    daemon's, the CLI's, a backfill): files any refresh has already read are not new."""
    out = {}
    for feed_id in feed_ids:
        event = instance.get_latest_materialization_event(_asset_key(feed_id))
        meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
        if LANDING_DIGEST in meta:
            out[feed_id] = meta[LANDING_DIGEST].value
    return out


def landing_sensor_every(interval: int) -> dg.SensorDefinition:
    """The landing sensor, looking every ``interval`` seconds (the ``CITYBRAIN_LANDING_INTERVAL``
    setting, applied when the definitions are built): a file is picked up within this interval
    of landing (and of the daemon's sensor loop, which turns every 5 s). Listing and stat-ing
    thousands of files costs well under a second."""
    return dg.sensor(
        name="landing_sensor",
        job=daily_refresh,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches landing/<department>/<feed>/<date>/ and requests a refresh of the feeds whose files "
        "differ from what their last ingest read. Cheap on thousands of files: it only lists and stats them.",
        metadata=named("落地区传感器", "Landing-zone sensor"),
    )(landing_sensor)


def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """What the landing sensor does at each look (``landing_sensor_every`` makes it a sensor)."""
    now = digests(Home.resolve().landing)
    # What was last ingested wins over what this sensor last saw: a refresh run from the
    # command line (scripts/up runs one before the daemon starts) is not requested again.
    before = {**(json.loads(context.cursor) if context.cursor else {}), **last_ingested(context.instance, now)}
    changed = sorted(k for k, v in now.items() if before.get(k) != v)
    if not changed:
        return dg.SkipReason("no new or changed deliveries")
    keys = [_asset_key(k) for k in changed]
    run_key = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:20]
    # What daily_refresh runs of it; the indicators follow in their own run (indicators_after_refresh).
    changed_assets = dg.AssetSelection.assets(*keys)
    selection = (changed_assets | changed_assets.downstream()) - INDICATORS_SELECTION
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run_key, asset_selection=list(selection.resolve(context.repository_def.asset_graph)),
                          tags={"citybrain/trigger": "landing", "citybrain/feeds": ",".join(changed)[:200]})
        ],
        cursor=json.dumps(now, sort_keys=True),
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_refresh],
    request_job=indicators_refresh,
    minimum_interval_seconds=AFTER_REFRESH_INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each successful daily_refresh, recompute the indicators of the days it marked dirty.",
    metadata=named("刷新后计算指标", "Indicators after each refresh"),
)
def indicators_after_refresh(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    tags = next_indicator_run(context.instance)
    if tags is None:
        return dg.SkipReason("no data yet")
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}", tags=tags)
