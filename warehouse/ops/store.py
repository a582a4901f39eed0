"""The operational store: what the cockpit writes, many processes at once (SQLite, WAL).

Users, failed logins (for rate limiting), alert acknowledgements (the pipeline applies
them to ``marts.alerts``) and the access audit log. Identity numbers in the audit log are
kept only as keyed hashes (HMAC-SHA256 with a key that never leaves ``<home>``), so the
log itself leaks nothing and can still be searched by identity number.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from warehouse.storage.subjects import subject_hash, subject_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, scope TEXT,
    created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS login_failures (username TEXT, remote TEXT, at REAL);
CREATE TABLE IF NOT EXISTS acknowledgements (
    alert_id TEXT NOT NULL, username TEXT NOT NULL, comment TEXT, at TEXT NOT NULL, applied INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_log (
    at TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
    delivery_id INTEGER, rows INTEGER, subject_hashes TEXT, purpose TEXT
);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
"""


def id_numbers_in(raw_rows: Iterable[str]) -> list[str]:
    """Identity numbers in original rows as quarantined (JSON objects): what the audit log
    hashes when such rows are viewed, downloaded or purged."""
    out = []
    for raw in raw_rows:
        try:
            obj = json.loads(raw)
        except (TypeError, ValueError):
            obj = {}
        if isinstance(obj, dict):
            out += [str(v) for k, v in obj.items() if v and ("id_number" in k or k == "holder_id")]
    return out


class OpsStore:
    """One SQLite file, ``<home>/ops.sqlite``; every method opens its own short connection."""

    def __init__(self, home: Path) -> None:
        self.path = home / "ops.sqlite"
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        with self._con() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    def _con(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA busy_timeout = 30000")
        return con

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password_hash: str, role: str, scope: str | None) -> None:
        with self._con() as con:
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(username) DO UPDATE SET "
                "password_hash = excluded.password_hash, role = excluded.role, scope = excluded.scope, disabled = 0",
                [username, password_hash, role, scope, dt.datetime.now().isoformat(timespec="seconds")],
            )

    def user(self, username: str) -> dict | None:
        with self._con() as con:
            row = con.execute("SELECT username, password_hash, role, scope, disabled FROM users WHERE username = ?", [username]).fetchone()
        return None if row is None else dict(zip(("username", "password_hash", "role", "scope", "disabled"), row))

    def users(self) -> list[dict]:
        with self._con() as con:
            rows = con.execute("SELECT username, role, scope, created_at, disabled FROM users ORDER BY username").fetchall()
        return [dict(zip(("username", "role", "scope", "created_at", "disabled"), r)) for r in rows]

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._con() as con:
            con.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username])

    # ------------------------------------------------------------------ login rate limiting
    def record_failure(self, username: str, remote: str) -> None:
        with self._con() as con:
            con.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, remote, dt.datetime.now().timestamp()])

    def recent_failures(self, username: str, remote: str, window_s: int) -> int:
        since = dt.datetime.now().timestamp() - window_s
        with self._con() as con:
            return con.execute(
                "SELECT count(*) FROM login_failures WHERE at > ? AND (username = ? OR remote = ?)", [since, username, remote]
            ).fetchone()[0]

    def clear_failures(self, username: str) -> None:
        with self._con() as con:
            con.execute("DELETE FROM login_failures WHERE username = ?", [username])

    # ------------------------------------------------------------------ acknowledgements
    def acknowledge(self, alert_id: str, username: str, comment: str) -> None:
        with self._con() as con:
            con.execute("INSERT INTO acknowledgements VALUES (?, ?, ?, ?, 0)",
                        [alert_id, username, comment, dt.datetime.now().isoformat(timespec="seconds")])

    def pending_acknowledgements(self) -> list[tuple[str, str, str, dt.datetime]]:
        with self._con() as con:
            rows = con.execute("SELECT alert_id, username, comment, at FROM acknowledgements WHERE applied = 0").fetchall()
        return [(a, u, c, dt.datetime.fromisoformat(t)) for a, u, c, t in rows]

    def acknowledged_ids(self) -> set[str]:
        with self._con() as con:
            return {r[0] for r in con.execute("SELECT DISTINCT alert_id FROM acknowledgements").fetchall()}

    def mark_applied(self, alert_ids: Iterable[str]) -> None:
        with self._con() as con:
            con.executemany("UPDATE acknowledgements SET applied = 1 WHERE alert_id = ?", [(a,) for a in alert_ids])

    # ------------------------------------------------------------------ audit log
    def subject_hash(self, id_number: str) -> str:
        """Keyed hash of an identity number (upper-cased, trimmed)."""
        return subject_hash(subject_key(self.home), id_number)

    def log_access(self, username: str, role: str, action: str, *, delivery_id: int | None, rows: int,
                   id_numbers: Iterable[str], purpose: str) -> None:
        hashes = sorted({self.subject_hash(i) for i in id_numbers if i})
        with self._con() as con:
            con.execute("INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [dt.datetime.now().isoformat(timespec="seconds"), username, role, action, delivery_id, rows,
                         json.dumps(hashes), purpose])

    def access_log(self, id_number: str | None = None, limit: int = 500) -> list[dict]:
        """The audit log, newest first; with ``id_number``, only accesses that touched it."""
        sql = "SELECT at, username, role, action, delivery_id, rows, subject_hashes, purpose FROM access_log"
        args: list = []
        if id_number:
            sql += " WHERE subject_hashes LIKE ?"
            args.append(f'%"{self.subject_hash(id_number)}"%')
        sql += " ORDER BY at DESC LIMIT ?"
        args.append(limit)
        with self._con() as con:
            rows = con.execute(sql, args).fetchall()
        keys = ("at", "username", "role", "action", "delivery_id", "rows", "subjects", "purpose")
        return [{**dict(zip(keys, r)), "subjects": len(json.loads(r[6] or "[]"))} for r in rows]
