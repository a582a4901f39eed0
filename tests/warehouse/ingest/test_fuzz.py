"""Property test: whatever bytes a department sends, ingestion neither crashes nor loses a row."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.ingest import loaders
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect

FEED = FEEDS_BY_ID["psb/household_events"]
GOOD = ["E1", "11010519491231002X", "张三", "2", "1949-12-31", "01", "330106", "update", "2026-11-01"]

hostile = st.sampled_from([
    "<script>alert(1)</script>", "'; DROP TABLE ingest.deliveries; --", '"', '""', ",", "\n", "\r\n", "\x00", "\ufeff",
    "\u202e", "😀", "𠮷", "x" * 5000, " ", "NULL", "null", "\\", "\t", "%s%n", "{{7*7}}",
])
field = st.one_of(st.sampled_from(GOOD), hostile, st.text(max_size=30))


def _csv(rows: list[list[str]], header: list[str]) -> str:
    out = io.StringIO()
    import csv

    w = csv.writer(out, lineterminator=st_choice_newline[0])
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


st_choice_newline = ["\n"]


@st.composite
def csv_files(draw) -> bytes:
    header = draw(st.one_of(st.just(FEED.column_names), st.lists(st.sampled_from(FEED.column_names + ["x", ""]), max_size=12)))
    rows = draw(st.lists(st.lists(field, min_size=0, max_size=12), max_size=15))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(
        [",".join(header)] + [",".join(draw(st.sampled_from([lambda v: v, lambda v: '"' + v.replace('"', '""') + '"']))(v) for v in r) for r in rows]
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=20)) + data[cut:]
    return data


@st.composite
def jsonl_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            obj = {k: draw(field) for k in draw(st.lists(st.sampled_from(FEED.column_names + ["extra"]), max_size=11))}
            lines.append(json.dumps(obj, ensure_ascii=draw(st.booleans())))
        elif kind == 1:
            lines.append(json.dumps(dict(zip(FEED.column_names, GOOD))))
        elif kind == 2:
            lines.append(draw(st.text(max_size=40)))
        else:
            lines.append(json.dumps(draw(st.one_of(st.integers(), st.lists(st.integers()), st.none()))))
    return "\n".join(lines).encode("utf-8", errors="replace")


@st.composite
def parquet_files(draw) -> bytes:
    cols = draw(st.lists(st.sampled_from(FEED.column_names + ["n"]), unique=True, max_size=11))
    n = draw(st.integers(0, 8))
    table = pa.table({c: pa.array([draw(st.one_of(field, st.none())) for _ in range(n)], pa.string()) if c != "n"
                      else pa.array(list(range(n))) for c in cols}) if cols else pa.table({"z": pa.array([], pa.int64())})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    data = buf.getvalue()
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


deliveries = st.lists(
    st.one_of(st.tuples(st.just("csv"), csv_files()), st.tuples(st.just("jsonl"), jsonl_files()),
              st.tuples(st.just("parquet"), parquet_files()), st.tuples(st.sampled_from(["csv", "jsonl", "parquet"]), st.binary(max_size=300))),
    min_size=1, max_size=4,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=deliveries)
def test_ingest_never_crashes_never_loses_a_row_and_explains_every_rejection(files) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        folder = root / "landing" / "psb" / "household_events" / "2026-11-01"
        folder.mkdir(parents=True)
        for i, (fmt, data) in enumerate(files):
            (folder / f"f{i}.{fmt}").write_bytes(data)
        con = connect(":memory:")
        outcomes = ingest_landing(con, root / "landing", root / "tmp")
        assert len(outcomes) == len(files)
        for o in outcomes:
            assert o.status in ("accepted", "partial", "rejected")
            assert o.rows_read == o.rows_accepted + o.rows_rejected
            if o.status != "accepted":
                assert o.error
        for did, _status, read, acc, rej, reason in con.execute(
            "SELECT delivery_id, status, rows_read, rows_accepted, rows_rejected, reason FROM ingest.deliveries"
        ).fetchall():
            staged = con.execute("SELECT count(*) FROM staging.household_events WHERE _delivery_id = ?", [did]).fetchone()[0]
            assert staged == acc
            if reason is None:  # row-level outcome: every rejected row has reasons and its raw text
                lines = con.execute("SELECT count(DISTINCT line_number) FROM ingest.rejections WHERE delivery_id = ?", [did]).fetchone()[0]
                raws = con.execute("SELECT count(*) FROM ingest.rejected_rows WHERE delivery_id = ?", [did]).fetchone()[0]
                assert lines == rej == raws
                line_range = con.execute(
                    "SELECT min(line_number), max(line_number) FROM (SELECT line_number FROM ingest.rejections WHERE delivery_id = ? "
                    "UNION ALL SELECT _line FROM staging.household_events WHERE _delivery_id = ?)", [did, did]).fetchone()
                if read:
                    assert line_range[0] >= 1
            else:
                assert acc == 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_huge_field_is_a_malformed_row_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "psb" / "household_events" / "2026-11-01"
    folder.mkdir(parents=True)
    rows = [",".join(FEED.column_names), ",".join(GOOD), ",".join(["E2", "x" * 3_000_000] + GOOD[2:]), ",".join(["E3"] + GOOD[1:])]
    (folder / "big.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    con = connect(":memory:")
    (o,) = ingest_landing(con, tmp_path / "landing", tmp_path / "tmp")
    assert (o.rows_read, o.rows_accepted, o.rows_rejected) == (3, 2, 1)
    assert con.execute("SELECT line_number, reason FROM ingest.rejections").fetchall() == [(2, "malformed_row")]


@settings(max_examples=300, deadline=None)
@example(data=b"\n\r\na", chunk=1)  # a blank line spread over three chunks
@given(data=st.binary(max_size=40).map(lambda b: bytes(b"ab\n\r \t"[x % 6] for x in b)), chunk=st.integers(1, 5))
def test_the_one_read_hash_and_blank_line_scan_agree_with_whole_file_definitions(data: bytes, chunk: int) -> None:
    """Ingestion hashes a file and looks for interior blank lines in streamed chunks; a
    blank line split across two chunks must still be seen, and trailing ones ignored."""
    end = len(data.rstrip(b"\n\r \t"))
    expected = re.search(rb"\n\r?\n", data[:end]) is not None
    original = loaders._CHUNK
    loaders._CHUNK = chunk
    try:
        facts = loaders.scan_file(io.BytesIO(data), blank_lines=True)
    finally:
        loaders._CHUNK = original
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.interior_blank_line is expected


# The 12345 feed's columns that only some step types need: every combination of right, empty
# and wrong values, judged against a plain reading of CONTRACT §2.
HOTLINE = FEEDS_BY_ID["hotline/service_requests"]
STEP_VALUES = {
    "ticket_no": ["T1", ""], "event_type": ["create", "dispatch", "close", "rate", "reopen", "", "bogus"],
    "event_time": ["2026-11-01 10:00:00", "", "yesterday", "2026-11-05 10:00:00"],
    "district_code": ["330106", "", "999999"], "category": ["traffic", "", "weird"], "channel": ["phone", "", "fax"],
    "handler": ["psb", "urban", "330106", "", "nobody", "330100"],
    "due_at": ["2026-11-03 10:00:00", "", "2026-11-01 09:00:00", "garbage"],
    "satisfaction": ["5", "1", "", "0", "6", "4.5"], "caller_id_number": ["", "11010519491231002X", "11010519491231002Y"],
}


def _expected_reasons(row: dict[str, str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()

    def need(column: str, wrong: str, ok) -> None:
        if row[column] == "":
            out.add(("missing_value", column))
        elif not ok(row[column]):
            out.add((wrong, column))

    need("ticket_no", "", lambda v: True)
    need("event_type", "bad_code", lambda v: v in ("create", "dispatch", "close", "rate", "reopen"))
    need("event_time", "bad_date", lambda v: v != "yesterday")
    if row["event_time"] == "2026-11-05 10:00:00":
        out.add(("future_date", "event_time"))
    need("district_code", "unknown_district", lambda v: v == "330106")
    step = row["event_type"]
    if step == "create":
        need("category", "bad_code", lambda v: v == "traffic")
        need("channel", "bad_code", lambda v: v == "phone")
        if row["caller_id_number"] and row["caller_id_number"].endswith("Y"):
            out.add(("bad_id_number", "caller_id_number"))
    elif step == "dispatch":
        need("handler", "bad_code", lambda v: v in ("psb", "urban", "330106"))
        need("due_at", "bad_date", lambda v: v != "garbage")
        if row["due_at"] not in ("", "garbage") and row["event_time"] not in ("", "yesterday") and row["due_at"] < row["event_time"]:
            out.add(("bad_date", "due_at"))
    elif step == "rate":
        need("satisfaction", "bad_number", lambda v: v in ("1", "5"))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({c: st.sampled_from(v) for c, v in STEP_VALUES.items()}), min_size=1, max_size=25))
def test_hotline_steps_are_judged_by_the_columns_their_type_needs(rows: list[dict[str, str]]) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        folder = root / "landing" / "hotline" / "service_requests" / "2026-11-01"
        folder.mkdir(parents=True)
        lines = [",".join(HOTLINE.column_names)]
        lines += [",".join(f"E{i}" if c == "event_id" else row[c] for c in HOTLINE.column_names) for i, row in enumerate(rows)]
        (folder / "steps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        con = connect(":memory:")
        (o,) = ingest_landing(con, root / "landing", root / "tmp")
        found: dict[int, set] = {}
        for line, reason, column in con.execute("SELECT line_number, reason, column_name FROM ingest.rejections").fetchall():
            found.setdefault(line, set()).add((reason, column))
        expected = {i + 1: r for i, row in enumerate(rows) if (r := _expected_reasons(row))}
        assert found == expected
        assert o.rows_accepted == len(rows) - len(expected)
    finally:
        shutil.rmtree(root, ignore_errors=True)
