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
   1 and 2 worker processes, and what grows at ``city`` scale, measured here rather than on a
   city-scale warehouse (too heavy to generate for a bench). The number of series is districts
   × indicators whatever the scale, so the rows the step's SQL reads grow only with the
   history (capped at 365 days); but at city scale (125 times the residents) nearly every count
   is above the count model's 10 a day, so every series takes the dearer SARIMAX fit. The bench
   times that fit on every series at two history lengths, in one worker process with one BLAS
   thread as the step runs it, and extrapolates linearly to 365 days.

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

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from warehouse.contract.workdays import is_workday  # noqa: E402
from warehouse.ingest.schema import connect  # noqa: E402
from warehouse.marts import forecasts as fc  # noqa: E402

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


def _fit_seconds(args: tuple[list[fc.Series], dt.date]) -> list[float]:
    """Seconds of a SARIMAX fit of each series (forced, whatever its level), in this worker."""
    series, issued_on = args
    past = pd.date_range(end=issued_on, periods=max(len(s.values) for s in series), freq="D")
    future = pd.date_range(issued_on + dt.timedelta(days=1), periods=fc.HORIZON, freq="D")
    out = []
    for s in series:
        exog = fc.day_regressors(past[-len(s.values):])
        t0 = time.perf_counter()
        try:
            fc._model(s, exog, fc.day_regressors(future))
        except (ValueError, np.linalg.LinAlgError):
            pass  # a failed fit costs what it cost
        out.append(time.perf_counter() - t0)
    return out


def city_scale_cost(con, series: list[fc.Series], issued_on: dt.date, step_seconds: float) -> None:
    """What grows at city scale: rows read by the step's SQL, and SARIMAX fits of every series over a year."""
    table_rows = con.execute("SELECT count(*) FROM marts.indicator_values").fetchone()[0]
    table_days = con.execute("SELECT count(DISTINCT date) FROM marts.indicator_values").fetchone()[0]
    read = sum(int((~np.isnan(s.values)).sum()) for s in series)
    longest = max(len(s.values) for s in series)
    print(f"\nwhat grows at city scale ({len(series)} series at either scale: districts × indicators):")
    print(f"  rows read by the step's SQL: {read} here ({longest} days); at most {len(series)} × {fc.HISTORY_DAYS} = "
          f"{len(series) * fc.HISTORY_DAYS} with a year of history; the table it filters holds {table_rows} rows over "
          f"{table_days} days, growing by {table_rows // max(table_days, 1)} a day at either scale (no more districts)")
    lengths = (longest // 2, longest)
    os.environ.update(fc.ONE_THREAD)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(int).result()  # the worker's start and imports are not a fit's cost
        per_fit = {}
        for n in lengths:
            cut = [replace(s, values=s.values[-n:]) for s in series if len(s.values) >= n]
            secs = pool.submit(_fit_seconds, (cut, issued_on)).result()
            per_fit[n] = float(np.mean(secs))
            print(f"  SARIMAX fit, one worker, {len(cut)} series of {n} days: {sum(secs):5.1f} s ({1000 * per_fit[n]:.0f} ms a series)")
    (a, ta), (b, tb) = per_fit.items()
    year = tb + (tb - ta) / (b - a) * (fc.HISTORY_DAYS - b)
    fits = len(series) * year / fc.WORKERS
    print(f"  extrapolated to {fc.HISTORY_DAYS} days: {1000 * year:.0f} ms a fit; every series fitted on {fc.WORKERS} workers: "
          f"{fits:.1f} s, plus the step's load, write and worker start measured here (≈ {step_seconds:.1f} s with every fit included, an upper bound): "
          f"≈ {fits + step_seconds:.0f} s at city scale (target ≤ 20 s)")


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
        city_scale_cost(con, series, issued_on, min(step[fc.WORKERS]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
