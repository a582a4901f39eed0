"""Ingestion behaviour on hand-made deliveries: re-delivery, corrections, encodings, odd files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.loaders import run_in_file_order
from warehouse.ingest.schema import connect

HEADER = "event_id,id_number,name,gender,birth_date,ethnicity,district_code,event_type,event_date"
# Valid identity numbers (female born 1949-12-31; male born 1990-01-01).
F_ID, M_ID = "11010519491231002X", "330106199001010034"
ROW_F = f"{{key}},{F_ID},张三,2,1949-12-31,01,330106,update,2026-11-01"
ROW_M = f"{{key}},{M_ID},李四,1,1990-01-01,01,330102,move_in,2026-11-01"


def _deliver(home: Path, text: str | bytes, name: str = "a.csv", day: str = "2026-11-01",
             dept: str = "psb", feed: str = "household_events") -> Path:
    folder = home / "landing" / dept / feed / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _run(home: Path, con: duckdb.DuckDBPyConnection | None = None):
    con = con or connect(home / "warehouse.duckdb")
    return con, ingest_landing(con, home / "landing", home / "tmp")


def _rejections(con, did: int) -> list[tuple]:
    return con.execute(
        "SELECT line_number, reason, column_name FROM ingest.rejections WHERE delivery_id = ? ORDER BY ALL", [did]
    ).fetchall()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def test_mod_11_2_check_and_cross_field_rules(home: Path) -> None:
    assert M_ID[16] == "3"  # odd: male
    _deliver(home, "\n".join([HEADER, ROW_F.format(key="E1"), ROW_M.format(key="E2").replace(",1,1990", ",2,1990"),
                              ROW_F.format(key="E3").replace("1949-12-31,01", "1949-12-30,01"),
                              ROW_F.format(key="E4").replace(F_ID, F_ID[:17] + "1")]) + "\n")
    con, (out,) = _run(home)
    assert (out.status, out.rows_read, out.rows_accepted) == ("partial", 4, 1)
    assert _rejections(con, out.delivery_id) == [
        (2, "mismatch", "gender"), (3, "mismatch", "birth_date"), (4, "bad_id_number", "id_number")]


def test_same_content_again_changes_nothing(home: Path) -> None:
    p = _deliver(home, f"{HEADER}\n{ROW_F.format(key='E1')}\n")
    con, first = _run(home)
    assert [o.status for o in first] == ["accepted"]
    os.utime(p, None)  # touched, same bytes
    _, second = _run(home, con)
    assert [o.status for o in second] == ["unchanged"]
    _, third = _run(home, con)
    assert third == []
    assert con.execute("SELECT count(*) FROM ingest.deliveries").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM staging.household_events").fetchone()[0] == 1


def test_correction_supersedes_the_earlier_delivery(home: Path) -> None:
    p = _deliver(home, f"{HEADER}\n{ROW_F.format(key='E1')}\n{ROW_M.format(key='E2')}\n")
    con, (first,) = _run(home)
    # The department corrects the file: E2 is withdrawn, E1 keeps its key, E3 is new.
    p.write_text(f"{HEADER}\n{ROW_F.format(key='E1')}\n{ROW_M.format(key='E3')}\n", encoding="utf-8")
    _, (second,) = _run(home, con)
    assert second.status == "accepted", "E1 is not a duplicate of the superseded delivery"
    rows = con.execute("SELECT status, superseded_by FROM ingest.deliveries ORDER BY delivery_id").fetchall()
    assert rows == [("superseded", second.delivery_id), ("accepted", None)]
    live = con.execute(
        "SELECT event_id FROM staging.household_events JOIN ingest.live_deliveries ON delivery_id = _delivery_id ORDER BY 1"
    ).fetchall()
    assert live == [("E1",), ("E3",)]


def test_duplicates_within_and_across_live_deliveries(home: Path) -> None:
    _deliver(home, f"{HEADER}\n{ROW_F.format(key='E1')}\n", name="a.csv")
    con, _ = _run(home)
    _deliver(home, f"{HEADER}\n{ROW_F.format(key='E1')}\n{ROW_M.format(key='E2')}\n{ROW_M.format(key='E2')}\n", name="b.csv")
    _, (out,) = _run(home, con)
    assert _rejections(con, out.delivery_id) == [(1, "duplicate", "event_id"), (3, "duplicate", "event_id")]
    # A row refused only as a duplicate passed every check: it is quarantined as its checked values.
    raw = con.execute("SELECT raw FROM ingest.rejected_rows WHERE delivery_id = ? AND line_number = 3", [out.delivery_id]).fetchone()[0]
    assert json.loads(raw) == dict(zip(HEADER.split(","), ROW_M.format(key="E2").split(",")))


def test_encodings_gb18030_bom_and_utf16(home: Path) -> None:
    text = f"{HEADER}\n{ROW_F.format(key='E1')}\n"
    _deliver(home, text.encode("gb18030"), name="gbk.csv")
    _deliver(home, b"\xef\xbb\xbf" + text.replace("E1", "E2").encode(), name="bom.csv")
    _deliver(home, text.replace("E1", "E3").encode("utf-16"), name="u16.csv")
    con, outs = _run(home)
    got = {Path(o.path).name: (o.status, o.reason) for o in outs}
    assert got == {"gbk.csv": ("accepted", None), "bom.csv": ("accepted", None), "u16.csv": ("rejected", "bad_encoding")}
    names = {r[0] for r in con.execute("SELECT name FROM staging.household_events").fetchall()}
    assert names == {"张三"}
    assert con.execute("SELECT encoding FROM ingest.deliveries WHERE file_name = 'gbk.csv'").fetchone()[0] == "gb18030"


def test_manifest_checked(home: Path) -> None:
    p = _deliver(home, f"{HEADER}\n{ROW_F.format(key='E1')}\n")
    p.with_name(p.name + ".manifest.json").write_text(json.dumps({"rows": 2}))
    con, (out,) = _run(home)
    assert (out.status, out.reason) == ("rejected", "manifest_mismatch")
    assert "2 rows" in out.error
    assert con.execute("SELECT count(*) FROM staging.household_events").fetchone()[0] == 0
    # The department fixes the manifest: the delivery is taken again and supersedes the rejection.
    import hashlib

    p.with_name(p.name + ".manifest.json").write_text(json.dumps({"rows": 1, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}))
    _, outs = _run(home, con)
    assert [o.status for o in outs] == ["accepted"]
    assert con.execute("SELECT status FROM ingest.deliveries ORDER BY delivery_id").fetchall() == [("superseded",), ("accepted",)]
    _, outs = _run(home, con)
    assert outs == []


def test_odd_files(home: Path) -> None:
    _deliver(home, b"", name="empty.csv")
    _deliver(home, f"{HEADER}\n", name="header_only.csv")
    _deliver(home, b"", name="empty.jsonl")
    _deliver(home, "event_id,name\nE1,x\n", name="cols.csv")
    _deliver(home, "x", name="notes.xlsx")
    _deliver(home, "x", name="a.csv", dept="police", feed="events")
    _deliver(home, "x", name="a.csv", day="yesterday")
    _deliver(home, b"PAR1garbage", name="junk.parquet")
    _, outs = _run(home)
    got = {(Path(o.path).parent.name, Path(o.path).name): (o.status, o.reason) for o in outs}
    assert got == {
        ("2026-11-01", "empty.csv"): ("rejected", "unreadable"),
        ("2026-11-01", "header_only.csv"): ("accepted", None),
        ("2026-11-01", "empty.jsonl"): ("accepted", None),
        ("2026-11-01", "cols.csv"): ("rejected", "missing_column"),
        ("2026-11-01", "notes.xlsx"): ("rejected", "unreadable"),
        ("2026-11-01", "a.csv"): ("rejected", "unknown_feed"),
        ("yesterday", "a.csv"): ("rejected", "unknown_feed"),
        ("2026-11-01", "junk.parquet"): ("rejected", "unreadable"),
    }
    for o in outs:
        assert o.status == "accepted" or o.error, o


def test_line_numbers_survive_blank_lines_multiline_fields_and_broken_rows(home: Path) -> None:
    lines = [HEADER, ROW_F.format(key="E1"), "", ROW_F.format(key="E2").replace("张三", '"张\n三"'),
             "E3,too,few", ROW_F.format(key="E4").replace("330106", "999999"), ""]
    _deliver(home, "\n".join(lines) + "\n")
    con, (out,) = _run(home)
    assert out.rows_read == 4
    assert _rejections(con, out.delivery_id) == [(3, "malformed_row", None), (4, "unknown_district", "district_code")]
    raw = dict(con.execute("SELECT line_number, raw FROM ingest.rejected_rows").fetchall())
    assert raw[3] == "E3,too,few"
    assert json.loads(raw[4])["district_code"] == "999999"
    assert con.execute("SELECT name FROM staging.household_events WHERE event_id = 'E2'").fetchone()[0] == "张\n三"


def test_jsonl_lines_blank_lines_and_extra_keys(home: Path) -> None:
    obj = dict(zip(HEADER.split(","), ROW_F.format(key="E1").split(",")))
    lines = [json.dumps(obj, ensure_ascii=False), "", '{"event_id": "E2", "name": ', json.dumps({**obj, "event_id": "E3", "remark": 1}),
             json.dumps([1, 2]), json.dumps({**obj, "event_id": "E4", "gender": None})]
    _deliver(home, "\n".join(lines) + "\n", name="a.jsonl")
    con, (out,) = _run(home)
    assert (out.rows_read, out.rows_accepted) == (5, 2)
    assert _rejections(con, out.delivery_id) == [(3, "malformed_row", None), (5, "malformed_row", None), (6, "missing_value", "gender")]
    assert con.execute("SELECT extra_columns FROM ingest.deliveries").fetchone()[0] == ["remark"]


def test_parquet_with_typed_columns(home: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = home / "landing" / "samr" / "entity_events" / "2026-11-01" / "a.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({
        "event_id": ["S1", "S2"], "uscc": ["91110108551385082Q", "91110108551385082Q"], "name": ["甲公司", "乙公司"],
        "entity_type": ["enterprise", "enterprise"], "legal_rep_id_number": [F_ID, F_ID.lower()],
        "registered_capital": [100.5, -1.0], "industry_section": ["I", "I"], "district_code": [330108, 330108],
        "event_type": ["establish", "change"], "event_date": [dt.date(2026, 11, 1), dt.date(2026, 11, 1)],
    }), path)
    con, (out,) = _run(home)
    assert _rejections(con, out.delivery_id) == [(2, "bad_number", "registered_capital")]
    assert con.execute("SELECT registered_capital, event_date FROM staging.entity_events").fetchone() == (
        pytest.approx(100.5), dt.date(2026, 11, 1))


def test_hostile_strings_are_data(home: Path) -> None:
    evil = "<script>alert(1)</script>'; DROP TABLE ingest.deliveries; --"
    _deliver(home, f'{HEADER},"{evil}"\n{ROW_F.format(key="E1").replace("张三", "<b>x</b>")},"{evil}"\n',
             name="x'; DROP TABLE t; --.csv")
    con, (out,) = _run(home)
    assert out.status == "accepted"
    assert con.execute("SELECT name FROM staging.household_events").fetchone()[0] == "<b>x</b>"
    assert con.execute("SELECT extra_columns FROM ingest.deliveries").fetchone()[0] == [evil]


@pytest.mark.parametrize("threads", [1, 2])
def test_line_numbers_follow_the_file_on_any_number_of_threads(home: Path, threads: int) -> None:
    # Many small row groups make DuckDB read the file on several threads at once: line
    # numbers (rejections and staged rows alike) must still follow the file.
    rows, bad_every = 60_000, 997
    folder = home / "landing" / "psb" / "household_events" / "2026-11-01"
    folder.mkdir(parents=True)
    scratch = duckdb.connect()
    scratch.execute(
        f"""COPY (SELECT 'E' || i AS event_id, '{F_ID}' AS id_number, '张三' AS name, '2' AS gender,
                         '1949-12-31' AS birth_date, CASE WHEN i % {bad_every} = 0 THEN '77' ELSE '01' END AS ethnicity,
                         '330106' AS district_code, 'update' AS event_type, '2026-11-01' AS event_date
                  FROM range(1, {rows + 1}) t(i) ORDER BY i)
            TO '{folder / "a.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 2048)"""
    )
    con = connect(home / "warehouse.duckdb")
    con.execute(f"SET threads = {threads}")
    con, (out,) = _run(home, con)
    assert (out.rows_read, out.rows_rejected) == (rows, rows // bad_every)
    assert _rejections(con, out.delivery_id) == [(i, "bad_code", "ethnicity") for i in range(bad_every, rows + 1, bad_every)]
    misplaced = con.execute("SELECT count(*) FROM staging.household_events WHERE event_id <> 'E' || _line").fetchone()[0]
    assert misplaced == 0
    raw = con.execute("SELECT raw FROM ingest.rejected_rows WHERE line_number = ?", [bad_every]).fetchone()[0]
    assert json.loads(raw)["event_id"] == f"E{bad_every}"


def test_a_load_keeps_file_order_even_with_a_long_in_list(tmp_path: Path) -> None:
    """DuckDB rewrites an ``IN`` list of five or more values into a join, which reorders rows
    across threads; ``run_in_file_order`` must keep the file's order (rowid = record) anyway."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    path = tmp_path / "ordered.parquet"
    con.execute(f"COPY (SELECT i FROM range(60000) t(i) ORDER BY i) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)")
    codes = ", ".join(f"'{i}'" for i in range(58))
    run_in_file_order(
        con, f"CREATE TEMP TABLE loaded AS SELECT i, (i % 100)::VARCHAR IN ({codes}) AS listed FROM read_parquet('{path}')"
    )
    assert con.execute("SELECT count(*), count(*) FILTER (WHERE i <> rowid) FROM loaded").fetchone() == (60000, 0)
