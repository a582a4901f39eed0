"""Ingestion assets: one per feed, each staging its feed's new deliveries, with quality checks."""


import dagster as dg

from assets.resources import WarehouseResource
from warehouse.contract.feeds import FEEDS, Feed
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.feed_health import ON_TIME_WARN, REJECTION_RATE, feed_health
from warehouse.ingest.landing import UNRECOGNISED, digests

INGEST_GROUP = "ingest"
# Metadata of each ingest materialization: the digest of its feed's files as the step found
# them (taken before reading, so a file landing meanwhile shows as a change): the landing
# sensor requests a run only for feeds whose files differ from what was last ingested.
LANDING_DIGEST = "landing_digest"
CHECKS = ("rejection_rate", "row_band", "timeliness", "schema_drift")


def staging_key(feed: Feed) -> dg.AssetKey:
    return dg.AssetKey(["staging", feed.department, feed.name])


def _checks(feed: Feed, con) -> list[dg.AssetCheckResult]:
    h = feed_health(con, feed)
    key = staging_key(feed)
    warn, err = REJECTION_RATE
    rate_ok = h.rejection_rate <= warn and h.rejected_files == 0
    rate_sev = dg.AssetCheckSeverity.ERROR if h.rejection_rate > err else dg.AssetCheckSeverity.WARN
    in_band = h.band_low is None or h.band_low <= h.rows_read <= h.band_high
    on_time = h.on_time_rate is None or h.on_time_rate >= ON_TIME_WARN
    meta = {"business_date": h.latest_date or "none"}
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name="rejection_rate", passed=rate_ok, severity=rate_sev,
            metadata={**meta, "rejection_rate": round(h.rejection_rate, 4), "rows_read": h.rows_read,
                      "rows_rejected": h.rows_rejected, "files_rejected_whole": h.rejected_files},
        ),
        dg.AssetCheckResult(
            asset_key=key, check_name="row_band", passed=in_band, severity=dg.AssetCheckSeverity.WARN,
            metadata={**meta, "rows_read": h.rows_read, "band_low": h.band_low or 0.0, "band_high": h.band_high or 0.0},
        ),
        dg.AssetCheckResult(
            asset_key=key, check_name="timeliness", passed=on_time, severity=dg.AssetCheckSeverity.WARN,
            metadata={**meta, "on_time_rate_14d": round(h.on_time_rate or 0.0, 4), "late_deliveries_14d": h.late_deliveries},
        ),
        dg.AssetCheckResult(
            asset_key=key, check_name="schema_drift", passed=not h.drift_columns, severity=dg.AssetCheckSeverity.WARN,
            metadata={**meta, "unknown_columns_14d": ", ".join(h.drift_columns) or "none"},
        ),
    ]


def _summary(outcomes) -> dict:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {
        "files_seen": len(outcomes),
        **{f"deliveries_{k}": v for k, v in sorted(counts.items())},
        "rows_read": sum(o.rows_read for o in outcomes),
        "rows_accepted": sum(o.rows_accepted for o in outcomes),
        "rows_rejected": sum(o.rows_rejected for o in outcomes),
    }


def _feed_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=staging_key(feed),
        group_name=INGEST_GROUP,
        pool="warehouse",
        kinds={"duckdb"},
        description=f"Accepted rows of {feed.id} ({feed.title_zh}, {feed.title_en}), each with the delivery "
        f"and line it came from; rejected rows are quarantined in ingest.rejections.",
        check_specs=[dg.AssetCheckSpec(name, asset=staging_key(feed)) for name in CHECKS],
        tags={"department": feed.department},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        paths = warehouse.paths
        seen = digests(paths.landing).get(feed.id, "")
        with warehouse.connect() as con:
            outcomes = ingest_landing(con, paths.landing, paths.scratch, feeds={feed.id})
            for o in outcomes:
                if o.status == "rejected":
                    context.log.warning(f"{o.path}: rejected ({o.reason or 'every row'}): {o.error}")
            checks = _checks(feed, con)
        return dg.MaterializeResult(metadata={**_summary(outcomes), LANDING_DIGEST: seen}, check_results=checks)

    _ingest.__name__ = f"ingest_{feed.department}_{feed.name}"
    return _ingest


FEED_ASSETS = [_feed_asset(f) for f in FEEDS]


@dg.asset(
    key=dg.AssetKey(["ingest", "unrecognised_files"]),
    group_name=INGEST_GROUP,
    pool="warehouse",
    kinds={"duckdb"},
    description="Files in the landing zone whose path names no known department/feed: recorded in "
    "ingest.deliveries as rejected 'unknown_feed' and left in place.",
)
def unrecognised_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths = warehouse.paths
    seen = digests(paths.landing).get(UNRECOGNISED, "")
    with warehouse.connect() as con:
        outcomes = ingest_landing(con, paths.landing, paths.scratch, feeds={None})
    for o in outcomes:
        context.log.warning(f"{o.path}: {o.error}")
    return dg.MaterializeResult(metadata={**_summary(outcomes), LANDING_DIGEST: seen})


INGEST_ASSETS = [*FEED_ASSETS, unrecognised_files]
