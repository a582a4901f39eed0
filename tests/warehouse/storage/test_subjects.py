"""The keyed hash of identity numbers: SQL's vectorised ``cb_subject_hash`` gives what
``subject_hash`` gives for one number, NULL for NULL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.storage.subjects import has_subject_hash, register_subject_hash, subject_hash, subject_hasher, subject_key


def test_sql_hashes_a_column_as_the_store_hashes_one_number(tmp_path: Path) -> None:
    con = duckdb.connect()
    assert not has_subject_hash(con)
    register_subject_hash(con, tmp_path)
    assert has_subject_hash(con)
    key = subject_key(tmp_path)
    values = ["11010519491231002X", " 11010519491231002x ", None, "91330100MA2AAAAA1X", "张三"]
    values += [f"3301061990{i:08d}" for i in range(3000)]  # more than one vector of 2048
    got = [r[0] for r in con.execute("SELECT cb_subject_hash(v) FROM unnest($v) t(v)", {"v": values}).fetchall()]
    assert got == [None if v is None else subject_hash(key, v) for v in values]
    assert got[0] == got[1]  # trimmed and upper-cased, as the store hashes


def test_a_key_longer_than_a_block_hashes_as_hmac_does() -> None:
    key = bytes(range(100))  # HMAC hashes a key longer than SHA-256's 64-byte block first
    assert subject_hasher(key)(pa.array(["abc"]))[0].as_py() == subject_hash(key, "abc")
