"""Open data: the count indicators per district and day, with small cells suppressed.

Primary suppression hides counts from 1 to ``threshold - 1`` (zero is published: it
reveals nobody). Secondary suppression then protects each (indicator, day) group, whose
districts add up to the published city value: while fewer than two district cells are
hidden, or the hidden cells add up to less than the threshold (so the difference from
the city total would pin them down), the smallest visible non-zero district cell is
hidden too. The group is small (one row per district), so this runs per group in pandas
over the already aggregated mart.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from warehouse.contract.city import load_city

THRESHOLD = 10


def _protect(group: pd.DataFrame, city_code: str, threshold: int) -> pd.Series:
    """Which cells of one (indicator, day) group to hide."""
    v = group["value"]
    hide = (v >= 1) & (v < threshold)
    districts = group["district_code"] != city_code
    if hide[~districts].any():  # the city value itself is small: nothing to protect it with
        return hide | districts
    while True:
        hidden = hide & districts
        if not hidden.any() or (hidden.sum() >= 2 and v[hidden].sum() >= threshold):
            return hide
        candidates = v[districts & ~hide & (v > 0)]
        if candidates.empty:  # only zeros left to hide behind: hide the city value instead
            return hide | ~districts
        hide.loc[candidates.idxmin()] = True


def suppressed_table(con: duckdb.DuckDBPyConnection, threshold: int = THRESHOLD) -> pd.DataFrame:
    """Count indicators with small cells replaced by NULL and flagged."""
    df = con.execute(
        """SELECT v.indicator_id, c.name_zh, c.name_en, c.unit, v.date, v.district_code, v.value
           FROM marts.indicator_values v JOIN marts.indicator_catalog c USING (indicator_id)
           WHERE c.kind = 'count' ORDER BY v.indicator_id, v.date, v.district_code"""
    ).df()
    city = load_city().code
    if df.empty:
        return df.assign(suppressed=pd.Series(dtype=bool))
    hide = df.groupby(["indicator_id", "date"], group_keys=False)[["district_code", "value"]].apply(
        lambda g: _protect(g, city, threshold)
    )
    out = df.assign(suppressed=hide.reindex(df.index).fillna(False).astype(bool))
    out["value"] = out["value"].where(~out["suppressed"])
    return out


def export(con: duckdb.DuckDBPyConnection, folder: Path, threshold: int = THRESHOLD) -> dict[str, Path]:
    """Write ``indicators.csv`` (UTF-8 with BOM, opens in Excel) and ``indicators.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    table = suppressed_table(con, threshold)
    csv_path, pq_path = folder / "indicators.csv", folder / "indicators.parquet"
    tmp_csv, tmp_pq = csv_path.with_suffix(".csv.tmp"), pq_path.with_suffix(".parquet.tmp")
    table.to_csv(tmp_csv, index=False, encoding="utf-8-sig")
    table.to_parquet(tmp_pq, index=False)
    tmp_csv.replace(csv_path)
    tmp_pq.replace(pq_path)
    return {"csv": csv_path, "parquet": pq_path}
