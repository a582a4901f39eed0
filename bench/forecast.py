"""Forecasts: a rolling-origin backtest against the weekly seasonal-naive baseline, and the cost.

Generates a city (``citybrain generate``, default small scale, 200 days) in a temporary home,
refreshes it (``citybrain refresh``), then, from ``marts.indicator_values`` as that refresh
left it:

1. backtest: every 7 days from day ``--first-origin`` on, each forecast series (indicator ×
   district and city) is forecast 14 days ahead from the values up to that day with the
   warehouse's own ``forecast_series``, and compared with what happened. Per indicator family:
   MASE of the forecasts and of the weekly seasonal naive (the last week repeated), both scaled
   by the in-sample seasonal-naive error, their ratio (target ≤ 0.9 where there is a weekly
   rhythm), and the empirical coverage of the 80% and 95% intervals (target: within 5 points);
2. cost: the wall time of the forecast step as the refresh runs it (``refresh_forecasts``) with
   1 and 2 worker processes; and at ``city`` scale, measured on a city-shaped indicator table
   rather than a city-scale warehouse (too heavy to generate for a bench). The number of
   series is districts × indicators whatever the scale, so what grows is the history (capped
   at 365 days) and the counts: at city scale (125 times the residents) nearly every count is
   above the count model's 10 a day, so every series takes the dearer SARIMAX fit. The bench
   copies the indicator values to a new warehouse with a year of history (the same days 26
   weeks earlier) and every count multiplied by what the city has more of, and times the
   forecast step on it.

    .venv/bin/python bench/forecast.py [--scale small] [--days 200] [--home DIR]

``--home`` reuses a home generated and refreshed before (nothing is deleted then).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citybrain.synth.world import SCALES  # noqa: E402
from warehouse.contract.workdays import is_workday  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402
from warehouse.marts import forecasts as fc  # noqa: E402
from warehouse.marts.indicators.catalog import catalog  # noqa: E402

CLI = [str(Path(sys.executable).with_name("citybrain"))]
STEP = 7


def _stated(s: fc.Series, origin: dt.date, method: str, f: np.ndarray) -> np.ndarray:
    """The probability the forecast itself gives its 80% and 95% intervals, day by day.

    The level asked for, except for the count model, whose whole-number intervals hold what
    its distribution gives them: the coverage it promises, to compare with what happened.
    """
    if method != fc.COUNT:
        return np.tile([0.8, 0.95], (len(f), 1))
    past = pd.date_range(end=origin, periods=len(s.values), freq="D")
    future = pd.date_range(origin + dt.timedelta(days=1), periods=fc.HORIZON, freq="D")
    dist = fc.count_distribution(s, fc.day_regressors(past)[:, 0] == 1, fc.day_regressors(future)[:, 0] == 1)
    return np.column_stack([dist.cdf(f[:, 2]) - dist.cdf(f[:, 1] - 1), dist.cdf(f[:, 4]) - dist.cdf(f[:, 3] - 1)])


def _origin_forecasts(args: tuple[list[fc.Series], dt.date]) -> list[tuple[str, np.ndarray]]:
    series, origin = args
    out = []
    for s in series:
        method, f = fc.forecast_series(s, origin)
        out.append((method, np.column_stack([f, _stated(s, origin, method, f)])))
    return out


def backtest(series: list[fc.Series], issued_on: dt.date, first_origin: int, workers: int) -> pd.DataFrame:
    """One row per (series, origin, horizon day) with the forecast, the seasonal naive and the actual."""
    n = max(len(s.values) for s in series)
    cuts = list(range(first_origin, n - fc.HORIZON + 1, STEP))
    jobs = []
    for cut in cuts:
        origin = issued_on - dt.timedelta(days=n - cut)
        # Each series cut at the origin (series shorter than the longest start later).
        jobs.append(([replace(s, values=s.values[: len(s.values) - (n - cut)]) for s in series if len(s.values) - (n - cut) > 14], origin))
    os.environ.update(fc.ONE_THREAD)  # the spawned workers fit with one BLAS thread, as the warehouse does
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_origin_forecasts, jobs))
    rows = []
    by_key = {(s.indicator_id, s.district_code): s for s in series}
    for (cut_series, origin), res in zip(jobs, results):
        for s, (method, f) in zip(cut_series, res):
            full = by_key[(s.indicator_id, s.district_code)].values
            y, k = s.values, len(s.values)
            actual = full[k: k + fc.HORIZON]
            naive = np.array([y[k - 7 + (h % 7)] for h in range(fc.HORIZON)])
            scale = np.nanmean(np.abs(y[7:] - y[:-7]))
            for h in range(len(actual)):
                rows.append((s.indicator_id, s.district_code, origin, h + 1, method, actual[h], naive[h], scale, *f[h]))
    return pd.DataFrame(rows, columns=["indicator_id", "district_code", "origin", "h", "method", "actual", "naive", "scale",
                                       "mean", "lo80", "hi80", "lo95", "hi95", "stated80", "stated95"])


def _city_factor(indicator_id: str, scale: str) -> float:
    """How many times larger a count is at ``city`` scale than at the bench's scale: residents
    for people and requests, entities for enterprises, and certificate uses per resident too."""
    small, city = SCALES[scale], SCALES["city"]
    if indicator_id.startswith("le."):
        return city.entities / small.entities
    factor = city.residents / small.residents
    if indicator_id == "cert.usage":
        factor *= city.usage_per_resident_day / small.usage_per_resident_day
    return factor


def city_scale_cost(series: list[fc.Series], as_of: dt.datetime, warehouse: Path, scale: str, folder: Path) -> None:
    """The forecast step on a city-shaped indicator table, measured: every series with a full
    year of history (the bench's days, and before them the same days 26 weeks earlier, so
    weekdays and rhythm hold) and every count as the city would have it, so each series takes
    the model it would take at city scale: its four-week rate multiplied by what the city has
    more of, the day's deviation from that rate by the square root (a count's noise grows as
    the root of its rate). Ratios stay as they are."""
    shaped = duckdb.connect(str(folder / "city-shaped.duckdb"))  # only what the forecast step reads
    shaped.execute("ATTACH ? AS src (READ_ONLY)", [str(warehouse)])
    table_rows, table_days = shaped.execute("SELECT count(*), count(DISTINCT date) FROM src.marts.indicator_values").fetchone()
    read = sum(int((~np.isnan(s.values)).sum()) for s in series)
    longest = max(len(s.values) for s in series)
    print(f"\nat city scale ({len(series)} series at either scale: districts × indicators):")
    print(f"  rows read by the step's SQL: {read} here ({longest} days); at most {len(series)} × {fc.HISTORY_DAYS} = "
          f"{len(series) * fc.HISTORY_DAYS} with a year of history; the table it filters holds {table_rows} rows over "
          f"{table_days} days, growing by {table_rows // max(table_days, 1)} a day at either scale (no more districts)")
    counts = {i.id: _city_factor(i.id, scale) for i in catalog() if i.forecast and i.unit != "%"}
    shaped.execute("CREATE SCHEMA IF NOT EXISTS ingest; CREATE OR REPLACE TABLE ingest.live_deliveries AS SELECT business_date FROM src.ingest.live_deliveries")
    factors = pd.DataFrame({"indicator_id": list(counts), "factor": list(counts.values())})
    shaped.register("cb_factors", factors)
    shaped.execute("""
        CREATE SCHEMA IF NOT EXISTS marts;
        CREATE OR REPLACE TABLE marts.indicator_values AS
        WITH r AS (SELECT i.*, f.factor, avg(i.value) OVER (PARTITION BY i.indicator_id, i.district_code ORDER BY i.date
                                                              ROWS BETWEEN 14 PRECEDING AND 13 FOLLOWING) AS rate
                   FROM src.marts.indicator_values i LEFT JOIN cb_factors f USING (indicator_id)),
             v AS (SELECT r.* EXCLUDE (factor, rate) REPLACE (CASE WHEN factor IS NULL OR value IS NULL THEN value
                       WHEN indicator_id = 'pop.net_migration' THEN round(factor * rate + sqrt(factor) * (value - rate))
                       ELSE greatest(0, round(factor * rate + sqrt(factor) * (value - rate))) END AS value) FROM r),
             first AS (SELECT min(date) AS d FROM v)
        SELECT * FROM v
        UNION ALL BY NAME
        SELECT v.* REPLACE (v.date - INTERVAL 182 DAY AS date) FROM v, first WHERE v.date - INTERVAL 182 DAY < first.d""")
    shaped.unregister("cb_factors")
    # The table the step writes, shaped as the warehouse's migrations made it.
    shaped.execute("CREATE OR REPLACE TABLE marts.forecasts AS SELECT * FROM src.marts.forecasts LIMIT 0")
    issued_on = fc.last_complete_day(shaped, as_of)
    city_series = fc.load_series(shaped, issued_on)
    print(f"  a city-shaped table: {len(city_series)} series, {max(len(s.values) for s in city_series)} days each at most, "
          f"counts × {min(counts.values()):.0f} to × {max(counts.values()):.0f}")
    for workers in (fc.WORKERS, fc.WORKERS):
        t0 = time.perf_counter()
        methods = fc.refresh_forecasts(shaped, as_of, workers=workers)
        print(f"  the forecast step on it, {workers} worker process(es): {time.perf_counter() - t0:5.1f} s  "
              f"({', '.join(f'{k} {v // fc.HORIZON}' for k, v in sorted(methods.items()))} series; target ≤ 20 s, "
              f"load average {os.getloadavg()[0]:.1f})")
    shaped.close()


def weekly_rhythm(series: list[fc.Series], issued_on: dt.date) -> dict[str, bool]:
    """Families whose city-wide series differs by more than 10% between workdays and rest days."""
    out = {}
    for s in series:
        if s.district_code != "330100":
            continue
        days = pd.date_range(end=issued_on, periods=len(s.values), freq="D")
        work = np.array([is_workday(d.date()) for d in days])
        a, b = np.nanmean(s.values[work]), np.nanmean(s.values[~work])
        out[s.indicator_id] = bool(abs(a - b) > 0.1 * max(abs(a), abs(b), 1e-9))
    return out


def report(bt: pd.DataFrame, rhythm: dict[str, bool]) -> None:
    ok = bt.dropna(subset=["actual", "naive"])
    ok = ok[ok.scale > 0]
    ok = ok.assign(e=(ok.actual - ok["mean"]).abs() / ok.scale, en=(ok.actual - ok.naive).abs() / ok.scale,
                   in80=(ok.actual >= ok.lo80) & (ok.actual <= ok.hi80), in95=(ok.actual >= ok.lo95) & (ok.actual <= ok.hi95))
    print(f"{'family':27} {'weekly':>6} {'series':>6} {'model%':>6} {'points':>7} {'MASE':>6} {'naive':>6} {'ratio':>6} {'cov80':>6} {'cov95':>6} {'said80':>6} {'said95':>6}")
    for iid, g in ok.groupby("indicator_id"):
        mase, naive = g.e.mean(), g.en.mean()
        print(f"{iid:27} {'yes' if rhythm.get(iid) else 'no':>6} {g.district_code.nunique():6d} {100 * g.method.isin([fc.MODEL, fc.COUNT]).mean():6.0f} "
              f"{len(g):7d} {mase:6.3f} {naive:6.3f} {mase / naive:6.3f} {100 * g.in80.mean():6.1f} {100 * g.in95.mean():6.1f} {100 * g.stated80.mean():6.1f} {100 * g.stated95.mean():6.1f}")
    for label, g in ok.groupby("method"):
        if len(g):
            print(f"{label:27} {'':>6} {'':>6} {'':>6} {len(g):7d} {g.e.mean():6.3f} {g.en.mean():6.3f} {g.e.mean() / g.en.mean():6.3f} "
                  f"{100 * g.in80.mean():6.1f} {100 * g.in95.mean():6.1f} {100 * g.stated80.mean():6.1f} {100 * g.stated95.mean():6.1f}")
    weekly = ok[ok.indicator_id.map(lambda i: rhythm.get(i, False))]
    print(f"{'weekly families':27} {'':>6} {'':>6} {'':>6} {len(weekly):7d} {weekly.e.mean():6.3f} {weekly.en.mean():6.3f} "
          f"{weekly.e.mean() / weekly.en.mean():6.3f} {100 * weekly.in80.mean():6.1f} {100 * weekly.in95.mean():6.1f} "
          f"{100 * weekly.stated80.mean():6.1f} {100 * weekly.stated95.mean():6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="small")
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--end", default="2026-11-20")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--first-origin", type=int, default=84, help="the first origin: this many days of history")
    ap.add_argument("--home", type=Path, help="a home already generated and refreshed")
    args = ap.parse_args()
    as_of = dt.datetime.combine(dt.date.fromisoformat(args.end) + dt.timedelta(1), dt.time(7))
    tmp = None
    home = args.home
    if home is None:
        tmp = Path(tempfile.mkdtemp(prefix="citybrain-forecast-"))
        home = tmp / "home"
        t0 = time.perf_counter()
        subprocess.run([*CLI, "generate", "--home", str(home), "--scale", args.scale, "--days", str(args.days), "--end", args.end,
                        "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        t1 = time.perf_counter()
        subprocess.run([*CLI, "refresh", "--home", str(home), "--as-of", as_of.strftime("%Y-%m-%d %H:%M")], check=True, stdout=subprocess.DEVNULL)
        print(f"{args.scale} city, {args.days} days: generated in {t1 - t0:.0f} s, refreshed in {time.perf_counter() - t1:.0f} s")
    try:
        con = connect(home / "warehouse.duckdb")
        issued_on = fc.last_complete_day(con, as_of)
        series = fc.load_series(con, issued_on)
        rhythm = weekly_rhythm(series, issued_on)
        t0 = time.perf_counter()
        bt = backtest(series, issued_on, args.first_origin, workers=min(2, os.cpu_count() or 1))
        print(f"backtest: {bt.origin.nunique()} origins every {STEP} days from day {args.first_origin}, "
              f"{len(series)} series, {len(bt)} forecast points, {time.perf_counter() - t0:.0f} s")
        print("MASE: mean |error| ÷ in-sample weekly seasonal-naive MAE; naive: the same for the last week repeated; "
              "ratio = MASE ÷ naive (target ≤ 0.9 on weekly families); cov: % of actuals inside the interval (80/95 nominal); "
              "said: the probability the forecast gives its interval (a count's whole numbers can hold more than asked)")
        report(bt, rhythm)
        print(f"\ncost of the forecast step (refresh_forecasts: load, fit every series, write), {len(series)} series, "
              f"history {max(len(s.values) for s in series)} days, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}:")
        step = {}
        for workers in (1, 2, 1, 2):
            t0 = time.perf_counter()
            methods = fc.refresh_forecasts(con, as_of, workers=workers)
            step.setdefault(workers, []).append(time.perf_counter() - t0)
            print(f"  {workers} worker process(es): {step[workers][-1]:5.1f} s  ({', '.join(f'{k} {v // fc.HORIZON}' for k, v in sorted(methods.items()))} series)")
        con.close()  # the city-shaped copy reads it
        scratch = Path(tempfile.mkdtemp(prefix="citybrain-forecast-city-"))
        try:
            city_scale_cost(series, as_of, home / "warehouse.duckdb", args.scale, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
