"""Publish the serving snapshot: an immutable DuckDB file the cockpit reads.

The warehouse file has one writer and no concurrent readers, so the last step of a
refresh copies what the cockpit needs into ``serving/snapshot-<stamp>-<tag>-d<day>.duckdb``
(``day``: the refresh's clock date) and then switches the pointer ``serving/CURRENT`` with an
atomic ``os.replace``. A reader opens whatever CURRENT names, read-only; a refresh in flight
never breaks it, and it never sees two refreshes mixed. Older snapshots are kept by
``warehouse.ops.retention.snapshots_to_keep`` (each day's last for 90 days, plus the newest
few): they answer "what did the cockpit show on the 3rd?".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.contract.city import load_city
from warehouse.contract.feeds import FEED_TABLE, load_feed_table
from warehouse.marts.lineage import indicator_feed_rows, value_sources_needs, value_sources_sql
from warehouse.ops.retention import snapshot_policy, snapshots_to_keep
from warehouse.sharing.catalog import STATS_TABLE, stats_needs, stats_sql
from warehouse.storage.sql import Sql, quote_ident
from warehouse.storage.subjects import has_subject_hash, register_subject_hash

POINTER = "CURRENT"
# snapshot-<published: YYYYmmddTHHMMSSffffff>-<6 hex>[-d<clock day: YYYYmmdd>].duckdb. The
# clock day is in the name so the day index needs no file opened; snapshots published before
# it existed are dated by their publishing day.
_NAME = re.compile(r"^snapshot-(\d{8})T\d+-[0-9a-f]{6}(?:-d(\d{8}))?\.duckdb$")


@dataclass(frozen=True)
class SnapshotFile:
    """One published snapshot: its file and the day (the data's clock date) whose end it shows."""

    path: Path
    day: dt.date


def snapshot_name(stamp: str, tag: str, day: dt.date) -> str:
    """The file name of a snapshot published at ``stamp`` for the clock day ``day``."""
    return f"snapshot-{stamp}-{tag}-d{day:%Y%m%d}.duckdb"


def list_snapshots(serving: Path) -> list[SnapshotFile]:
    """Every snapshot in ``serving``, oldest published first (names sort by publishing time)."""
    out = []
    for p in sorted(serving.glob("snapshot-*.duckdb")):
        found = _NAME.match(p.name)
        if found:
            out.append(SnapshotFile(p, dt.datetime.strptime(found[2] or found[1], "%Y%m%d").date()))
    return out


def end_of_day(snaps: list[SnapshotFile]) -> dict[dt.date, Path]:
    """Each day's last published snapshot: the cockpit as it stood at the end of that day."""
    return {s.day: s.path for s in snaps}


# What the cockpit and the governed interfaces may read. Only rejected rows carry personal
# data the cockpit shows: to the owning department's steward alone, every view audited. The
# interfaces' lookup tables hold identity numbers only as keyed hashes (storage/subjects.py).
SERVING: dict[str, tuple[tuple[str, ...], Sql]] = {
    # name: (warehouse relations it needs, query)
    "indicator_values": (("marts.indicator_values",), "SELECT * FROM marts.indicator_values"),
    "indicator_catalog": (("marts.indicator_catalog",), "SELECT * FROM marts.indicator_catalog"),
    "alerts": (("marts.alerts",), "SELECT * FROM marts.alerts"),
    "forecasts": (("marts.forecasts",), "SELECT * FROM marts.forecasts"),
    "city_score": (("marts.city_score",), "SELECT * FROM marts.city_score"),
    "indicator_scores": (("marts.indicator_scores",), "SELECT * FROM marts.indicator_scores"),
    "deliveries": (("ingest.deliveries",),
                   """SELECT delivery_id, department, feed, business_date, file_name, format, encoding, size_bytes,
                             arrived_at, ingested_at, status, rows_read, rows_accepted, rows_rejected, reason, error, error_key, error_params,
                             extra_columns, supersedes, superseded_by FROM ingest.deliveries"""),
    "rejections": (("ingest.rejections",), "SELECT * FROM ingest.rejections"),
    # One row per feed and business date: on time, late, rejected (nothing usable arrived) or
    # missing, with rows and schema drift; the steward's and auditor's timeliness grid.
    "feed_days": (("ingest.deliveries",), f"""
        WITH d AS (SELECT * FROM ingest.deliveries WHERE status <> 'superseded' AND business_date IS NOT NULL),
             days AS (SELECT CAST(unnest(generate_series(min(business_date), max(business_date), INTERVAL 1 DAY)) AS DATE)
                             AS business_date FROM d)
        SELECT f.department, f.feed, days.business_date,
               CASE WHEN count(d.delivery_id) = 0 THEN 'missing'
                    WHEN count(d.delivery_id) FILTER (WHERE d.status IN ('accepted', 'partial')) = 0 THEN 'rejected'
                    WHEN min(d.arrived_at) FILTER (WHERE d.status IN ('accepted', 'partial'))
                         <= cb_due_at(days.business_date, f.deadline_hours) THEN 'on_time'
                    ELSE 'late' END AS timeliness,
               count(d.delivery_id) AS deliveries, coalesce(sum(d.rows_read), 0) AS rows_read,
               coalesce(sum(d.rows_rejected), 0) AS rows_rejected,
               coalesce(list_distinct(flatten(list(d.extra_columns) FILTER (WHERE d.extra_columns IS NOT NULL))), []) AS schema_drift
        FROM {FEED_TABLE} f CROSS JOIN days
        LEFT JOIN d ON d.department = f.department AND d.feed = f.feed AND d.business_date = days.business_date
        GROUP BY f.department, f.feed, f.deadline_hours, days.business_date"""),
    "rejected_rows": (("ingest.rejected_rows", "ingest.deliveries"),
                      """SELECT r.delivery_id, d.department, d.feed, r.line_number, r.raw
                         FROM ingest.rejected_rows r JOIN ingest.deliveries d USING (delivery_id)"""),
    "findings_summary": (("quality.findings",),
                         """SELECT rule, owner_department, district_code, count(*) AS findings, min(since) AS since
                            FROM quality.findings GROUP BY ALL"""),
    # Open citizens' requests for the managers' and handlers' lists: never the caller.
    "open_tickets": (("service.tickets",),
                     """SELECT ticket_no, district_code, category, channel, created_at, handler, due_at, dispatched_at, reopened
                        FROM service.tickets WHERE status = 'open'"""),
    # Lineage (warehouse/marts/lineage.py): per live delivery, its rows by day and district,
    # so a value leads back to the files behind it; counts only, no person-level row.
    "value_sources": (value_sources_needs(), value_sources_sql()),
    # The catalog's live facts per entry (warehouse/sharing/catalog.py): rows, last update, latest
    # day, rows read and rejected; counts only.
    STATS_TABLE: (stats_needs(), stats_sql()),
    "population_profile": (("population.persons",),
                           """SELECT district_code, status, gender, age_band, age_group, count(*) AS persons
                              FROM population.person_profile GROUP BY ALL"""),
    # What the governed interfaces (api/) answer, one row per key, ordered by it so that a
    # point lookup reads one row group; identity numbers only as keyed hashes, a
    # representative's name masked. The cockpit never reads these.
    # A certificate is keyed by its number and holder together as a 128-bit number (the first
    # half of the SHA-256 of "<number>:<holder's hash>"; api/interfaces.py computes the same):
    # certificate numbers share their first twelve characters (type, city, zeros), all that
    # DuckDB's string statistics keep, so ordered by number a lookup read every row group of a
    # type, and a string filter is evaluated over a whole row group (2.2 ms on a small city's
    # 166k rows; millions at city size) where the number key takes 0.5 ms.
    "certificate_lookup": (("e_certificate.certificate_state",),
                           """SELECT ('0x' || left(sha256(certificate_no || ':' || holder_hash), 32))::UHUGEINT AS cert_key, *
                              FROM (SELECT certificate_no, cb_subject_hash(holder_id) AS holder_hash, certificate_type, issuer,
                                           valid_from, valid_to, lifecycle
                                    FROM e_certificate.certificate_state)
                              ORDER BY cert_key"""),
    "person_lookup": (("population.persons",),  # the hash as a 128-bit number: half the lookup time of its text
                      """SELECT ('0x' || cb_subject_hash(id_number))::UHUGEINT AS id_key, status, district_code
                         FROM population.persons ORDER BY id_key"""),
    "entity_lookup": (("legal_person.entities", "population.persons"),
                      """SELECT e.uscc, e.name, e.status, e.district_code, left(p.name, 1) || '*' AS representative,
                                cb_subject_hash(e.legal_rep_id_number) AS representative_hash
                         FROM legal_person.entities e LEFT JOIN population.persons p ON p.id_number = e.legal_rep_id_number
                         ORDER BY e.uscc"""),
}


def _tables_present(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    return {f"{schema}.{table}" for schema, table in rows}


def publish(con: duckdb.DuckDBPyConnection, serving: Path, as_of: dt.datetime, *, run_id: str = "", days: int | None = None,
            newest: int | None = None) -> Path:
    """Write a new snapshot from the warehouse connection and make it current; then prune the
    old ones (``days`` and ``newest`` default to the configured retention)."""
    serving.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    final = serving / snapshot_name(stamp, uuid.uuid4().hex[:6], as_of.date())
    tmp = final.with_suffix(".tmp")
    present = _tables_present(con)
    alias = quote_ident("snap_" + uuid.uuid4().hex[:8])
    if not has_subject_hash(con):  # a connection opened without warehouse.ingest.schema.connect
        register_subject_hash(con, serving.parent)  # the data directory's key, as the interfaces hash with it
    try:
        load_feed_table(con)  # the feeds and their deadlines, which feed_days reads
        con.execute(f"ATTACH ? AS {alias}", [str(tmp)])
        counts = {}
        for name, (sources, sql) in SERVING.items():
            if not set(sources) <= present:
                continue  # a layer not built yet (e.g. before the first library build)
            table = f"{alias}.{quote_ident(name)}"
            con.execute(f"CREATE TABLE {table} AS {sql}")
            counts[name] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        city = load_city()
        con.execute(f"CREATE TABLE {alias}.districts (district_code VARCHAR, name VARCHAR, name_en VARCHAR, population BIGINT, "
                    "lat DOUBLE, lon DOUBLE, tile_row INTEGER, tile_col INTEGER)")
        con.executemany(f"INSERT INTO {alias}.districts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(d.code, d.name, d.name_en, d.population, d.lat, d.lon, d.tile_row, d.tile_col) for d in city.districts])
        con.execute(f"CREATE TABLE {alias}.indicator_feeds (indicator_id VARCHAR, department VARCHAR, feed VARCHAR, basis VARCHAR)")
        con.executemany(f"INSERT INTO {alias}.indicator_feeds VALUES (?, ?, ?, ?)", indicator_feed_rows())
        con.execute(f"CREATE TABLE {alias}.snapshot_info (key VARCHAR, value VARCHAR)")
        info = {"run_id": run_id, "as_of": as_of.isoformat(sep=" "), "published_at": dt.datetime.now().isoformat(sep=" "),
                "city_code": city.code, "city_name": city.name, "city_name_en": city.name_en, **{f"rows:{k}": str(v) for k, v in counts.items()}}
        con.executemany(f"INSERT INTO {alias}.snapshot_info VALUES (?, ?)", list(info.items()))
        con.execute(f"DETACH {alias}")  # writes the file out: a full disk shows here, too
    except BaseException:
        # e.g. the disk filled up: leave no half-written snapshot behind (detaching may fail too)
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DETACH {alias}")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    os.replace(tmp, final)
    _switch(serving, final.name)
    prune(serving, days=days, newest=newest)
    return final


def _switch(serving: Path, name: str) -> None:
    pointer_tmp = serving / f".{POINTER}.{uuid.uuid4().hex}"
    with open(pointer_tmp, "w", encoding="utf-8") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, serving / POINTER)


def current(serving: Path) -> Path | None:
    """The snapshot CURRENT names, or None before the first publish."""
    try:
        name = (serving / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return serving / name if name else None


def prune(serving: Path, *, days: int | None = None, newest: int | None = None) -> list[Path]:
    """Delete the snapshots retention does not keep (never the current one): each day's last
    within ``days`` days and the newest ``newest`` stay (defaults: ``snapshot_policy()``)."""
    policy = snapshot_policy()
    days, newest = policy[0] if days is None else days, policy[1] if newest is None else newest
    cur = current(serving)
    snaps = list_snapshots(serving)
    keep = set(snapshots_to_keep(snaps, days=days, newest=newest))
    doomed = [s.path for i, s in enumerate(snaps) if i not in keep and s.path != cur]
    for p in doomed:
        p.unlink(missing_ok=True)
    for stale in serving.glob("snapshot-*.tmp"):  # left by a publish that was killed
        if stale.stat().st_mtime < dt.datetime.now().timestamp() - 3600:
            stale.unlink(missing_ok=True)
    return doomed
