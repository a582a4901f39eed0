"""Read one delivery file into a temporary all-VARCHAR DuckDB table, whatever its format.

Each loader produces the temp table ``raw_rows`` with a ``_line`` column (1 = first data
row) and one VARCHAR column per source column, plus the malformed lines it could not
parse. Problems that condemn the whole file raise :class:`FileRejected` with the
file-level reason and a message for the department that must fix it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import mmap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

_CHUNK = 8 << 20
_BOM = codecs.BOM_UTF8


class FileRejected(Exception):
    """The whole delivery is rejected with a file-level reason."""

    def __init__(self, reason: str, message: str, rows_read: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.rows_read = rows_read  # rows the file had, when they could be counted


@dataclass
class RawLoad:
    """What a loader read: the source header, row counts and malformed lines."""

    header: list[str]
    encoding: str
    rows_parsed: int
    # (line, raw text, explanation) for rows that could not be parsed at all
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    # JSON object text per row for rejected rows is built from these column names
    json_source: bool = False

    @property
    def rows_read(self) -> int:
        return self.rows_parsed + len(self.malformed)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def explain_error(e: Exception, path: Path) -> str:
    """First line of a DuckDB error, naming the file but not where the server keeps it."""
    return str(e).splitlines()[0].replace(str(path.parent) + "/", "")[:300]


@contextmanager
def file_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep rows in file order while loading (rowid = record order gives line numbers).

    Everything after the load carries its line number explicitly, so ingestion runs with
    ``preserve_insertion_order`` off, which lets DuckDB insert in parallel.
    """
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute("SET preserve_insertion_order = false")


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def _has_interior_blank_line(path: Path) -> bool:
    """True if an empty line stands before the last row (DuckDB skips those but counts them)."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        end = len(mm)
        while end > 0 and mm[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):
            end -= 1
        for pat in (b"\n\n", b"\n\r\n"):
            pos = mm.find(pat, 0, end)
            if pos != -1:
                return True
    return False


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
        raise FileRejected("unreadable", "the file is empty: a CSV delivery needs at least its header row")
    try:
        first = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as e:
        raise FileRejected("unreadable", f"the header row cannot be parsed as CSV: {e}") from None
    return [h.strip() for h in first]


def load_csv(con: duckdb.DuckDBPyConnection, path: Path, scratch: Path) -> RawLoad:
    """Load a CSV delivery (UTF-8 with or without BOM, or GB18030) into ``raw_rows``."""
    with path.open("rb") as fh:
        start = fh.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected("bad_encoding", "the file is UTF-16: deliver UTF-8 or GB18030")
    encoding = "utf-8"
    source = path
    tmp: Path | None = None
    try:
        if _has_interior_blank_line(path):
            tmp = scratch / f"{uuid.uuid4().hex}.csv"
            encoding = _detect_or_reject(path)
            normalise_text(path, tmp, "utf-8-sig" if encoding == "utf-8" else encoding)
            source = tmp
        header = _read_header(path, encoding)
        if not header and encoding == "utf-8":  # the header itself is not UTF-8
            encoding = _detect_or_reject(path)
            tmp = tmp or scratch / f"{uuid.uuid4().hex}.csv"
            normalise_text(path, tmp, encoding)
            source = tmp
            header = _read_header(tmp, "utf-8")
        load = _duck_csv(con, source, header, encoding)
        if load is None:  # DuckDB met bytes that are not UTF-8
            encoding = _detect_or_reject(path)
            if encoding == "utf-8":  # pragma: no cover - DuckDB and Python disagree on UTF-8
                raise FileRejected("bad_encoding", "the file is not valid UTF-8")
            tmp = tmp or scratch / f"{uuid.uuid4().hex}.csv"
            normalise_text(path, tmp, encoding)
            header = _read_header(tmp, "utf-8")
            load = _duck_csv(con, tmp, header, encoding)
            if load is None:
                raise FileRejected("bad_encoding", "the file could not be read as GB18030")
        return load
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _detect_or_reject(path: Path) -> str:
    ok, _ = _decodes(path, "utf-8")
    if ok:
        return "utf-8"
    ok, bad_at = _decodes(path, "gb18030")
    if ok:
        return "gb18030"
    raise FileRejected(
        "bad_encoding",
        f"the file is neither UTF-8 nor GB18030 (first undecodable byte at offset {bad_at}); re-export it as UTF-8",
    )


def _duck_csv(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], encoding: str) -> RawLoad | None:
    """Parse with DuckDB; None if the file holds bytes that are not UTF-8."""
    if not header or any(h == "" for h in header):
        raise FileRejected("unreadable", "the header row has an empty column name")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    con.execute("DROP TABLE IF EXISTS raw_csv; DROP TABLE IF EXISTS cb_rejects; DROP TABLE IF EXISTS cb_reject_scans")
    try:
        with file_order(con):
            con.execute(
                f"""CREATE TEMP TABLE raw_csv AS SELECT * FROM read_csv({_sql_str(str(path))},
                    columns = {columns}, header = true, delim = ',', quote = '"', escape = '"',
                    auto_detect = false, strict_mode = true, null_padding = false,
                    store_rejects = true, rejects_table = 'cb_rejects', rejects_scan = 'cb_reject_scans')"""
            )
    except duckdb.Error as e:
        raise FileRejected("unreadable", f"the file cannot be parsed as CSV: {explain_error(e, path)}") from None
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
    parsed = con.execute("SELECT count(*) FROM raw_csv").fetchone()[0]
    _build_raw_rows(con, header, sorted(malformed))
    return RawLoad(header, encoding, parsed, [malformed[k] for k in sorted(malformed)])


def _build_raw_rows(con: duckdb.DuckDBPyConnection, header: list[str], bad_lines: list[int]) -> None:
    """``raw_rows`` = ``raw_csv`` with data-row numbers that skip over malformed records."""
    cols = ", ".join(f"c{i}" for i in range(len(header)))
    if not bad_lines:
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw_rows AS SELECT rowid + 1 AS _line, rowid AS _rid, {cols} FROM raw_csv")
        return
    # The k-th parsed row (0-based) lands after every malformed line i (1-based rank)
    # whose number minus i is at most k: shift it by that many.
    con.execute("CREATE OR REPLACE TEMP TABLE cb_bad_lines (line BIGINT)")
    con.executemany("INSERT INTO cb_bad_lines VALUES (?)", [(b,) for b in bad_lines])
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW raw_rows AS
            WITH ranked AS (SELECT line - row_number() OVER (ORDER BY line) AS gate,
                                   row_number() OVER (ORDER BY line) AS shift FROM cb_bad_lines),
                 g AS (SELECT gate, max(shift) AS shift FROM ranked GROUP BY gate)
            SELECT r.rowid + 1 + coalesce(g.shift, 0) AS _line, r.rowid AS _rid, {cols}
            FROM raw_csv r ASOF LEFT JOIN g ON r.rowid >= g.gate"""
    )


# --------------------------------------------------------------------------- JSONL


def load_jsonl(con: duckdb.DuckDBPyConnection, path: Path, scratch: Path) -> RawLoad:
    """Load newline-delimited JSON, one object per line; blank lines are not rows.

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
            with file_order(con):
                con.execute(
                    f"""CREATE TEMP TABLE raw_lines AS
                        SELECT ltrim(line, chr(65279)) AS line FROM read_csv({_sql_str(str(source))},
                            columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(1), quote = '', escape = '',
                            auto_detect = false, strict_mode = false, null_padding = false,
                            store_rejects = true, rejects_table = 'cb_rejects', rejects_scan = 'cb_reject_scans')"""
                )
        except duckdb.Error as e:
            raise FileRejected("unreadable", f"the file cannot be read as JSON lines: {explain_error(e, source)}") from None
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
    paths = "[" + ", ".join(_sql_str("$." + _json_key(h)) for h in header) + "]" if header else "[]::VARCHAR[]"
    cols = ", ".join(f"v[{i + 1}] AS c{i}" for i in range(len(header)))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW raw_rows AS
            SELECT _line, _line AS _rid{', ' + cols if cols else ''}
            FROM (SELECT _line, json_extract_string(line, {paths}) AS v FROM raw_json WHERE ok)"""
    )
    return RawLoad(header, encoding, parsed, sorted(malformed), json_source=True)


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- Parquet


def load_parquet(con: duckdb.DuckDBPyConnection, path: Path, scratch: Path) -> RawLoad:
    """Load a Parquet delivery; every column is read as text (dates as YYYY-MM-DD)."""
    src = f"read_parquet({_sql_str(str(path))})"
    try:
        schema = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
        header = [r[0] for r in schema]
        cols = ", ".join(f'CAST("{h.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS c{i}' for i, h in enumerate(header))
        with file_order(con):
            con.execute(f"CREATE OR REPLACE TEMP TABLE raw_pq AS SELECT {cols} FROM {src}")
    except duckdb.Error as e:
        raise FileRejected("unreadable", f"the file is not readable Parquet: {explain_error(e, path)}") from None
    con.execute(
        "CREATE OR REPLACE TEMP VIEW raw_rows AS SELECT rowid + 1 AS _line, rowid AS _rid, * FROM raw_pq"
    )
    parsed = con.execute("SELECT count(*) FROM raw_pq").fetchone()[0]
    return RawLoad(header, "parquet", parsed)


LOADERS = {"csv": load_csv, "jsonl": load_jsonl, "parquet": load_parquet}
