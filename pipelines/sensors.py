"""The landing-zone sensor: request a refresh of the feeds whose files are new or changed."""


import hashlib
import json
from collections import defaultdict

import dagster as dg

from assets.ingest import staging_key, unrecognised_files
from pipelines.jobs import INDICATORS_SELECTION, daily_refresh, indicators_refresh, partition_range_tags
from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.ingest.landing import scan
from warehouse.storage.home import Home

UNRECOGNISED = "?"


def landing_digests(home: Home) -> dict[str, str]:
    """A digest per feed of its files' names, sizes and mtimes (no file is opened)."""
    parts: dict[str, list[str]] = defaultdict(list)
    for f in scan(home.landing):
        parts[f.feed.id if f.feed else UNRECOGNISED].append(f"{f.path}|{f.fingerprint}")
    return {k: hashlib.sha256("\n".join(v).encode()).hexdigest()[:16] for k, v in sorted(parts.items())}


@dg.sensor(
    job=daily_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches landing/<department>/<feed>/<date>/ and requests a refresh of the feeds "
    "whose files appeared or changed. Cheap on thousands of files: it only lists and stats them.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    digests = landing_digests(Home.resolve())
    before = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(k for k, v in digests.items() if before.get(k) != v)
    if not changed:
        return dg.SkipReason("no new or changed deliveries")
    keys = [staging_key(FEEDS_BY_ID[k]) if k != UNRECOGNISED else unrecognised_files.key for k in changed]
    run_key = hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()[:20]
    # What daily_refresh runs of it; the indicators follow in their own run (indicators_after_refresh).
    changed_assets = dg.AssetSelection.assets(*keys)
    selection = (changed_assets | changed_assets.downstream()) - INDICATORS_SELECTION
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run_key, asset_selection=list(selection.resolve(context.repository_def.asset_graph)),
                          tags={"citybrain/trigger": "landing", "citybrain/feeds": ",".join(changed)[:200]})
        ],
        cursor=json.dumps(digests, sort_keys=True),
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_refresh],
    request_job=indicators_refresh,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each successful daily_refresh, recompute the indicators of the days it marked dirty.",
)
def indicators_after_refresh(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    record = context.instance.get_latest_materialization_event(dg.AssetKey(["marts", "dirty_days"]))
    meta = record.asset_materialization.metadata if record and record.asset_materialization else {}
    first, last = (meta.get("first_day"), meta.get("last_day"))
    if not first or first.value == "none":
        return dg.SkipReason("no data yet")
    return dg.RunRequest(run_key=f"after-{run.run_id}", tags=partition_range_tags(first.value, last.value))
