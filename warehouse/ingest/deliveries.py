"""Ingest landing-zone deliveries: validate, stage accepted rows, quarantine the rest.

Each delivery is parsed and validated in one pass into a temporary table, then
everything it changes (ledger row, staged rows, rejections, the delivery it supersedes) is
written in a single transaction, so a process killed mid-ingestion leaves the warehouse as
it was and the next run simply does the delivery again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.contract.city import load_city
from warehouse.contract.feeds import Feed
from warehouse.contract.labels import render
from warehouse.ingest.landing import LandingFile, scan
from warehouse.ingest.loaders import (
    LOADERS,
    FileFacts,
    FileRejected,
    RawLoad,
    as_json_object,
    explain_error,
    scan_file,
    sha256_of,
)
from warehouse.ingest.schema import staging_table
from warehouse.ingest.validation import checked_sql
from warehouse.storage.failpoints import failpoint
from warehouse.storage.faults import LandingUnreadable
from warehouse.storage.sql import Sql, quote_ident


@dataclass(frozen=True)
class Outcome:
    """What happened to one landing file in this run."""

    path: str
    delivery_id: int | None
    status: str  # accepted | partial | rejected | unchanged | unread (could not be read: not recorded, retried)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    error: str | None = None


def _concerns(where: str, feeds: set[str | None] | None) -> bool:
    """Whether an unreadable landing path may hold files of ``feeds``."""
    if feeds is None or where == ".":
        return True
    parts = where.split("/")
    return any(f is None or f.split("/")[: len(parts)] == parts[:2] for f in feeds)


def pending(con: duckdb.DuckDBPyConnection, landing: Path, feeds: set[str | None] | None = None,
            unreadable: list[tuple[str, str]] | None = None) -> list[LandingFile]:
    """Landing files that are new or changed since they were last seen (cheap: no hashing).

    ``feeds`` limits the result to some feed ids (``psb/household_events``); ``None`` in
    it stands for files whose path names no known feed. Folders of those feeds that cannot
    be listed are appended to ``unreadable``.
    """
    seen = dict(con.execute("SELECT path, fingerprint FROM ingest.landing_files").fetchall())
    out = []
    problems: list[tuple[str, str]] = []
    files = scan(landing, problems)
    if unreadable is not None:
        unreadable.extend(p for p in problems if _concerns(p[0], feeds))
    for f in files:
        if feeds is not None and (f.feed.id if f.feed else None) not in feeds:
            continue
        if seen.get(str(f.path)) != f.fingerprint:
            out.append(f)
    return out


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    scratch: Path,
    *,
    feeds: set[str | None] | None = None,
    progress: bool = False,
) -> list[Outcome]:
    """Ingest every new or changed delivery under ``landing`` (optionally only some feeds).

    Everything readable is ingested first; then :class:`LandingUnreadable` is raised if a
    folder or file of these feeds could not be read (none of it is recorded, so the next
    refresh takes it up once it is readable).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    unreadable: list[tuple[str, str]] = []
    files = pending(con, landing, feeds, unreadable)
    if progress:
        from tqdm import tqdm  # optional nicety for the CLI

        files = tqdm(files, desc="ingest", unit="file")
    outcomes = [ingest_file(con, f, scratch) for f in files]
    unreadable += [(Path(o.path).relative_to(landing).as_posix(), o.error or "") for o in outcomes if o.status == "unread"]
    if unreadable:
        raise LandingUnreadable(landing, unreadable)
    return outcomes


def ingest_file(con: duckdb.DuckDBPyConnection, f: LandingFile, scratch: Path) -> Outcome:
    """Ingest one landing file as a delivery (or recognise it as already ingested)."""
    t0 = time.perf_counter()
    try:
        manifest_sha = sha256_of(f.manifest) if f.manifest else None
        fh = f.path.open("rb")
    except OSError as e:
        return _unread(f, e)
    # The file is hashed (and scanned for blank lines) on a thread while DuckDB parses it.
    with fh, ThreadPoolExecutor(max_workers=1) as pool:
        facts = pool.submit(scan_file, fh, blank_lines=f.format == "csv")
        try:
            return _ingest_checked(con, f, scratch, t0, facts, manifest_sha)
        except OSError as e:
            # The delivery could not be read to its end (by the hash or the loader). Other
            # I/O errors, such as a full scratch folder, are not the department's to fix.
            if (facts.done() and facts.exception() is e) or e.filename == str(f.path):
                return _unread(f, e)
            raise


def _unread(f: LandingFile, e: OSError) -> Outcome:
    # Not recorded: the file stays pending and is ingested once it can be read.
    return Outcome(str(f.path), None, "unread", reason="unreadable", error=f"cannot read the file: {e.strerror}")


def _ingest_checked(
    con: duckdb.DuckDBPyConnection, f: LandingFile, scratch: Path, t0: float, facts: Future[FileFacts], manifest_sha: str | None
) -> Outcome:
    live = con.execute(
        """SELECT delivery_id, sha256, manifest_sha256, size_bytes FROM ingest.deliveries
           WHERE department = ? AND feed = ? AND business_date IS NOT DISTINCT FROM ? AND file_name = ?
             AND status <> 'superseded' ORDER BY delivery_id DESC LIMIT 1""",
        [f.department, f.feed_name, f.business_date, f.file_name],
    ).fetchone()
    # Same bytes (and the same manifest) as the live delivery: nothing to do. Only a
    # re-delivery of the same size can be that, so only then does the hash come first.
    if live and live[3] == f.size and live[1] == facts.result().sha256 and live[2] == manifest_sha:
        _remember(con, f, live[1])
        return Outcome(str(f.path), live[0], "unchanged")
    previous = live[0] if live else None
    ledger = dict(
        department=f.department, feed=f.feed_name, business_date=f.business_date, file_name=f.file_name,
        path=str(f.path), format=f.format, manifest_sha256=manifest_sha, size_bytes=f.size, arrived_at=f.arrived_at,
        supersedes=previous,
    )

    def rejected(why: FileRejected) -> Outcome:
        ledger["sha256"] = facts.result().sha256
        return _record_rejected(con, f, ledger, why, t0)

    if f.path_problem:
        return rejected(FileRejected(*f.path_problem))
    feed, business_date = f.feed, f.business_date
    assert feed is not None and business_date is not None
    districts = load_city().district_codes
    pairs: list[tuple[int, str, str | None]] = []

    def checked(header: list[str], source: Sql, keep: list[str], raw_text: Sql) -> tuple[Sql, dict[str, object]]:
        query = checked_sql(feed, _map_columns(feed, header), districts, business_date, source, keep, raw_text)
        query.define_code_lists(con)
        pairs[:] = query.pairs
        return query.sql, query.params

    try:
        load = LOADERS[f.format](con, f.path, scratch, checked, lambda: facts.result().interior_blank_line)
        extra = _check_columns(feed, load)
        _check_manifest(f, load, facts.result().sha256)
    except FileRejected as e:
        return rejected(e)
    except duckdb.Error as e:  # an input DuckDB chokes on in a way we did not foresee
        return rejected(FileRejected("unreadable", "file_unreadable", {"detail": explain_error(e, f.path)}))
    ledger["sha256"] = facts.result().sha256
    con.execute("CREATE OR REPLACE TEMP TABLE cb_reason_bits (bit BIGINT, reason VARCHAR, column_name VARCHAR)")
    con.executemany("INSERT INTO cb_reason_bits VALUES (?, ?, ?)", pairs)
    _mark_duplicates(con, feed, previous, next(b for b, r, _ in pairs if r == "duplicate"))
    return _commit(con, f, feed, load, ledger, extra, t0)


# --------------------------------------------------------------------------- steps


def _normalised(header: list[str]) -> list[str]:
    return [h.strip().lower() for h in header]


def _map_columns(feed: Feed, header: list[str]) -> dict[str, Sql | None]:
    """Contract column -> source column (``c3``), None where the delivery lacks it."""
    normalised = _normalised(header)
    dupes = sorted({h for h in normalised if normalised.count(h) > 1})
    if dupes:
        raise FileRejected("unreadable", "duplicate_columns", {"columns": ", ".join(dupes)})
    index = {h: i for i, h in enumerate(normalised)}
    return {c: (quote_ident(f"c{index[c]}") if c in index else None) for c in feed.column_names}


def _check_columns(feed: Feed, load: RawLoad) -> list[str]:
    """Reject the file when a required column is absent (once its rows are counted); the extra columns."""
    normalised = _normalised(load.header)
    missing = [c for c in feed.required_columns if c not in normalised]
    # JSONL names its columns in its objects: with no object read there is no header to lack
    # a column (lines that are not objects are each a malformed row, as in a stream's batch).
    if missing and (load.rows_parsed > 0 or not load.json_source):
        raise FileRejected("missing_column", "missing_columns",
                           {"columns": ", ".join(missing), "expected": ", ".join(feed.column_names)}, load.rows_read)
    known = set(feed.column_names)
    return [h for h, n in zip(load.header, normalised) if n not in known]


def _check_manifest(f: LandingFile, load: RawLoad, sha: str) -> None:
    if f.manifest is None:
        return
    try:
        man = json.loads(f.manifest.read_text(encoding="utf-8"))
        rows, digest = man.get("rows"), man.get("sha256")
    except (OSError, ValueError, AttributeError) as e:
        raise FileRejected("manifest_mismatch", "manifest_unreadable", {"manifest": f.manifest.name, "detail": str(e)}) from None
    problems = []
    if rows is not None and rows != load.rows_read:
        problems.append({"kind": "rows", "said": rows, "found": load.rows_read})
    if digest is not None and str(digest).lower() != sha:
        problems.append({"kind": "sha256", "said": str(digest)[:16], "found": sha[:16]})
    if problems:
        raise FileRejected("manifest_mismatch", "manifest_mismatch", {"problems": problems}, load.rows_read)


def _mark_duplicates(con: duckdb.DuckDBPyConnection, feed: Feed, superseded: int | None, dup_bit: int) -> None:
    """Set the ``duplicate`` bit on rows whose key was accepted earlier (this or another live delivery).

    Within the delivery the first clean occurrence of a key wins. Only keys that repeat
    or already exist are examined, so the common case costs one aggregation.
    """
    key, staged = quote_ident(feed.key), staging_table(feed)
    # The delivery a correction supersedes does not count (none: $superseded is NULL, nothing is left out).
    exclude = "AND s._delivery_id IS DISTINCT FROM $superseded"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_dup_keys AS
            SELECT {key} AS k FROM checked WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1
            UNION
            SELECT DISTINCT s.{key} FROM {staged} s
            JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id
            WHERE s.{key} IN (SELECT {key} FROM checked) {exclude}""",
        {"superseded": superseded},
    )
    if not con.execute("SELECT count(*) FROM cb_dup_keys").fetchone()[0]:
        return
    con.execute(
        f"""UPDATE checked SET problems = problems | $dup_bit
            WHERE rowid IN (
              WITH cand AS (SELECT c._line, c._rid, c.{key} AS k, c.problems FROM checked_rows c SEMI JOIN cb_dup_keys d ON d.k = c.{key}),
                   firsts AS (SELECT k, min(_line) AS first_line FROM cand WHERE problems = 0 GROUP BY k),
                   prior AS (SELECT DISTINCT s.{key} AS k FROM {staged} s
                             JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id
                             WHERE s.{key} IN (SELECT k FROM cb_dup_keys) {exclude})
              SELECT c._rid FROM cand c
              LEFT JOIN firsts f ON f.k = c.k
              LEFT JOIN prior p ON p.k = c.k
              WHERE c._line > f.first_line OR p.k IS NOT NULL)""",
        {"dup_bit": dup_bit, "superseded": superseded},
    )


def _commit(
    con: duckdb.DuckDBPyConnection, f: LandingFile, feed: Feed, load: RawLoad, ledger: dict, extra: list[str], t0: float
) -> Outcome:
    parsed, accepted = con.execute("SELECT count(*), count(*) FILTER (WHERE problems = 0) FROM checked").fetchone()
    rows_read = parsed + len(load.malformed)
    rejected = rows_read - accepted
    status = "accepted" if rejected == 0 else ("partial" if accepted else "rejected")
    error = None
    note = {"error_key": None, "error_params": None}
    if rejected:
        note = {"error_key": "rows_rejected", "error_params": json.dumps({"rejected": rejected, "rows_read": rows_read})}
        error = render("rows_rejected", note["error_params"], "en")
    cols = [quote_ident(c) for c in feed.column_names]
    # A row refused only as a duplicate passed every check before keys were compared, so
    # its original text was not kept: it is quarantined as its checked values.
    values = as_json_object("$names", cols)
    con.execute("BEGIN TRANSACTION")
    try:
        did = _insert_delivery(
            con, ledger, status=status, rows_read=rows_read, rows_accepted=accepted, rows_rejected=rejected,
            error=error, encoding=load.encoding, extra=extra, manifest_rows=None, t0=t0, **note,
        )
        con.execute(
            f"INSERT INTO {staging_table(feed)} SELECT {', '.join(cols)}, ?, _line FROM checked_rows WHERE problems = 0", [did]
        )
        if rejected:
            con.execute(
                """INSERT INTO ingest.rejections
                   SELECT ?, c._line, b.reason, b.column_name
                   FROM checked_rows c JOIN cb_reason_bits b ON (c.problems & b.bit) <> 0
                   WHERE c.problems <> 0 ORDER BY c._line, b.bit""",
                [did],
            )
            con.execute(
                f"INSERT INTO ingest.rejected_rows SELECT $did, _line, coalesce(_raw, {values}) FROM checked_rows WHERE problems <> 0",
                {"did": did, "names": feed.column_names},
            )
            if load.malformed:
                con.executemany(
                    "INSERT INTO ingest.rejections VALUES (?, ?, 'malformed_row', NULL)",
                    [(did, line) for line, _, _ in load.malformed],
                )
                con.executemany(
                    "INSERT INTO ingest.rejected_rows VALUES (?, ?, ?)",
                    [(did, line, text) for line, text, _ in load.malformed],
                )
        _finish(con, f, ledger, did)
        # The ledger's duration covers the whole delivery, the staged write included.
        con.execute("UPDATE ingest.deliveries SET duration_s = ? WHERE delivery_id = ?", [round(time.perf_counter() - t0, 4), did])
        failpoint("ingest.before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Outcome(str(f.path), did, status, rows_read, accepted, rejected, None, error)


def _record_rejected(con: duckdb.DuckDBPyConnection, f: LandingFile, ledger: dict, why: FileRejected, t0: float) -> Outcome:
    reason, message, rows_read = why.reason, why.message, why.rows_read
    con.execute("BEGIN TRANSACTION")
    try:
        did = _insert_delivery(
            con, ledger, status="rejected", rows_read=rows_read, rows_accepted=0, rows_rejected=rows_read,
            error=message, error_key=why.key, error_params=json.dumps(why.params), reason=reason, t0=t0,
        )
        _finish(con, f, ledger, did)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Outcome(str(f.path), did, "rejected", rows_read, 0, rows_read, reason, message)


def _insert_delivery(con: duckdb.DuckDBPyConnection, ledger: dict, *, t0: float, extra: list[str] | None = None, **fields) -> int:
    did = con.execute("SELECT nextval('ingest.delivery_seq')").fetchone()[0]
    row = {
        **ledger,
        **fields,
        "delivery_id": did,
        "ingested_at": dt.datetime.now(),
        "duration_s": round(time.perf_counter() - t0, 4),
        "extra_columns": extra or [],
    }
    names = list(row)
    con.execute(
        f"INSERT INTO ingest.deliveries ({', '.join(quote_ident(n) for n in names)}) VALUES ({', '.join('?' for _ in names)})",
        [row[n] for n in names],
    )
    return did


def _finish(con: duckdb.DuckDBPyConnection, f: LandingFile, ledger: dict, did: int) -> None:
    """Supersede the corrected delivery and remember the file's fingerprint."""
    if ledger.get("supersedes"):
        con.execute(
            "UPDATE ingest.deliveries SET status = 'superseded', superseded_by = ? WHERE delivery_id = ?",
            [did, ledger["supersedes"]],
        )
    _remember(con, f, ledger["sha256"])


def _remember(con: duckdb.DuckDBPyConnection, f: LandingFile, sha: str) -> None:
    con.execute(
        "INSERT OR REPLACE INTO ingest.landing_files VALUES (?, ?, ?, ?)",
        [str(f.path), f.fingerprint, sha, dt.datetime.now()],
    )
