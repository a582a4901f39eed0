"""Shared test helpers: generate a city, ingest it, and compare with the ground truth."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from citybrain.synth.generate import generate
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect

KEY = ["department", "feed", "business_date", "file_name"]

# The cockpit tests' city: refreshed as of this time, one user per role (and a second steward).
AS_OF = "2026-11-21 07:00"
PASSWORD = "correct horse"
USERS = {"boss": ("city_manager", None), "xihu": ("district_manager", "330106"), "ana": ("analyst", None),
         "police": ("steward", "psb"), "doctor": ("steward", "health"), "roads": ("steward", "urban"), "aud": ("auditor", None)}
EVIL = "<script>alert(1)</script>"


def make_city(home: Path, *, scale: str = "tiny", seed: int = 1, days: int | None = None, end: str = "2026-11-20") -> Path:
    import datetime as dt

    generate(home, scale, days, dt.date.fromisoformat(end), seed, progress=False)
    return home


def refreshed_copy(city: Path, dest: Path, *, as_of: str = AS_OF, before_refresh=None) -> Path:
    """A copy of a generated city at ``dest``, refreshed once in process (a throwaway Dagster
    instance); ``before_refresh(dest)`` may change the copy first."""
    import shutil

    import dagster as dg

    from pipelines.run import run_daily_job
    from warehouse.storage.home import Home

    shutil.copytree(city, dest)
    if before_refresh is not None:
        before_refresh(dest)
    with dg.instance_for_test() as instance:
        assert run_daily_job(Home.resolve(dest), as_of, instance).success
    return dest


def ingest_all(home: Path) -> duckdb.DuckDBPyConnection:
    con = connect(home / "warehouse.duckdb")
    ingest_landing(con, home / "landing", home / "tmp")
    return con


def truth_rejections(home: Path) -> set[tuple]:
    with open(home / "truth" / "rejections.csv", encoding="utf-8") as fh:
        return {(r["department"], r["feed"], r["business_date"], r["file_name"], int(r["line_number"]), r["reason"], r["column_name"])
                for r in csv.DictReader(fh)}


def truth_deliveries(home: Path) -> list[dict]:
    with open(home / "truth" / "deliveries.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def found_rejections(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    rows = con.execute(
        """SELECT d.department, d.feed, strftime(d.business_date, '%Y-%m-%d'), d.file_name, r.line_number, r.reason,
                  coalesce(r.column_name, '')
           FROM ingest.rejections r JOIN ingest.deliveries d USING (delivery_id)"""
    ).fetchall()
    return {tuple(r) for r in rows}


def found_deliveries(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple]:
    rows = con.execute(
        """SELECT department, feed, strftime(business_date, '%Y-%m-%d'), file_name, coalesce(reason, ''), status,
                  rows_read, rows_accepted, rows_rejected, extra_columns
           FROM ingest.deliveries"""
    ).fetchall()
    return {tuple(r[:4]): tuple(r[4:]) for r in rows}
