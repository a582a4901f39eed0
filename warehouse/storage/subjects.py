"""Keyed hashes of identity numbers (HMAC-SHA256 with a key that never leaves ``<home>``).

The access audit log and the libraries that must not keep an identity number in clear (the
hotline's callers) hash with the same key, so a person's records and the accesses to them
can be matched without either holding the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.storage.home import private_key

KEY_FILE = "audit.key"


_KEYS: dict[Path, tuple[tuple[int, int, int], bytes]] = {}  # key file -> (its inode, mtime, size when read; the key)


def subject_key(home: Path) -> bytes:
    """The data directory's hashing key, created (readable by its owner only) on first use.
    Read again only when the file changes (a restore): the access log and the interfaces ask
    for it on every entry and call, and a stat costs a tenth of reading it."""
    path = home / KEY_FILE
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return private_key(path)
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    known = _KEYS.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    key = private_key(path)
    _KEYS[path] = (stamp, key)
    return key


def subject_hash(key: bytes, id_number: str) -> str:
    """Keyed hash of an identity number (upper-cased, trimmed)."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()[:32]


def subject_hasher(key: bytes) -> Callable[[pa.Array | pa.ChunkedArray], pa.Array]:
    """:func:`subject_hash` of a whole column at once (None stays None): HMAC-SHA256 written out
    (RFC 2104) from its two keyed SHA-256 states, copied for each value, which costs half of
    ``hmac.new`` per value; a serving snapshot hashes every person's number on each publish."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        out: list[str | None] = []
        for v in values.to_pylist():
            if v is None:
                out.append(None)
                continue
            i = inner.copy()
            i.update(v.strip().upper().encode())
            o = outer.copy()
            o.update(i.digest())
            out.append(o.hexdigest()[:32])
        return pa.array(out, pa.string())

    return column


def has_subject_hash(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``cb_subject_hash`` is registered on ``con``."""
    return con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'cb_subject_hash'").fetchall()[0][0] > 0


def register_subject_hash(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """Make ``cb_subject_hash(id_number)`` available to SQL on ``con`` (NULL stays NULL),
    hashing a vector of values per call (:func:`subject_hasher`)."""
    con.create_function("cb_subject_hash", subject_hasher(subject_key(home)), ["VARCHAR"], "VARCHAR", type="arrow",
                        side_effects=False)
