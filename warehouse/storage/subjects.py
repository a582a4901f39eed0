"""Keyed hashes of identity numbers (HMAC-SHA256 with a key that never leaves ``<home>``).

The access audit log and the libraries that must not keep an identity number in clear (the
hotline's callers) hash with the same key, so a person's records and the accesses to them
can be matched without either holding the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb

from warehouse.storage.home import private_key

KEY_FILE = "audit.key"


def subject_key(home: Path) -> bytes:
    """The data directory's hashing key, created (readable by its owner only) on first use."""
    return private_key(home / KEY_FILE)


def subject_hash(key: bytes, id_number: str) -> str:
    """Keyed hash of an identity number (upper-cased, trimmed)."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()[:32]


def register_subject_hash(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """Make ``cb_subject_hash(id_number)`` available to SQL on ``con`` (NULL stays NULL)."""
    key = subject_key(home)
    con.create_function("cb_subject_hash", lambda v: subject_hash(key, v), ["VARCHAR"], "VARCHAR", side_effects=False)
