"""Mart assets: indicators, the city score, alerts and open data."""

import datetime as dt

import dagster as dg

from assets import named
from assets.libraries import LIBRARY_ASSETS, LibraryConfig
from assets.resources import WarehouseResource
from warehouse.contract.city import load_city
from warehouse.marts.alerts import evaluate
from warehouse.marts.forecasts import HORIZON, refresh_forecasts
from warehouse.marts.indicators.compute import compute_range
from warehouse.marts.indicators.plan import dirty_range
from warehouse.marts.open_data import export
from warehouse.marts.score import compute_scores

MARTS_GROUP = "marts"
LIBRARY_KEYS = [a.key for a in LIBRARY_ASSETS]
# Indicator days; a backfill over any range of them can be launched from the Dagster UI.
DAILY = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=0)


def _asset(name: str, title: tuple[str, str], deps: list, description: str, group: str = MARTS_GROUP, prefix: str = "marts"):
    return dg.asset(key=dg.AssetKey([prefix, name]), group_name=group, pool="warehouse", kinds={"duckdb"},
                    deps=deps, description=description, op_tags=named(*title))


@_asset("dirty_days", ("标记待重算日期", "Mark days to recompute"), LIBRARY_KEYS,
        "The days whose indicators the deliveries since the last refresh can change (from the earliest date they "
        "touch through the last day of data), kept pending until marts/indicator_values has recomputed them.")
def dirty_days(config: LibraryConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        span = dirty_range(con, full=config.full_rebuild)
    meta = {"first_day": str(span[0]) if span else "none", "last_day": str(span[1]) if span else "none"}
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    key=dg.AssetKey(["marts", "indicator_values"]), group_name=MARTS_GROUP, pool="warehouse", kinds={"duckdb"},
    deps=[dg.AssetKey(["marts", "dirty_days"])], partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run(),
    op_tags=named("计算指标", "Compute indicators"),
    description="City operation indicators (城市运行体征) for every day × district plus city-wide, from the catalog "
    "warehouse/marts/indicators/catalog.toml; one partition per day. The daily refresh computes the dirty days in "
    "one run; any range can be backfilled from the UI.",
)
def indicator_values(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    window = context.partition_time_window
    first, last = window.start.date(), window.end.date() - dt.timedelta(days=1)
    with warehouse.connect() as con:
        span = compute_range(con, first, last, warehouse.clock())
        rows = con.execute("SELECT count(*) FROM marts.indicator_values WHERE date BETWEEN ? AND ?", [first, last]).fetchone()[0]
    context.log.info(f"indicators for {first} .. {last}: computed {span or 'no day with data'}")
    return dg.MaterializeResult(metadata={"rows": rows, "days_with_data": f"{span[0]} .. {span[1]}" if span else "none"})


@_asset("city_score", ("城市评分", "City score"), [dg.AssetKey(["marts", "indicator_values"])],
        "CityScore-style scores per day, week, month and quarter, for the city and each district: the city's "
        "vital signs and data-sharing health apart, with the per-indicator scores behind them (marts.indicator_scores).")
def city_score(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        rows = compute_scores(con)
        latest = dict(con.execute(
            """SELECT family, round(score, 3) FROM marts.city_score WHERE period = 'day' AND district_code = ?
               QUALIFY row_number() OVER (PARTITION BY family ORDER BY period_start DESC) = 1""",
            [load_city().code],
        ).fetchall())
    return dg.MaterializeResult(metadata={"rows": rows, "latest_vital_signs_score": latest.get("vital", 0.0),
                                          "latest_data_sharing_score": latest.get("sharing", 0.0)})


@_asset("forecasts", ("预测", "Forecasts"), [dg.AssetKey(["marts", "indicator_values"])],
        f"Forecasts (marts.forecasts) {HORIZON} days ahead with 80% and 95% intervals for every indicator the catalog marks "
        "'forecast', per district and city-wide, from the values up to the last complete day: statsmodels SARIMAX with "
        "workday and holiday regressors (chinese-calendar, 调休 included), or a day-kind mean baseline where the history "
        "is too short or sparse (column method).")
def forecasts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        methods = refresh_forecasts(con, warehouse.clock())
        issued = con.execute("SELECT max(issued_on) FROM marts.forecasts").fetchone()[0]
    context.log.info(f"forecasts issued on {issued}: {methods}")
    return dg.MaterializeResult(metadata={"issued_on": str(issued), **{f"rows_{k}": v for k, v in methods.items()}})


@_asset("alerts", ("预警评估", "Evaluate alerts"), [dg.AssetKey(["marts", "indicator_values"]), dg.AssetKey(["marts", "forecasts"]),
                   dg.AssetKey(["quality", "consistency_findings"])],
        "Alerts (feed_missing, thresholds, anomalies, forecast breaches, cross-department inconsistencies) with their lifecycle "
        "open → resolved (and reopened), one row per condition across re-runs; the handling loop (dispatch, handle, close) "
        "is the cockpit's, in the operational store.")
def alerts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        counts = evaluate(con, warehouse.clock())
    return dg.MaterializeResult(metadata={f"alerts_{k}": v for k, v in counts.items()})


@_asset("open_data", ("开放数据导出", "Open-data export"), [dg.AssetKey(["marts", "indicator_values"])],
        "Open data export of the count indicators (CSV, Parquet and a README in <home>/open_data), every count "
        "rounded to a multiple of 10 so no sum or difference of published values reveals 1 to 9 people.")
def open_data(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        files = export(con, warehouse.paths.root / "open_data")
    return dg.MaterializeResult(metadata={k: str(v) for k, v in files.items()})


MART_ASSETS = [dirty_days, indicator_values, city_score, forecasts, alerts, open_data]
# What the indicators job recomputes for a range of days (the snapshot follows them).
INDICATOR_ASSETS = [indicator_values, city_score, forecasts, alerts, open_data]
