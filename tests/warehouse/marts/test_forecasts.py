"""The forecast methods themselves, on series drawn from known processes (no warehouse needed):
which method a series gets, and whether a small count's intervals hold what they say; and a
refresh forecasting every marked indicator (a breach opening and resolving an alert is in
test_alerts.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from helpers import CITY
from scipy import stats

from warehouse.contract.city import load_city
from warehouse.contract.workdays import is_workday
from warehouse.marts import forecasts as fc
from warehouse.marts.indicators.catalog import catalog
from warehouse.serving.publish import current

ISSUED = dt.date(2026, 9, 20)  # the National Day holiday (and its make-up workdays) lies ahead


def _series(rate: dict[bool, float], days: int, seed: int, iid: str = "pop.deaths") -> fc.Series:
    """Poisson counts with a workday and a rest-day rate, ``days`` up to ``ISSUED``."""
    rng = np.random.default_rng(seed)
    past = pd.date_range(end=ISSUED, periods=days, freq="D")
    values = np.array([rng.poisson(rate[is_workday(d.date())]) for d in past], dtype=float)
    return fc.Series(iid, "330102", values, log=True, lower=0.0, upper=None)


def test_a_small_count_gets_the_count_model_whole_numbers_and_its_workdays() -> None:
    method, f = fc.forecast_series(_series({True: 3.0, False: 0.6}, 200, seed=1), ISSUED)
    assert method == fc.COUNT
    assert np.array_equal(f, np.round(f)), "a count's median and bounds are whole numbers"
    days = [ISSUED + dt.timedelta(h) for h in range(1, fc.HORIZON + 1)]
    work = np.array([is_workday(d) for d in days])
    assert work.any() and (~work).any()
    # Workdays (make-up Saturdays included) are forecast busier than rest days (the National Day holiday included).
    assert f[work, 0].min() > f[~work, 0].max() and f[work, 2].min() > f[~work, 2].max()
    # A larger count keeps the SARIMAX model.
    assert fc.forecast_series(_series({True: 80.0, False: 30.0}, 200, seed=2), ISSUED)[0] == fc.MODEL


def test_a_rare_events_interval_is_the_whole_numbers_nearest_to_its_level() -> None:
    """Poisson(0.3): {0} holds 74% and {0, 1} 96%, so the 80% interval is [0, 0] (the
    quantiles alone would give [0, 1]); the 95% interval is [0, 1]."""
    dist = stats.poisson(np.array([0.3, 3.0]))
    lo, hi = fc._count_interval(dist, 0.8)
    assert (lo[0], hi[0]) == (0, 0)
    held = dist.cdf(hi) - dist.cdf(lo - 1)
    assert abs(held[1] - 0.8) < 0.1  # where the counts allow, close to the level
    lo, hi = fc._count_interval(dist, 0.95)
    assert (lo[0], hi[0]) == (0, 1)


def test_a_small_counts_intervals_hold_about_what_they_say() -> None:
    """Forecast 40 independent series of one process and count what happened inside the bounds."""
    rate = {True: 4.0, False: 1.5}
    days = [ISSUED + dt.timedelta(h) for h in range(1, fc.HORIZON + 1)]
    rng = np.random.default_rng(7)
    inside80, inside95 = [], []
    for seed in range(40):
        _, f = fc.forecast_series(_series(rate, 120, seed=100 + seed), ISSUED)
        actual = np.array([rng.poisson(rate[is_workday(d)]) for d in days])
        inside80 += list((actual >= f[:, 1]) & (actual <= f[:, 2]))
        inside95 += list((actual >= f[:, 3]) & (actual <= f[:, 4]))
    # 560 days each: a calibrated 80% interval lands within these bounds nearly always (±3.5 sd).
    assert 0.72 <= np.mean(inside80) <= 0.88, np.mean(inside80)
    assert 0.91 <= np.mean(inside95) <= 0.99, np.mean(inside95)


def test_a_refresh_forecasts_every_marked_indicator_and_district_two_weeks_ahead(tiny_city: Path, tmp_path: Path) -> None:
    """The Dagster job a refresh runs makes forecasts: every indicator the catalog marks, every
    district (city-wide only where its scope says so) and the city, 14 days from the last complete day."""
    from helpers import refreshed_copy

    from warehouse.marts.forecasts import HORIZON

    home = refreshed_copy(tiny_city, tmp_path / "h")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    f = con.execute("SELECT * FROM marts.forecasts").df()
    last = con.execute("SELECT max(business_date) FROM ingest.live_deliveries").fetchone()[0]
    assert set(f.issued_on.dt.date) == {last}  # refreshed at 07:00 the next day: the last day is complete
    marked = [i for i in catalog() if i.forecast]
    assert {"pop.births", "svc.on_time_rate", "gov.rejection_rate"} <= {i.id for i in marked}
    assert not any("{" in i.id or i.id.count(".") > 1 for i in marked)  # templated (per handler/category) ids are not forecast
    expected = {(i.id, k) for i in marked for k in ([*load_city().district_codes, CITY] if i.scope == "district" else [CITY])}
    # ... except a series without a single value yet (a county where no request was closed).
    valued = set(con.execute("SELECT DISTINCT indicator_id, district_code FROM marts.indicator_values WHERE value IS NOT NULL").fetchall())
    assert set(zip(f.indicator_id, f.district_code)) == expected & valued and len(expected - valued) <= 3
    days = {last + dt.timedelta(h) for h in range(1, HORIZON + 1)}
    assert all(set(g.date.dt.date) == days and len(g) == HORIZON for _, g in f.groupby(["indicator_id", "district_code"]))
    assert ((f.lo95 <= f.lo80) & (f.lo80 <= f["mean"]) & (f["mean"] <= f.hi80) & (f.hi80 <= f.hi95)).all()
    kinds = {i.id: i for i in marked}
    counts = f[f.indicator_id.map(lambda i: kinds[i].kind == "count" and not kinds[i].signed)]
    shares = f[f.indicator_id.map(lambda i: kinds[i].unit == "%")]
    assert (counts.lo95 >= 0).all() and ((shares.lo95 >= 0) & (shares.hi95 <= 1)).all() and len(shares)
    # Two weeks of history is too short for a model, and the method says so.
    assert set(f.method) == {"daykind_mean:short_history"}
    # The snapshot the cockpit reads carries them.
    snap = duckdb.connect(str(current(home / "serving")), read_only=True)
    assert snap.execute("SELECT count(*) FROM forecasts").fetchone()[0] == len(f)
