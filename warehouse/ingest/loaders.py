"""Read one delivery file, whatever its format, and check its rows as they are parsed.

A loader turns the file into a SELECT of one VARCHAR column per source column (``c0``,
``c1``, …) in file order, asks the caller for the SQL that validates those rows into the
temp table ``checked`` (see validation), and runs it: the file is parsed, typed and checked
in a single pass, and no copy of the raw rows is kept beside ``checked``. It then defines
the view ``checked_rows`` = ``checked`` with ``_line`` (1 = first data row) and ``_rid``
(the row's id in ``checked``), and reports the malformed lines it could not parse.
Problems that condemn the whole file raise :class:`FileRejected` with the file-level
reason and a message for the department that must fix it.

The file's path, its header's names (JSON keys of a row's original text) and its JSON paths
are bound parameters of the loader's SQL, named ``file_*``; the source columns are ``c0``,
``c1``, … in file order, the file's own column names (Parquet) quoted.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb

from warehouse.contract.labels import render
from warehouse.storage.sql import Sql, quote_ident

_CHUNK = 8 << 20
_BOM = codecs.BOM_UTF8
_BLANK_LINE = re.compile(rb"\n\r?\n")
_OPERATOR = re.compile(r"─ ([A-Z][A-Za-z ]+?) ─")  # operator names in DuckDB's EXPLAIN boxes

CheckedSql = Callable[[list[str], Sql, list[str], Sql], tuple[Sql, dict[str, object]]]
"""(header, source SELECT, source columns to keep, raw-text expression) -> SQL creating
``checked`` and the parameters it binds (none named ``file_*``: those are the loader's)."""


class FileRejected(Exception):
    """The whole delivery is rejected with a file-level reason."""

    def __init__(self, reason: str, key: str, params: dict | None = None, rows_read: int = 0) -> None:
        self.reason = reason
        # The message is stored as a template and its parameters (contract.labels), rendered
        # in the reader's language; ``message`` is its English text for the ledger's ``error``.
        self.key = key
        self.params = params or {}
        self.message = render(key, self.params, "en")
        self.rows_read = rows_read  # rows the file had, when they could be counted
        super().__init__(self.message)


@dataclass
class RawLoad:
    """What a loader read: the source header, row counts and malformed lines."""

    header: list[str]
    encoding: str
    rows_parsed: int
    # (line, raw text, explanation) for rows that could not be parsed at all
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    # JSONL (the header is the keys the objects hold, so it can be empty)
    json_source: bool = False

    @property
    def rows_read(self) -> int:
        return self.rows_parsed + len(self.malformed)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    with path.open("rb") as fh:
        return scan_file(fh, blank_lines=False).sha256


@dataclass(frozen=True)
class FileFacts:
    """What one read of a delivery's bytes tells: its sha256 and whether it has blank lines."""

    sha256: str
    interior_blank_line: bool  # an empty line before the last row (only looked for when asked)


def scan_file(fh: BinaryIO, *, blank_lines: bool) -> FileFacts:
    """Hash an open file in one streamed read, optionally looking for interior blank lines.

    Ingestion runs this on a thread while DuckDB parses the same file: hashlib releases
    the GIL, and DuckDB does too, so the two overlap instead of adding up.
    """
    h = hashlib.sha256()
    offset = 0
    first_blank_end = -1  # end offset of the first blank-line match
    content_end = 0  # offset just past the last byte that is not line-ending or space
    tail = b""
    while chunk := fh.read(_CHUNK):
        h.update(chunk)
        if blank_lines:
            if first_blank_end < 0:
                # Keep the previous chunk's last bytes so a match across the boundary is seen.
                window = tail + chunk
                m = _BLANK_LINE.search(window)
                if m:
                    first_blank_end = offset - len(tail) + m.end()
                tail = window[-2:]
            stripped = len(chunk.rstrip(b"\n\r \t"))
            if stripped:
                content_end = offset + stripped
        offset += len(chunk)
    # Like DuckDB, ignore blank lines after the last row; one before it shifts line numbers.
    return FileFacts(h.hexdigest(), 0 <= first_blank_end <= content_end)


def explain_error(e: Exception, path: Path) -> str:
    """First line of a DuckDB error, naming the file but not where the server keeps it."""
    return str(e).splitlines()[0].replace(str(path.parent) + "/", "")[:300]


def run_in_file_order(con: duckdb.DuckDBPyConnection, create_table: Sql, params: dict[str, object] | None = None) -> None:
    """Run a ``CREATE TABLE … AS`` keeping the source's rows in file order (rowid = record order).

    Line numbers are derived from that order, so the plan is checked before it runs: on
    several threads only DuckDB's batch-ordered insert keeps it, and a join in the plan
    (DuckDB turns long ``IN`` lists into joins unless told not to) would silently shuffle
    rows across threads. Everything after the load carries its line number explicitly, so
    ingestion otherwise runs with ``preserve_insertion_order`` off, which lets DuckDB
    insert in parallel. ``params`` are the statement's bound values.
    """
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET disabled_optimizers = 'in_clause'")
    try:
        plan = con.execute(f"EXPLAIN {create_table}", params).fetchall()[0][1]
        operators = _OPERATOR.findall(plan)
        one_thread = con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
        if not one_thread and operators[:1] != ["Batch Create Table As"]:
            raise RuntimeError(f"this load would not keep the file's row order: {' <- '.join(operators)}")
        con.execute(create_table, params)
    finally:
        con.execute("SET preserve_insertion_order = false")
        con.execute("RESET disabled_optimizers")


def as_json_object(keys: Sql, columns: list[Sql]) -> Sql:
    """SQL for a row's text as a JSON object: ``columns`` under the names in the bound list
    ``keys`` (a placeholder), in order."""
    return "json_object(" + ", ".join(f"{keys}[{i}], {c}" for i, c in enumerate(columns, 1)) + ")"


def _source_columns(n: int) -> list[Sql]:
    """The loaders' names for a file's ``n`` columns, in file order: ``c0``, ``c1``, …"""
    return [quote_ident(f"c{i}") for i in range(n)]


def _with_file(checked: tuple[Sql, dict[str, object]], **mine: object) -> tuple[Sql, dict[str, object]]:
    """The checked SQL and its parameters, with the loader's own (``file_*``) added."""
    sql, params = checked
    assert not params.keys() & mine.keys(), "the validation SQL names a parameter of the loader's"
    return sql, {**params, **mine}


# --------------------------------------------------------------------------- encodings


def _decodes(path: Path, encoding: str) -> tuple[bool, int]:
    """Whether the whole file decodes; else the byte offset of the first bad byte."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                return False, offset + e.start
            offset += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset
    return True, -1


def normalise_text(src: Path, dst: Path, encoding: str) -> None:
    """Rewrite ``src`` as UTF-8 without blank lines outside quoted fields.

    Used only for GB18030 files and files with interior blank lines, so that DuckDB's
    record numbers equal data-row numbers. Quote parity tracks RFC 4180 quoting: a blank
    line inside a quoted field is content and is kept.
    """
    inside = False
    with src.open("r", encoding=encoding, newline="") as fin, dst.open("w", encoding="utf-8", newline="") as fout:
        for line in fin:
            if not inside and line.strip("\r\n") == "":
                continue
            fout.write(line)
            if line.count('"') % 2:
                inside = not inside


# --------------------------------------------------------------------------- CSV


def _read_header(path: Path, encoding: str) -> list[str]:
    """The header row's column names; the header must decode strictly in ``encoding``."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    first_line = head.split(b"\n", 1)[0]
    try:
        text = first_line.decode(encoding)
    except UnicodeDecodeError:
        return []
    if not head.strip():
        raise FileRejected("unreadable", "empty_file")
    try:
        first = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as e:
        raise FileRejected("unreadable", "bad_header", {"detail": str(e)}) from None
    return [h.strip() for h in first]


def load_csv(
    con: duckdb.DuckDBPyConnection, path: Path, scratch: Path, checked: CheckedSql, blank_lines: Callable[[], bool]
) -> RawLoad:
    """Load and check a CSV delivery (UTF-8 with or without BOM, or GB18030).

    The file is read as delivered first. ``blank_lines`` answers, once that read is done,
    whether the file has an interior blank line (it is computed alongside); such a file,
    and one that is not UTF-8, is rewritten as clean UTF-8 and read again.
    """
    with path.open("rb") as fh:
        start = fh.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected("bad_encoding", "utf16")
    header = _read_header(path, "utf-8")
    if header:  # the header is UTF-8: read the file as it is
        load = _duck_csv(con, path, header, "utf-8", checked)
        if load is not None and not blank_lines():
            return load
    encoding = _detect_or_reject(path)
    tmp = scratch / f"{uuid.uuid4().hex}.csv"
    try:
        normalise_text(path, tmp, "utf-8-sig" if encoding == "utf-8" else encoding)
        load = _duck_csv(con, tmp, _read_header(tmp, "utf-8"), encoding, checked)
    finally:
        tmp.unlink(missing_ok=True)
    if load is None:  # pragma: no cover - Python decoded what DuckDB could not
        raise FileRejected("bad_encoding", "not_decodable", {"encoding": encoding.upper()})
    return load


def _detect_or_reject(path: Path) -> str:
    ok, _ = _decodes(path, "utf-8")
    if ok:
        return "utf-8"
    ok, bad_at = _decodes(path, "gb18030")
    if ok:
        return "gb18030"
    raise FileRejected("bad_encoding", "unknown_encoding", {"offset": bad_at})


def _duck_csv(
    con: duckdb.DuckDBPyConnection, path: Path, header: list[str], encoding: str, checked: CheckedSql
) -> RawLoad | None:
    """Parse and check with DuckDB; None if the file holds bytes that are not UTF-8."""
    if not header or any(h == "" for h in header):
        raise FileRejected("unreadable", "empty_column_name")
    sql, params = _with_file(
        checked(
            header,
            """SELECT * FROM read_csv($file_path,
                columns = $file_columns, header = true, delim = ',', quote = '"', escape = '"',
                auto_detect = false, strict_mode = true, null_padding = false,
                store_rejects = true, rejects_table = 'cb_rejects', rejects_scan = 'cb_reject_scans')""",
            [],
            as_json_object("$file_keys", _source_columns(len(header))),
        ),
        file_path=str(path), file_columns={f"c{i}": "VARCHAR" for i in range(len(header))}, file_keys=header,
    )
    con.execute("DROP TABLE IF EXISTS cb_rejects; DROP TABLE IF EXISTS cb_reject_scans")
    try:
        run_in_file_order(con, sql, params)
    except duckdb.Error as e:
        raise FileRejected("unreadable", "csv_unparseable", {"detail": explain_error(e, path)}) from None
    rejects = con.execute(
        "SELECT line - 1 AS line, error_type, csv_line, error_message FROM cb_rejects ORDER BY line"
    ).fetchall()
    if any(r[1] == "INVALID ENCODING" for r in rejects):
        return None
    # One malformed record may be reported more than once (one error per column).
    malformed: dict[int, tuple[int, str, str]] = {}
    for line, kind, text, msg in rejects:
        if line not in malformed:
            malformed[line] = (int(line), (text or "").rstrip("\r\n"), f"{kind.lower()}: {msg}")
    parsed = con.execute("SELECT count(*) FROM checked").fetchone()[0]
    _number_lines(con, sorted(malformed))
    return RawLoad(header, encoding, parsed, [malformed[k] for k in sorted(malformed)])


def _number_lines(con: duckdb.DuckDBPyConnection, bad_lines: list[int]) -> None:
    """``checked_rows`` = ``checked`` with data-row numbers that skip over malformed records."""
    if not bad_lines:
        con.execute("CREATE OR REPLACE TEMP VIEW checked_rows AS SELECT rowid + 1 AS _line, rowid AS _rid, * FROM checked")
        return
    # The k-th parsed row (0-based) lands after every malformed line i (1-based rank)
    # whose number minus i is at most k: shift it by that many.
    con.execute("CREATE OR REPLACE TEMP TABLE cb_bad_lines (line BIGINT)")
    con.executemany("INSERT INTO cb_bad_lines VALUES (?)", [(b,) for b in bad_lines])
    con.execute(
        """CREATE OR REPLACE TEMP VIEW checked_rows AS
            WITH ranked AS (SELECT line - row_number() OVER (ORDER BY line) AS gate,
                                   row_number() OVER (ORDER BY line) AS shift FROM cb_bad_lines),
                 g AS (SELECT gate, max(shift) AS shift FROM ranked GROUP BY gate)
            SELECT r.rowid + 1 + coalesce(g.shift, 0) AS _line, r.rowid AS _rid, r.*
            FROM checked r ASOF LEFT JOIN g ON r.rowid >= g.gate"""
    )


# --------------------------------------------------------------------------- JSONL


def load_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, scratch: Path, checked: CheckedSql, blank_lines: Callable[[], bool]
) -> RawLoad:
    """Load and check newline-delimited JSON, one object per line; blank lines are not rows (so ``blank_lines`` is not asked).

    Line numbers are physical lines. Lines that are not a JSON object are malformed.
    """
    encoding = "utf-8"
    source = path
    tmp: Path | None = None
    try:
        ok, _ = _decodes(path, "utf-8-sig")
        if not ok:
            encoding = _detect_or_reject(path)
            tmp = scratch / f"{uuid.uuid4().hex}.jsonl"
            with path.open("r", encoding=encoding, newline="") as fin, tmp.open("w", encoding="utf-8", newline="") as fout:
                for line in fin:
                    fout.write(line)
            source = tmp
        con.execute("DROP TABLE IF EXISTS raw_lines; DROP TABLE IF EXISTS cb_rejects; DROP TABLE IF EXISTS cb_reject_scans")
        try:
            run_in_file_order(
                con,
                """CREATE TEMP TABLE raw_lines AS
                       SELECT ltrim(line, chr(65279)) AS line FROM read_csv($file_path,
                           columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '', escape = '',
                           auto_detect = false, strict_mode = false, null_padding = false,
                           store_rejects = true, rejects_table = 'cb_rejects', rejects_scan = 'cb_reject_scans')""",
                {"file_path": str(source)},
            )
        except duckdb.Error as e:
            raise FileRejected("unreadable", "jsonl_unreadable", {"detail": explain_error(e, source)}) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    # Lines DuckDB itself could not split (a stray control character, an over-long line).
    extra = con.execute("SELECT line, csv_line FROM cb_rejects ORDER BY line").fetchall()
    con.execute(
        """CREATE OR REPLACE TEMP TABLE raw_json AS
           SELECT _line, line, json_valid(line) AND json_type(CASE WHEN json_valid(line) THEN line END) = 'OBJECT' AS ok
           FROM (SELECT rowid + 1 AS _line, line FROM raw_lines) WHERE line IS NOT NULL AND trim(line) <> ''"""
    )
    malformed = [
        (int(n), text, "malformed_row: not a JSON object")
        for n, text in con.execute("SELECT _line, line FROM raw_json WHERE NOT ok ORDER BY _line").fetchall()
    ]
    malformed += [(int(n), (t or "").rstrip("\r\n"), "malformed_row: the line cannot be read") for n, t in extra]
    header = [
        r[0]
        for r in con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(line)) AS k, _line FROM raw_json WHERE ok) GROUP BY k ORDER BY min(_line), k"
        ).fetchall()
    ]
    parsed = con.execute("SELECT count(*) FROM raw_json WHERE ok").fetchone()[0]
    cols = ", ".join(f"v[{i + 1}] AS {c}" for i, c in enumerate(_source_columns(len(header))))
    source = f"""SELECT _line, line AS _text{', ' + cols if cols else ''}
                 FROM (SELECT _line, line, json_extract_string(line, $file_paths::VARCHAR[]) AS v FROM raw_json WHERE ok)"""
    con.execute(*_with_file(checked(header, source, ["_line"], "_text"), file_paths=[_json_path(h) for h in header]))
    con.execute("CREATE OR REPLACE TEMP VIEW checked_rows AS SELECT rowid AS _rid, * FROM checked")
    return RawLoad(header, encoding, parsed, sorted(malformed), json_source=True)


def _json_path(key: str) -> str:
    """The JSON path of a top-level key (a bound value, not SQL): ``$."key"``, backslash-escaped."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'$."{escaped}"'


# --------------------------------------------------------------------------- Parquet


def load_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, scratch: Path, checked: CheckedSql, blank_lines: Callable[[], bool]
) -> RawLoad:
    """Load and check a Parquet delivery; every column is read as text (dates as YYYY-MM-DD)."""
    try:
        header = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
    except duckdb.Error as e:
        raise FileRejected("unreadable", "parquet_unreadable", {"detail": explain_error(e, path)}) from None
    if any(h == "" for h in header):
        raise FileRejected("unreadable", "empty_column_name")
    raw = _source_columns(len(header))
    cols = ", ".join(f"CAST({quote_ident(h)} AS VARCHAR) AS {c}" for h, c in zip(header, raw))
    sql, params = _with_file(checked(header, f"SELECT {cols} FROM read_parquet($file_path)", [], as_json_object("$file_keys", raw)),
                             file_path=str(path), file_keys=header)
    try:
        run_in_file_order(con, sql, params)
    except duckdb.Error as e:
        raise FileRejected("unreadable", "parquet_unreadable", {"detail": explain_error(e, path)}) from None
    _number_lines(con, [])
    parsed = con.execute("SELECT count(*) FROM checked").fetchone()[0]
    return RawLoad(header, "parquet", parsed)


LOADERS = {"csv": load_csv, "jsonl": load_jsonl, "parquet": load_parquet}
