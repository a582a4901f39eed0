"""Ingestion speed on one large feed, side by side in one run.

Three contenders read the same CSV delivery of psb/household_events (default 5 million
rows, ~1% of them defective), or with ``--feed hotline/service_requests`` of the 12345
hotline's steps (conditional columns, timestamps; pandera is not run for it):

* **ours**   — `warehouse.ingest.deliveries`: hash, load, validate every rule, stage, quarantine, ledger;
* **bare**   — DuckDB's own `CREATE TABLE AS SELECT * FROM read_csv(...)` of the file (no rules);
* **pandera** — pandas reads the file and a pandera schema applies the same rules
  (vectorised pandas checks, the same check characters and cross-field rules);
* **polars** — Polars scans the file lazily and applies the same rules as expressions (every
  column as text, then the same checks, duplicates after the first, typed columns), writing
  the accepted rows and the rejected ones with their reasons to Parquet: the peer a
  performance-minded engineer would pick today;
* **no rules** (``--no-rules``) — our ingest with every row rule taken out (columns are
  only cast to their staged types): what the pipeline costs when validation costs nothing;
* **two-pass floor** (with ``--no-rules``) — DuckDB alone doing what any ingest that judges a
  whole delivery before writing any of it must: the file as text into memory in file order,
  its key checked for repeats, the typed rows written once. The bare load writes as it
  parses and judges nothing, so this floor, not the bare load, bounds the no-rules ratio.

Each DuckDB contender writes to a fresh database file on the same disk. Runs alternate
(ours, bare, ours, bare, …) so machine noise hits both alike; the medians are compared.

    .venv/bin/python bench/ingest.py                 # 5M rows, 3 rounds, pandera once
    .venv/bin/python bench/ingest.py --rows 500000   # quicker
    .venv/bin/python bench/ingest.py --threads 1     # both DuckDB contenders on one thread
    .venv/bin/python bench/ingest.py --no-rules      # also time the pipeline without its rules
    .venv/bin/python bench/ingest.py --feed hotline/service_requests --no-pandera

Targets: ours <= 2.0x bare with every rule, <= 1.3x without rules (``--no-rules``), ahead of
Polars, and pandas + pandera >= 6x slower than ours. With ``--no-rules`` the bench also prints
the limits under the first two: the two-pass floor, and that floor plus the rules alone
(``rules_alone_timer``: the validation query over rows already in memory, with and without its
rules).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import warehouse.ingest.deliveries  # noqa: E402
from citybrain.synth.ids import id_numbers, place_codes_for  # noqa: E402
from citybrain.synth.names import person_names  # noqa: E402
from warehouse.contract.city import load_city  # noqa: E402
from warehouse.contract.feeds import (  # noqa: E402
    DEPARTMENTS,
    ETHNICITY_CODES,
    FEEDS_BY_ID,
    HANDLER_DEPARTMENTS,
    REQUEST_CATEGORIES,
    REQUEST_CHANNELS,
    REQUEST_EVENTS,
)
from warehouse.ingest.deliveries import ingest_landing  # noqa: E402
from warehouse.ingest.loaders import as_json_object  # noqa: E402  (the loaders' raw-text expression)
from warehouse.ingest.schema import DUCK_TYPES, connect, install_macros, staging_ddl, staging_table  # noqa: E402
from warehouse.ingest.validation import CheckedQuery, ReasonBits, checked_sql  # noqa: E402
from warehouse.storage.sql import quote_ident  # noqa: E402

FEED = FEEDS_BY_ID["psb/household_events"]
DAY = dt.date(2026, 11, 1)


def make_feed(path: Path, rows: int, seed: int = 1, defect_rate: float = 0.01) -> None:
    """A household-events CSV with ``defect_rate`` of its rows defective, written in chunks."""
    rng = np.random.default_rng(seed)
    districts = np.array(load_city().district_codes)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 1_000_000
    with pacsv.CSVWriter(path, pa.schema([(c, pa.string()) for c in FEED.column_names])) as w:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            years = rng.integers(1930, 2026, n)
            birth = (years - 1970) * 365 + rng.integers(0, 365, n)
            gender = np.where(rng.random(n) < 0.5, "1", "2")
            ids = id_numbers(place_codes_for(years, rng), birth, gender, rng)
            bdate = np.datetime_as_string(np.array(birth, dtype="datetime64[D]"), unit="D")
            cols = {
                "event_id": np.char.add("E", np.arange(start, start + n).astype(str)),
                "id_number": ids, "name": person_names(n, rng), "gender": gender, "birth_date": bdate,
                "ethnicity": np.array(ETHNICITY_CODES)[rng.integers(0, 5, n)],
                "district_code": districts[rng.integers(0, len(districts), n)],
                "event_type": np.array(["birth", "move_in", "move_out", "death", "update"])[rng.integers(0, 5, n)],
                "event_date": np.full(n, DAY.isoformat()),
            }
            bad = rng.random(n) < defect_rate  # defects: wrong gender, unknown district, future date
            kind = rng.integers(0, 3, n)
            cols["gender"] = np.where(bad & (kind == 0), np.where(gender == "1", "2", "1"), cols["gender"])
            cols["district_code"] = np.where(bad & (kind == 1), "330199", cols["district_code"])
            cols["event_date"] = np.where(bad & (kind == 2), "2026-12-01", cols["event_date"])
            w.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()}))


def make_hotline_feed(path: Path, rows: int, seed: int = 1) -> None:
    """A service-requests CSV of mixed steps (each with the columns its type needs) and ~1%
    defective rows (a needed column empty, a deadline before its dispatch, an unknown handler)."""
    rng = np.random.default_rng(seed)
    districts = np.array(load_city().district_codes)
    handlers = np.array([*DEPARTMENTS, *HANDLER_DEPARTMENTS, *districts])
    feed = FEEDS_BY_ID["hotline/service_requests"]
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 1_000_000
    with pacsv.CSVWriter(path, pa.schema([(c, pa.string()) for c in feed.column_names])) as w:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            kind = np.array(REQUEST_EVENTS)[rng.choice(5, n, p=[0.3, 0.3, 0.28, 0.1, 0.02])]
            secs = rng.integers(0, 86400, n).astype("timedelta64[s]")
            at = np.datetime64(DAY.isoformat(), "s") + secs
            due = at + np.timedelta64(3, "D")
            stamp = lambda t: np.char.replace(np.datetime_as_string(t, unit="s"), "T", " ")  # noqa: E731
            only = lambda k, v, kind=kind: np.where(kind == k, v, "")  # noqa: E731
            cols = {
                "event_id": np.char.add("RX", np.arange(start, start + n).astype(str)),
                "ticket_no": np.char.add("T", rng.integers(0, rows // 3 + 1, n).astype(str)),
                "event_type": kind, "event_time": stamp(at),
                "district_code": districts[rng.integers(0, len(districts), n)],
                "category": only("create", np.array(list(REQUEST_CATEGORIES))[rng.integers(0, len(REQUEST_CATEGORIES), n)]),
                "channel": only("create", np.array(REQUEST_CHANNELS)[rng.integers(0, len(REQUEST_CHANNELS), n)]),
                "handler": only("dispatch", handlers[rng.integers(0, len(handlers), n)]),
                "due_at": only("dispatch", stamp(due)),
                "satisfaction": only("rate", rng.integers(1, 6, n).astype(str)),
                "caller_id_number": "",
            }
            bad = rng.random(n) < 0.01
            defect = rng.integers(0, 3, n)
            cols["category"] = np.where(bad & (defect == 0) & (kind == "create"), "", cols["category"])
            cols["due_at"] = np.where(bad & (defect == 1) & (kind == "dispatch"), stamp(at - np.timedelta64(1, "h")), cols["due_at"])
            cols["handler"] = np.where(bad & (defect == 2) & (kind == "dispatch"), "nobody", cols["handler"])
            w.write_table(pa.table({k: pa.array(np.broadcast_to(v, n), pa.string()) for k, v in cols.items()}))


def _threads(con: duckdb.DuckDBPyConnection, threads: int | None) -> None:
    if threads:
        con.execute(f"SET threads = {int(threads)}")


def _checked_without_rules(feed, source_columns, districts, business_date, source, keep, raw_text):
    """``validation.checked_sql`` with no rule: columns cast to their staged types, no row judged.
    (``raw_text`` stays in the text, never evaluated: the loader binds the parameters it names.)"""
    bits = ReasonBits()
    bits.add("duplicate", feed.key)
    cols = [f"try_cast({source_columns.get(c.name) or 'NULL'} AS {DUCK_TYPES.get(c.kind, 'VARCHAR')}) AS {quote_ident(c.name)}"
            for c in feed.columns]
    kept = "".join(f"{quote_ident(k)}, " for k in keep)
    sql = f"""CREATE OR REPLACE TEMP TABLE checked AS
              SELECT {kept}{', '.join(cols)}, 0::BIGINT AS problems, CASE WHEN false THEN {raw_text} END::VARCHAR AS _raw
              FROM ({source}) AS raw"""
    return CheckedQuery(sql, {}, bits.pairs)


@contextlib.contextmanager
def _rules_removed():
    real = warehouse.ingest.deliveries.checked_sql
    warehouse.ingest.deliveries.checked_sql = _checked_without_rules
    try:
        yield
    finally:
        warehouse.ingest.deliveries.checked_sql = real


def run_ours(src: Path, work: Path, threads: int | None = None, rules: bool = True, feed=FEED) -> tuple[float, int]:
    """Our ingest of the file into a fresh home. Returns (seconds, rows rejected)."""
    home = work / "ours"
    shutil.rmtree(home, ignore_errors=True)
    landing = home / "landing" / feed.department / feed.name / DAY.isoformat()
    landing.mkdir(parents=True)
    (landing / src.name).hardlink_to(src)
    con = connect(home / "warehouse.duckdb")
    _threads(con, threads)
    with contextlib.nullcontext() if rules else _rules_removed():
        t0 = time.perf_counter()
        (out,) = ingest_landing(con, home / "landing", home / "tmp")
        con.execute("CHECKPOINT")
        elapsed = time.perf_counter() - t0
    con.close()
    assert out.rows_read == out.rows_accepted + out.rows_rejected and (out.rows_rejected > 0) == rules
    return elapsed, out.rows_rejected


def run_bare(src: Path, work: Path, threads: int | None = None) -> float:
    db = work / "bare.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    _threads(con, threads)
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{src}')")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def run_two_pass(src: Path, work: Path, threads: int | None = None, feed=FEED) -> float:
    """DuckDB alone doing what an ingest that judges a whole delivery before writing any of it
    cannot skip: read the file as text into memory in file order (line numbers), check its key
    for repeats, and write the typed rows once. No rule, no ledger, no Python in between."""
    db = work / "two_pass.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    _threads(con, threads)
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in feed.column_names)
    typed = ", ".join(f"try_cast({c.name} AS {DUCK_TYPES.get(c.kind, 'VARCHAR')})" for c in feed.columns)
    con.execute("CREATE SCHEMA staging")
    con.execute(staging_ddl(feed))
    t0 = time.perf_counter()
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM read_csv('{src}', columns = {{{cols}}}, header = true, auto_detect = false)")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE TEMP TABLE repeats AS SELECT {feed.key} FROM t GROUP BY 1 HAVING count(*) > 1")
    con.execute(f"INSERT INTO {staging_table(feed)} SELECT {typed}, 1, rowid + 1 FROM t")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def rules_alone_timer(src: Path, threads: int | None = None, feed=FEED) -> Callable[[], float]:
    """A timer of what the rules alone cost: the file is read as text into memory once, then
    each call runs the ingest's validation query over it, timed against the same query with
    the rules taken out. Nothing is read or written while the clock runs, so this is the
    rules' own price, free of the disk's variance."""
    con = duckdb.connect()
    _threads(con, threads)
    install_macros(con)
    raw = [quote_ident(f"c{i}") for i in range(len(feed.column_names))]
    con.execute(f"""CREATE TABLE raw AS SELECT {', '.join(f'{quote_ident(c)} AS {r}' for c, r in zip(feed.column_names, raw))}
                    FROM read_csv('{src}', all_varchar = true)""")
    args = (feed, dict(zip(feed.column_names, raw)), load_city().district_codes, DAY, "SELECT * FROM raw", [],
            as_json_object("$file_keys", raw))

    def once() -> float:
        seconds = []
        for build in (checked_sql, _checked_without_rules):
            query = build(*args)
            query.define_code_lists(con)
            t0 = time.perf_counter()
            con.execute(query.sql, {**query.params, "file_keys": feed.column_names})
            seconds.append(time.perf_counter() - t0)
        return seconds[0] - seconds[1]

    return once


def run_pandera(src: Path) -> tuple[float, int]:
    """pandas + pandera with the same rules, vectorised where pandas allows."""
    import pandera.pandas as pa_

    districts = load_city().district_codes
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

    def id_ok(s: pd.Series) -> pd.Series:
        s = s.fillna("").str.upper()
        fmt = s.str.fullmatch(r"[0-9]{17}[0-9X]")
        body = s.where(fmt, "0" * 18)
        total = sum(body.str[i].astype(int) * w for i, w in enumerate(weights))
        check = total.mod(11).map(dict(enumerate("10X98765432")))
        born = pd.to_datetime(body.str[6:14], format="%Y%m%d", errors="coerce")
        return fmt & (check == body.str[17]) & born.notna()

    def date_ok(s: pd.Series) -> pd.Series:
        d = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        return d.notna() & (d >= "1900-01-01")

    def event_date_ok(s: pd.Series) -> pd.Series:
        d = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        return date_ok(s) & (d <= pd.Timestamp(DAY))

    def gender_matches(df: pd.DataFrame) -> pd.Series:
        ok = id_ok(df["id_number"])
        parity = df["id_number"].fillna("0" * 18).str[16].where(ok, "1").astype(int) % 2
        implied = parity.map({1: "1", 0: "2"})
        return ~ok | ~df["gender"].isin(["1", "2"]) | (df["gender"] == implied)

    def birth_matches(df: pd.DataFrame) -> pd.Series:
        ok = id_ok(df["id_number"]) & date_ok(df["birth_date"])
        return ~ok | (df["birth_date"].fillna("").str.replace("-", "") == df["id_number"].fillna("").str[6:14])

    schema = pa_.DataFrameSchema(
        {
            "event_id": pa_.Column(str, nullable=False, unique=True),
            "id_number": pa_.Column(str, pa_.Check(id_ok), nullable=False),
            "name": pa_.Column(str, nullable=False),
            "gender": pa_.Column(str, pa_.Check.isin(["1", "2"]), nullable=False),
            "birth_date": pa_.Column(str, pa_.Check(date_ok), nullable=False),
            "ethnicity": pa_.Column(str, pa_.Check.isin(list(ETHNICITY_CODES)), nullable=False),
            "district_code": pa_.Column(str, pa_.Check.isin(districts), nullable=False),
            "event_type": pa_.Column(str, pa_.Check.isin(["birth", "move_in", "move_out", "death", "update"]), nullable=False),
            "event_date": pa_.Column(str, pa_.Check(event_date_ok), nullable=False),
        },
        checks=[pa_.Check(gender_matches), pa_.Check(birth_matches)],
    )
    t0 = time.perf_counter()
    df = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""])
    try:
        schema.validate(df, lazy=True)
        failures = 0
    except pa_.errors.SchemaErrors as e:
        failures = len(e.failure_cases)
    return time.perf_counter() - t0, failures


def run_polars(src: Path, work: Path) -> tuple[float, int]:
    """Polars, lazily: the household-events rules as expressions, accepted and rejected rows
    (with the names of the rules they broke) written to Parquet. Returns (seconds, rejected)."""
    import polars as pl

    districts = load_city().district_codes
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    day = pl.lit(DAY)

    def date_of(col: str) -> pl.Expr:
        return pl.col(col).str.to_date("%Y-%m-%d", strict=False)

    idn = pl.col("id_number").str.to_uppercase()
    digits_ok = idn.str.contains(r"^[0-9]{17}[0-9X]$")
    total = pl.sum_horizontal([idn.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(weights)])
    check_char = (total % 11).replace_strict(dict(enumerate("10X98765432")), return_dtype=pl.String, default=None)
    id_born = idn.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    id_ok = digits_ok & (check_char == idn.str.slice(17, 1)) & id_born.is_not_null()
    implied_gender = pl.when(idn.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(pl.lit("1")).otherwise(pl.lit("2"))
    broken = {
        "missing": pl.any_horizontal([pl.col(c).is_null() for c in FEED.column_names]),
        "bad_id_number": ~id_ok,
        "bad_gender": ~pl.col("gender").is_in(["1", "2"]),
        "bad_birth_date": date_of("birth_date").is_null() | (date_of("birth_date") < pl.date(1900, 1, 1))
        | (date_of("birth_date") > day),
        "bad_ethnicity": ~pl.col("ethnicity").is_in(list(ETHNICITY_CODES)),
        "bad_district": ~pl.col("district_code").is_in(districts),
        "bad_event_type": ~pl.col("event_type").is_in(["birth", "move_in", "move_out", "death", "update"]),
        "bad_event_date": date_of("event_date").is_null() | (date_of("event_date") < pl.date(1900, 1, 1))
        | (date_of("event_date") > day),
        "gender_mismatch": id_ok & (pl.col("gender") != implied_gender),
        "birth_date_mismatch": id_ok & (pl.col("birth_date").str.replace_all("-", "") != idn.str.slice(6, 8)),
        "duplicate": ~pl.col("event_id").is_first_distinct(),
    }
    reasons = pl.concat_list([pl.when(e.fill_null(True)).then(pl.lit(name)) for name, e in broken.items()]).list.drop_nulls()
    t0 = time.perf_counter()
    checked = (pl.scan_csv(src, infer_schema=False).with_row_index("line", offset=2)
               .with_columns(reasons.alias("reasons")))
    accepted = (checked.filter(pl.col("reasons").list.len() == 0)
                .select(pl.exclude("reasons", "birth_date", "event_date"),
                        date_of("birth_date").alias("birth_date"), date_of("event_date").alias("event_date")))
    rejected = checked.filter(pl.col("reasons").list.len() > 0)
    ok, bad = pl.collect_all([accepted, rejected])
    ok.write_parquet(work / "polars_accepted.parquet")
    bad.write_parquet(work / "polars_rejected.parquet")
    return time.perf_counter() - t0, bad.height


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-pandera", action="store_true")
    ap.add_argument("--no-polars", action="store_true")
    ap.add_argument("--no-rules", action="store_true", help="also time our ingest with every row rule taken out")
    ap.add_argument("--threads", type=int, help="DuckDB threads for both DuckDB contenders (default: one per core)")
    ap.add_argument("--feed", default=FEED.id, choices=[FEED.id, "hotline/service_requests"])
    args = ap.parse_args()
    feed = FEEDS_BY_ID[args.feed]
    work = Path(tempfile.mkdtemp(prefix="cb-bench-ingest-"))
    try:
        src = work / f"{feed.name}_20261101.csv"
        t0 = time.perf_counter()
        (make_feed if feed is FEED else make_hotline_feed)(src, args.rows)
        print(f"feed: {args.rows:,} rows, {src.stat().st_size / 2**20:.0f} MiB (made in {time.perf_counter() - t0:.1f} s)", flush=True)
        ours, bare, floor, two_pass, rules_alone, polars = [], [], [], [], [], []
        with_polars = not args.no_polars and feed is FEED
        time_rules_alone = rules_alone_timer(src, args.threads, feed) if args.no_rules else None
        for i in range(args.rounds):
            seconds, rejected = run_ours(src, work, args.threads, feed=feed)
            ours.append(seconds)
            bare.append(run_bare(src, work, args.threads))
            line = f"  round {i + 1}: ours {ours[-1]:6.2f} s ({rejected:,} rejected)   bare read_csv {bare[-1]:6.2f} s"
            if args.no_rules:
                floor.append(run_ours(src, work, args.threads, rules=False, feed=feed)[0])
                line += f"   ours without rules {floor[-1]:6.2f} s"
                two_pass.append(run_two_pass(src, work, args.threads, feed=feed))
                line += f"   two-pass floor {two_pass[-1]:6.2f} s"
                rules_alone.append(time_rules_alone())
                line += f"   rules alone {rules_alone[-1]:5.2f} s"
            if with_polars:
                seconds, rejected = run_polars(src, work)
                polars.append(seconds)
                line += f"   polars {seconds:6.2f} s ({rejected:,} rejected)"
            print(line, flush=True)
        o, b = statistics.median(ours), statistics.median(bare)
        print(f"median: ours {o:.2f} s ({args.rows / o:,.0f} rows/s), bare {b:.2f} s -> ours/bare = {o / b:.2f}x (target <= 2.0x)")
        if floor:
            f = statistics.median(floor)
            print(f"median: ours without rules {f:.2f} s -> {f / b:.2f}x bare (target <= 1.3x); the rules cost {o - f:.2f} s")
            t = statistics.median(two_pass)
            print(f"median: two-pass floor {t:.2f} s -> {t / b:.2f}x bare: the least an ingest that judges a whole delivery "
                  f"before writing any of it can cost; ours without rules is {f / t:.2f}x that floor")
            a = statistics.median(rules_alone)
            print(f"median: the rules alone {a:.2f} s (in memory); two-pass floor + rules {t + a:.2f} s -> {(t + a) / b:.2f}x bare: "
                  f"the least an ingest judging every rule this way can cost (target <= 2.0x)")
        if polars:
            pm = statistics.median(polars)
            print(f"median: polars {pm:.2f} s -> polars/ours = {pm / o:.2f}x (target > 1: City Brain ahead)")
        if not args.no_pandera and feed is FEED:
            p, failures = run_pandera(src)
            print(f"pandas+pandera: {p:.2f} s ({failures:,} failure cases) -> pandera/ours = {p / o:.1f}x (target >= 6x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
