"""Ingestion assets: one per feed, each staging its feed's new deliveries, with quality checks,
materialized together by one subsettable step."""


import dagster as dg

from assets import named
from assets.resources import WarehouseResource
from warehouse.contract.feeds import FEEDS, Feed
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.feed_health import ON_TIME_WARN, REJECTION_RATE, feed_health
from warehouse.ingest.landing import UNRECOGNISED, digests
from warehouse.storage.faults import LandingUnreadable

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


UNRECOGNISED_KEY = dg.AssetKey(["ingest", "unrecognised_files"])


def _spec(feed: Feed) -> dg.AssetSpec:
    return dg.AssetSpec(
        staging_key(feed), group_name=INGEST_GROUP, kinds={"duckdb"}, tags={"department": feed.department},
        description=f"Accepted rows of {feed.id} ({feed.title_zh}, {feed.title_en}), each with the delivery "
        f"and line it came from; rejected rows are quarantined in ingest.rejections.",
    )


@dg.multi_asset(
    name="ingest",
    op_tags=named("接收数据", "Ingest deliveries"),
    specs=[*(_spec(f) for f in FEEDS), dg.AssetSpec(
        UNRECOGNISED_KEY, group_name=INGEST_GROUP, kinds={"duckdb"},
        description="Files in the landing zone whose path names no known department/feed: recorded in "
        "ingest.deliveries as rejected 'unknown_feed' and left in place.")],
    check_specs=[dg.AssetCheckSpec(name, asset=staging_key(f)) for f in FEEDS for name in CHECKS],
    can_subset=True,
    pool="warehouse",
)
def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Every selected feed's new deliveries, in one step and one connection (a step of its own
    per feed cost more in Dagster's and DuckDB's set-up than most feeds' daily files do).
    Each feed is still its own asset with its own checks and metadata; a feed whose folder
    cannot be read does not stop the others, and fails the step once they are in."""
    paths = warehouse.paths
    selected = context.selected_asset_keys
    checks_selected = context.selected_asset_check_keys
    seen = digests(paths.landing)  # before reading: a file landing meanwhile shows as a change
    unreadable: list[LandingUnreadable] = []
    with warehouse.connect() as con:
        for feed in [f for f in FEEDS if staging_key(f) in selected]:
            try:
                outcomes = ingest_landing(con, paths.landing, paths.scratch, feeds={feed.id})
            except LandingUnreadable as e:
                unreadable.append(e)
                continue
            for o in outcomes:
                if o.status == "rejected":
                    context.log.warning(f"{o.path}: rejected ({o.reason or 'every row'}): {o.error}")
            checks = [c for c in _checks(feed, con) if dg.AssetCheckKey(staging_key(feed), c.check_name) in checks_selected]
            yield dg.MaterializeResult(asset_key=staging_key(feed), check_results=checks,
                                       metadata={**_summary(outcomes), LANDING_DIGEST: seen.get(feed.id, "")})
        if UNRECOGNISED_KEY in selected:
            outcomes = ingest_landing(con, paths.landing, paths.scratch, feeds={None})
            for o in outcomes:
                context.log.warning(f"{o.path}: {o.error}")
            yield dg.MaterializeResult(asset_key=UNRECOGNISED_KEY,
                                       metadata={**_summary(outcomes), LANDING_DIGEST: seen.get(UNRECOGNISED, "")})
    if unreadable:
        raise LandingUnreadable(paths.landing, [p for e in unreadable for p in e.problems])


INGEST_ASSETS = [ingest]
