"""Mart assets: indicators, the city score, alerts, open data, and the serving snapshot."""

import dagster as dg

from assets.libraries import LIBRARY_ASSETS, LibraryConfig
from assets.resources import WarehouseResource
from warehouse.alerts import evaluate
from warehouse.city import load_city
from warehouse.indicators.compute import refresh as refresh_indicators
from warehouse.open_data import export
from warehouse.publish import publish
from warehouse.score import compute_scores

MARTS_GROUP = "marts"
LIBRARY_KEYS = [a.key for a in LIBRARY_ASSETS]


def _asset(name: str, deps: list, description: str, group: str = MARTS_GROUP, prefix: str = "marts"):
    return dg.asset(key=dg.AssetKey([prefix, name]), group_name=group, pool="warehouse", kinds={"duckdb"},
                    deps=deps, description=description)


@_asset("indicator_values", LIBRARY_KEYS,
        "City operation indicators (城市运行体征) for every day × district plus city-wide, from the catalog "
        "warehouse/indicators/catalog.json. A refresh recomputes only the days its deliveries can change.")
def indicator_values(context: dg.AssetExecutionContext, config: LibraryConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        span = refresh_indicators(con, warehouse.clock(), full=config.full_rebuild)
        rows = con.execute("SELECT count(*) FROM marts.indicator_values").fetchone()[0]
    meta = {"rows": rows, "days_recomputed": "none" if span is None else f"{span[0]} .. {span[1]}"}
    return dg.MaterializeResult(metadata=meta)


@_asset("city_score", [dg.AssetKey(["marts", "indicator_values"])],
        "CityScore-style score per day, week, month and quarter, for the city and each district, with the "
        "per-indicator scores behind it (marts.indicator_scores).")
def city_score(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        rows = compute_scores(con)
        latest = con.execute(
            "SELECT score FROM marts.city_score WHERE period = 'day' AND district_code = ? ORDER BY period_start DESC LIMIT 1",
            [load_city().code],
        ).fetchone()
    return dg.MaterializeResult(metadata={"rows": rows, "latest_city_score": round(latest[0], 3) if latest else 0.0})


@_asset("alerts", [dg.AssetKey(["marts", "indicator_values"]), dg.AssetKey(["quality", "consistency_findings"])],
        "Alerts (feed_missing, thresholds, anomalies, cross-department inconsistencies) with their lifecycle "
        "open → acknowledged → resolved, one row per condition across re-runs.")
def alerts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        counts = evaluate(con, warehouse.clock())
    return dg.MaterializeResult(metadata={f"alerts_{k}": v for k, v in counts.items()})


@_asset("open_data", [dg.AssetKey(["marts", "indicator_values"])],
        "Open data export of the count indicators (CSV and Parquet in <home>/open_data), cells below 10 suppressed "
        "with secondary suppression so no hidden cell can be recovered from the totals.")
def open_data(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        files = export(con, warehouse.paths.root / "open_data")
    return dg.MaterializeResult(metadata={k: str(v) for k, v in files.items()})


@_asset("snapshot", [dg.AssetKey(["marts", n]) for n in ("indicator_values", "city_score", "alerts", "open_data")],
        "The immutable serving snapshot the cockpit reads: a new DuckDB file under <home>/serving, made current "
        "by an atomic pointer switch; older snapshots kept and pruned.", group="serving", prefix="serving")
def snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        path = publish(con, warehouse.paths.serving, warehouse.clock(), run_id=context.run_id)
    return dg.MaterializeResult(metadata={"snapshot": str(path.name)})


MART_ASSETS = [indicator_values, city_score, alerts, open_data, snapshot]
