"""Open data: the count indicators per district and day, every count rounded to a multiple of 10.

Small-cell suppression alone could be undone: deaths were recovered as births + net
migration − the change in registered residents, and day-on-day changes of stocks gave
away movements of one to nine people. Rounding every published count (districts, the city,
flows and stocks, of either sign) to the nearest multiple of ``BASE`` closes all of these at
once: any sum or difference of published values is itself a multiple of 10, so no
combination of them can show a count of 1 to 9 people. ``README.md``, written beside the
files, says so plainly to the people who use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.marts.indicators.catalog import Indicator
from warehouse.storage.sql import Sql

BASE = 10

README = f"""# 城市运行开放数据 · City operation open data

`indicators.csv`（UTF-8，Excel 可直接打开）与 `indicators.parquet`：各区县及全市每日的计数类指标。

**所有数值均已四舍五入到 {BASE} 的倍数**（个位 5 及以上进位，负数同理）。因此 0 表示少于 5，
10 表示 5 至 14，依此类推；各区之和与全市数值、相邻两日之差都可能与真实值相差若干。这样做是为了
保护个人信息：任何数值之间的加减都只能得到 {BASE} 的倍数，无法推算出 1 至 9 人的具体变化。

`indicators.csv` and `indicators.parquet`: the count indicators per district and for the
whole city, per day.

**Every value is rounded to the nearest multiple of {BASE}** (5 rounds away from zero, for
negative values too). So 0 means fewer than 5, 10 means 5 to 14, and so on; districts may not
add up to the city, and a day-on-day difference may be off by a few. This protects people:
any sum or difference of published values is a multiple of {BASE}, so none can reveal a count
or a change of one to nine people.

| column | meaning |
|---|---|
| `indicator_id`, `name_zh`, `name_en`, `unit` | the indicator (see the catalog) |
| `date` | the day |
| `district_code` | a district, or the city (GB/T 2260) |
| `value` | the count, rounded to a multiple of {BASE} |
| `rounded_to` | {BASE} |
"""


# What the published table holds, its values rounded (``$base`` bound): the export writes it and
# the catalog (warehouse/sharing/catalog.py) counts its rows and reads its columns.
_ROWS: Sql = """FROM marts.indicator_values v JOIN marts.indicator_catalog c USING (indicator_id)
                WHERE c.kind = 'count' AND v.value IS NOT NULL"""
PUBLISHED: Sql = f"""SELECT v.indicator_id, c.name_zh, c.name_en, c.unit, v.date, v.district_code,
                            CAST(round(v.value / $base) * $base AS BIGINT) AS value, $base AS rounded_to {_ROWS}"""


@dataclass(frozen=True)
class Dataset:
    """An open-data set as the catalog lists it: its names and description in both languages,
    which indicators it publishes, the query of what it publishes (``$base`` bound), the same
    rows' days without parameters (``rows``: what the catalog counts), the warehouse relations
    they read and the files written. A set added here is in the catalog with no other edit."""

    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    includes: Callable[[Indicator], bool]
    sql: Sql
    rows: Sql
    reads: tuple[str, ...]
    files: tuple[str, ...]

    def params(self) -> dict:
        return {"base": BASE}


DATASETS: dict[str, Dataset] = {
    "indicators": Dataset(
        "城市运行开放数据", "City operation open data",
        "各区县及全市每日的计数类指标，所有数值四舍五入到 10 的倍数，无法据此推算 1 至 9 人的变化。",
        "The count indicators per district and for the whole city, per day, every value rounded to a multiple "
        "of 10 so that no count or change of one to nine people can be derived.",
        lambda i: i.kind == "count", PUBLISHED, f"SELECT v.date {_ROWS}", ("marts.indicator_values", "marts.indicator_catalog"),
        ("indicators.csv", "indicators.parquet")),
}


def published_table(con: duckdb.DuckDBPyConnection, base: int = BASE) -> pd.DataFrame:
    """Every count indicator per district and day, its value rounded to a multiple of ``base``."""
    return con.execute(f"{PUBLISHED} ORDER BY v.indicator_id, v.date, v.district_code", {"base": int(base)}).df()


def export(con: duckdb.DuckDBPyConnection, folder: Path, base: int = BASE) -> dict[str, Path]:
    """Write ``indicators.csv`` (UTF-8 with BOM, opens in Excel), ``indicators.parquet`` and ``README.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    table = published_table(con, base)
    paths = {"csv": folder / "indicators.csv", "parquet": folder / "indicators.parquet", "readme": folder / "README.md"}
    tmp = {k: p.with_name(p.name + ".tmp") for k, p in paths.items()}
    table.to_csv(tmp["csv"], index=False, encoding="utf-8-sig")
    table.to_parquet(tmp["parquet"], index=False)
    tmp["readme"].write_text(README, encoding="utf-8")
    for k, p in paths.items():
        tmp[k].replace(p)
    return paths
