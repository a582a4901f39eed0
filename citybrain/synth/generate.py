"""``citybrain generate``: write a synthetic city's deliveries and their ground truth."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

from tqdm import tqdm

from citybrain.synth.deliver import Deliveries
from citybrain.synth.world import SCALES, simulate
from warehouse.contract.city import load_city


def generate(
    home: Path,
    scale: str = "tiny",
    days: int | None = None,
    end: dt.date | None = None,
    seed: int = 42,
    defect_rate: float = 0.01,
    clean_truth: bool | None = None,
    progress: bool = True,
    clean: bool = False,
) -> dict:
    """Generate ``days`` days ending ``end`` (default yesterday) into ``home``'s landing zone.

    Replaces any earlier landing zone and truth in ``home``. ``clean`` makes a city with
    no defects, no missing or late deliveries and no planted inconsistencies (use it with
    ``defect_rate=0``). Returns the summary also written to ``truth/summary.json``.
    """
    sc = SCALES[scale]
    days = days or sc.default_days
    end = end or (dt.date.today() - dt.timedelta(1))
    start = end - dt.timedelta(days - 1)
    if clean_truth is None:
        clean_truth = scale != "city"
    for sub in ("landing", "truth"):
        shutil.rmtree(home / sub, ignore_errors=True)
    t0 = time.perf_counter()
    out = Deliveries(home, start, end, seed, 0.0 if clean else defect_rate, clean_truth=clean_truth,
                     city_scale=scale == "city", clean=clean)
    bar = tqdm(total=days, desc=f"generate {scale}", unit="day", disable=not progress)
    for day in simulate(load_city(), sc, start, days, seed, out.emit, clean=clean):
        out.close_before(day + dt.timedelta(1))
        bar.update(1)
    bar.close()
    summary = out.close()
    elapsed = time.perf_counter() - t0
    summary.update(
        scale=scale, days=days, clean=clean, start=start.isoformat(), end=end.isoformat(), seed=seed, defect_rate=defect_rate,
        seconds=round(elapsed, 2), rows_per_second=round(summary["rows_emitted"] / elapsed) if elapsed else None,
    )
    (home / "truth" / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
