"""Forecasts (``marts.forecasts``): 14 days ahead with 80% and 95% intervals, every refresh.

For every catalog indicator marked ``forecast`` and every district plus the city, from the
values up to the last complete day (``issued_on``):

- a model (statsmodels SARIMAX: AR(1) errors around a level, with regressors for a workday
  and an official holiday, so the weekly rhythm, public holidays and make-up workdays (调休)
  come from the official calendar in ``warehouse.contract.workdays``); non-negative counts
  are modelled on log(1 + y), so weekend and holiday effects are proportional and the
  intervals stay above zero;
- for a small count (fewer than 10 a day over the last 8 weeks: births, deaths or new
  enterprises in a district, where a Gaussian on log(1 + y) fits badly), a count model
  instead: each kind of day (workday, rest day) has its rate, the mean of the last 16 weeks'
  days of that kind, and a day's count is negative binomial around it (scipy; its dispersion
  from the same days, Poisson when there is none). The point forecast is the distribution's
  median and the intervals are whole numbers whose probability is the nearest to 80% / 95%:
  a count that is 0 on most days cannot have an interval of whole numbers holding exactly 80%;
- where the history is too short (< 8 weeks of values) or too sparse (a larger count that is
  0 on most days), an honest baseline instead: the mean of recent days of the same kind
  (workday or rest day) with empirical intervals from how far such days strayed from it.

The ``method`` column says which. Counts never go below 0 (unless the catalog says
``signed``), shares (unit ``%``) stay within [0, 1]. Each refresh writes one issue; earlier
issues are kept, so accuracy can be judged later.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from warehouse.contract.workdays import day_kind
from warehouse.marts.indicators.catalog import catalog

HORIZON = 14
HISTORY_DAYS = 365  # the most a model sees: a year holds every holiday once, and bounds the cost
MIN_MODEL_DAYS = 56  # eight weeks of values before a model is fitted
MIN_NONZERO_SHARE = 0.5  # a count that is 0 on most days is too sparse for a Gaussian model
SMALL_COUNT = 10.0  # below this mean a day a count is modelled as a count (the textbook bound for a normal approximation)
COUNT_DAYS = 112  # the count model's window: sixteen weeks (chosen on a city of another seed than the backtest's)
BASELINE_DAYS = 56  # the baseline's window: eight weeks
BASELINE_MEAN_DAYS = 28  # its point forecast: the last four weeks' mean of the same kind of day
# Worker processes for the fits: up to two. bench/forecast.py (small city, 200 days, 78 fits,
# a busy 2-core machine) measured 10.5 s with one and 8.5-9.4 s with two: each process pays
# ~2 s to import statsmodels, so the second one pays off more as the number of fits grows.
WORKERS = min(2, os.cpu_count() or 1)

MODEL = "sarimax_daykind"
COUNT = "negbin_daykind"
SHORT = "daykind_mean:short_history"
SPARSE = "daykind_mean:sparse"
FAILED = "daykind_mean:model_failed"

# marts.forecasts is made by the warehouse's migrations (warehouse/migrations/).


@dataclass(frozen=True)
class Series:
    """One indicator in one district: daily values up to ``issued_on`` (NaN where none)."""

    indicator_id: str
    district_code: str
    values: np.ndarray
    log: bool  # model log(1 + y): a non-negative count
    lower: float | None  # clip bounds
    upper: float | None


def last_complete_day(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> dt.date | None:
    """The last day over on the refresh's clock that has data: the forecasts' ``issued_on``."""
    last = con.execute("SELECT max(business_date) FROM ingest.live_deliveries").fetchone()[0]
    return None if last is None else min(last, as_of.date() - dt.timedelta(days=1))


def day_regressors(days: pd.DatetimeIndex) -> np.ndarray:
    """Columns (workday, official holiday) of each day; a plain weekend is neither."""
    kinds = [day_kind(d.date()) for d in days]
    return np.array([[k == "workday", k == "holiday"] for k in kinds], dtype=float).reshape(len(days), 2)


def load_series(con: duckdb.DuckDBPyConnection, issued_on: dt.date) -> list[Series]:
    """Every forecast indicator × district's recent values, in one query."""
    wanted = {i.id: i for i in catalog() if i.forecast}
    first = issued_on - dt.timedelta(days=HISTORY_DAYS - 1)
    df = con.execute(
        """SELECT indicator_id, district_code, date, value FROM marts.indicator_values
           WHERE indicator_id IN (SELECT unnest(?)) AND date BETWEEN ? AND ? ORDER BY indicator_id, district_code, date""",
        [list(wanted), first, issued_on],
    ).df()
    out = []
    for (iid, district), g in df.groupby(["indicator_id", "district_code"], sort=True):
        # From the series' first day (indicators may start later than the window) to issued_on.
        days = pd.date_range(g.date.min(), issued_on, freq="D")
        values = g.set_index(pd.to_datetime(g.date)).value.reindex(days).to_numpy(dtype=float)
        if np.isnan(values).all():
            continue  # no value at all: nothing to forecast from
        ind = wanted[iid]
        share = ind.unit == "%"
        out.append(Series(iid, district, values, log=ind.kind == "count" and not ind.signed,
                          lower=None if ind.signed else 0.0, upper=1.0 if share else None))
    return out


def _baseline(s: Series, kinds_past: np.ndarray, kinds_future: np.ndarray) -> np.ndarray:
    """Mean of recent days of the same kind (workday / rest day), empirical intervals.

    Returns (HORIZON, 5): mean, lo80, hi80, lo95, hi95.
    """
    y, k = s.values[-BASELINE_DAYS:], kinds_past[-BASELINE_DAYS:]
    recent = np.arange(len(y)) >= len(y) - BASELINE_MEAN_DAYS
    ok = ~np.isnan(y)
    means = {}
    for kind in (True, False):
        pick = ok & (k == kind) & recent
        pick = pick if pick.any() else ok & (k == kind)
        means[kind] = y[pick].mean() if pick.any() else np.nanmean(y)
    resid = np.array([v - means[kk] for v, kk in zip(y[ok], k[ok])])
    q = np.quantile(resid, [0.1, 0.9, 0.025, 0.975]) if len(resid) else np.zeros(4)
    point = np.array([means[kk] for kk in kinds_future])
    return np.column_stack([point, point + q[0], point + q[1], point + q[2], point + q[3]])


def _model(s: Series, exog_past: np.ndarray, exog_future: np.ndarray) -> np.ndarray:
    """SARIMAX AR(1) with a constant and the day-kind regressors; (HORIZON, 5) as in the baseline."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.log1p(np.maximum(s.values, 0)) if s.log else s.values
    # A regressor that never varies in the history cannot be estimated (no holiday seen yet):
    # leave it out, and a future holiday is then simply a rest day.
    keep = exog_past[~np.isnan(y)].std(axis=0) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; a bad fit is caught below
        # The scale concentrated out and no parameter covariance (intervals do not use it): ~5x faster, same forecast.
        model = SARIMAX(y, exog=exog_past[:, keep] if keep.any() else None, order=(1, 0, 0), trend="c", concentrate_scale=True)
        fit = model.fit(disp=False, cov_type="none")
        fc = fit.get_forecast(HORIZON, exog=exog_future[:, keep] if keep.any() else None)
        mean = fc.predicted_mean
        ci80, ci95 = fc.conf_int(alpha=0.2), fc.conf_int(alpha=0.05)
    out = np.column_stack([mean, ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1]])
    if not np.isfinite(out).all():
        raise ValueError("non-finite forecast")
    return np.expm1(out) if s.log else out  # on the count scale: the mean is the median of the log model


def _count_interval(dist, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Whole-number bounds (lo, hi) per day whose probability under ``dist`` is the nearest to ``level``.

    Starts from the central quantiles and tries moving each bound one step in: a count's
    quantiles alone hold more than asked (up to 96% for an 80% interval of a rare event).
    """
    tail = (1 - level) / 2
    lo, hi = dist.ppf(tail), dist.ppf(1 - tail)
    candidates = [(lo, hi), (lo + 1, hi), (lo, hi - 1), (lo + 1, hi - 1)]
    held = np.array([np.where(b >= a, dist.cdf(b) - dist.cdf(a - 1), -np.inf) for a, b in candidates])
    pick = np.argmin(np.abs(held - level), axis=0)
    return np.choose(pick, [a for a, _ in candidates]), np.choose(pick, [b for _, b in candidates])


def count_distribution(s: Series, workday_past: np.ndarray, workday_future: np.ndarray):
    """The count model's predictive distribution of each day ahead (a frozen scipy distribution)."""
    from scipy import stats

    y, k = s.values[-COUNT_DAYS:], workday_past[-COUNT_DAYS:]
    ok = ~np.isnan(y)
    overall = y[ok].mean()
    rate = {kind: y[ok & (k == kind)].mean() if (ok & (k == kind)).any() else overall for kind in (True, False)}
    fitted = np.array([rate[kind] for kind in k[ok]])
    # Moment estimate of the NB2 dispersion (var = mu + alpha mu^2); none (Poisson) when the days vary less.
    alpha = max(0.0, float(((y[ok] - fitted) ** 2 - fitted).sum() / max((fitted ** 2).sum(), 1e-12)))
    mu = np.maximum([rate[kind] for kind in workday_future], 1e-9)
    return stats.nbinom(1 / alpha, 1 / (1 + alpha * mu)) if alpha > 1e-6 else stats.poisson(mu)


def _count_model(s: Series, workday_past: np.ndarray, workday_future: np.ndarray) -> np.ndarray:
    """Negative binomial counts around each kind of day's rate; (HORIZON, 5) as in the baseline."""
    dist = count_distribution(s, workday_past, workday_future)
    (lo80, hi80), (lo95, hi95) = _count_interval(dist, 0.8), _count_interval(dist, 0.95)
    return np.column_stack([dist.median(), lo80, hi80, lo95, hi95]).astype(float)


def forecast_series(s: Series, issued_on: dt.date) -> tuple[str, np.ndarray]:
    """The method used and the (HORIZON, 5) forecast of one series, ordered and clipped."""
    past = pd.date_range(end=issued_on, periods=len(s.values), freq="D")
    future = pd.date_range(issued_on + dt.timedelta(days=1), periods=HORIZON, freq="D")
    exog_past, exog_future = day_regressors(past), day_regressors(future)
    observed = s.values[~np.isnan(s.values)]
    if len(observed) < MIN_MODEL_DAYS:
        method = SHORT
    elif s.log and np.nanmean(s.values[-BASELINE_DAYS:]) < SMALL_COUNT:
        method = COUNT
    elif s.log and (observed > 0).mean() < MIN_NONZERO_SHARE:
        method = SPARSE
    else:
        method = MODEL
    out = None
    if method == COUNT:
        out = _count_model(s, exog_past[:, 0] == 1, exog_future[:, 0] == 1)
    elif method == MODEL:
        try:
            out = _model(s, exog_past, exog_future)
        except (ValueError, np.linalg.LinAlgError):
            method = FAILED
    if out is None:
        out = _baseline(s, exog_past[:, 0] == 1, exog_future[:, 0] == 1)
    return method, _ordered(out, s.lower, s.upper)


def _ordered(f: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    """lo95 ≤ lo80 ≤ mean ≤ hi80 ≤ hi95, within the indicator's possible values."""
    mean = f[:, 0]
    lo80, hi80 = np.minimum(f[:, 1], mean), np.maximum(f[:, 2], mean)
    lo95, hi95 = np.minimum(f[:, 3], lo80), np.maximum(f[:, 4], hi80)
    out = np.column_stack([mean, lo80, hi80, lo95, hi95])
    return np.clip(out, lower if lower is not None else -np.inf, upper if upper is not None else np.inf)


def _forecast_chunk(chunk: list[Series], issued_on: dt.date) -> list[tuple[str, np.ndarray]]:
    return [forecast_series(s, issued_on) for s in chunk]


ONE_THREAD = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def forecast_all(series: list[Series], issued_on: dt.date, workers: int | None = None) -> list[tuple[str, np.ndarray]]:
    """Forecast every series on ``workers`` fresh processes (default ``WORKERS``); 0 runs here.

    Why processes even for one: BLAS threads cost far more than they give on a model this
    small (measured 0.7 s a fit with OpenBLAS's threads against 0.1 s with one), and the
    thread count is fixed when numpy loads, so the fits run where it was set to one.
    """
    workers = WORKERS if workers is None else workers
    if workers == 0 or not series:
        return _forecast_chunk(series, issued_on)
    workers = min(workers, len(series))
    # Interleaved chunks: districts of one indicator cost alike, so each worker gets a fair share.
    chunks = [series[i::workers] for i in range(workers)]
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # inherited by the spawned workers before they import numpy
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_forecast_chunk, chunks, [issued_on] * workers))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out: list = [None] * len(series)
    for i, res in enumerate(results):
        out[i::workers] = res
    return out


def refresh_forecasts(con: duckdb.DuckDBPyConnection, as_of: dt.datetime, workers: int | None = None) -> dict[str, int]:
    """Forecast from the values up to the last complete day and store that issue; returns rows per method."""
    issued_on = last_complete_day(con, as_of)
    if issued_on is None:
        return {}
    series = load_series(con, issued_on)
    results = forecast_all(series, issued_on, workers)
    days = [issued_on + dt.timedelta(days=h) for h in range(1, HORIZON + 1)]
    frame = pd.DataFrame(
        [(s.indicator_id, s.district_code, issued_on, day, *row, method, int((~np.isnan(s.values)).sum()))
         for s, (method, f) in zip(series, results) for day, row in zip(days, f.tolist())],
        columns=["indicator_id", "district_code", "issued_on", "date", "mean", "lo80", "hi80", "lo95", "hi95", "method", "history_days"],
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM marts.forecasts WHERE issued_on = ?", [issued_on])
        if len(frame):
            con.register("cb_forecast_frame", frame)
            con.execute("INSERT INTO marts.forecasts SELECT * FROM cb_forecast_frame")
            con.unregister("cb_forecast_frame")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return frame.groupby("method").size().to_dict() if len(frame) else {}
