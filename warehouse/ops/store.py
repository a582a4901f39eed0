"""The operational store: what the cockpit writes, many processes at once (SQLite, WAL).

Users, their sessions (server-side: a session ends for good at sign-out, a password or role
change, or when the user is disabled), sign-in attempts (for lockout), the steps of the loop
from alert to closure (dispatch, handle, return, close: ``warehouse.ops.alert_loop``) and the
access audit log. Alert steps, like the log, are append-only: an alert's state is its latest
step, and its history is every step with who and when. Acknowledgements of the cockpit
before the loop are migrated into the steps (as ``acknowledge``) and their table is kept.

The audit log is append-only (triggers refuse updates and deletes) and tamper-evident: each
entry carries a keyed hash (HMAC-SHA256) of its content and of the entry before it, and
:meth:`OpsStore.verify_audit_chain` reports the first entry that no longer matches.
Identity numbers in it are kept only as keyed hashes (with a key that never leaves
``<home>``), so the log itself leaks nothing and can still be searched by identity number,
and a citizen can be shown the accesses to their own data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from warehouse.contract import labels
from warehouse.ops.alert_loop import ALLOWED_FROM, state_of
from warehouse.storage.migrate import SQLITE, migrate
from warehouse.storage.subjects import subject_hash, subject_key

# Audit-log actions that start something in Dagster; their purpose names it ("run <id>").
LAUNCH_ACTIONS = ("run_launch", "run_reexecute", "backfill_launch")
SESSION_MAX_S = 12 * 3600  # a session lasts a working day at most
SESSION_IDLE_S = 2 * 3600  # and ends after two idle hours

# The store's schema: numbered migrations (warehouse.storage.migrate), one folder per engine.
MIGRATIONS = resources.files(__package__) / "migrations" / "sqlite"
MIGRATIONS_TABLE = "schema_migrations"


def _legacy_version(con: sqlite3.Connection) -> int:
    """How far a store made before migrations were recorded had come (0: a new store). Its
    tables then were made and altered in place on every open; SQLite cannot add a column only
    if it is missing, so the migrations those tables already reflect are recorded, not run.
    (A PostgreSQL store is always made by the migrations and never needs this.)"""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "access_log" not in tables:
        return 0
    if "entry_hash" not in {r[1] for r in con.execute("SELECT * FROM pragma_table_info('access_log')")}:
        return 1  # 0002: sessions and the chained log
    return 4 if "alert_steps" in tables else 3  # 0004: the alert loop


# Why a person's data may be processed (PIPL Art. 13): every person-level access names one.
# The legal bases an access may cite, with their names: the label registry's.
LEGAL_BASES = labels.LEGAL_BASES
_STEP_FIELDS = ("step_no", "alert_id", "step", "actor", "role", "scope", "owner_kind", "owner_code", "due_at", "note", "rating", "at")
_LOG_FIELDS = ("at", "username", "role", "action", "delivery_id", "rows", "subject_hashes", "purpose", "scope", "legal_basis")


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
            # Once per new version; a store already at the latest runs no DDL.
            migrate(con, MIGRATIONS, dialect=SQLITE, table=MIGRATIONS_TABLE, adopt=_legacy_version,
                    hooks={2: self._chain_unchained})

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        """A short connection: committed (or rolled back) and closed at the end of the block,
        not whenever the garbage collector gets to it."""
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA busy_timeout = 30000")
            with con:
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password_hash: str, role: str, scope: str | None, subject: str | None = None) -> None:
        """Create or update a user (``subject``: a citizen's identity number, kept as its keyed
        hash); an update ends the user's sessions, so a new password or role takes effect now."""
        subject_h = self.subject_hash(subject) if subject else None
        with self._con() as con:
            con.execute(
                "INSERT INTO users (username, password_hash, role, scope, created_at, disabled, subject_hash) "
                "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, "
                "role = excluded.role, scope = excluded.scope, disabled = 0, subject_hash = excluded.subject_hash",
                [username, password_hash, role, scope, dt.datetime.now().isoformat(timespec="seconds"), subject_h],
            )
            con.execute("DELETE FROM sessions WHERE username = ?", [username])

    def user(self, username: str) -> dict | None:
        with self._con() as con:
            row = con.execute("SELECT username, password_hash, role, scope, disabled, subject_hash FROM users WHERE username = ?",
                              [username]).fetchone()
        return None if row is None else dict(zip(("username", "password_hash", "role", "scope", "disabled", "subject_hash"), row))

    def users(self) -> list[dict]:
        with self._con() as con:
            rows = con.execute("SELECT username, role, scope, created_at, disabled FROM users ORDER BY username").fetchall()
        return [dict(zip(("username", "role", "scope", "created_at", "disabled"), r)) for r in rows]

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._con() as con:
            con.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username])
            if disabled:
                con.execute("DELETE FROM sessions WHERE username = ?", [username])

    # ------------------------------------------------------------------ sessions
    def open_session(self, username: str) -> str:
        """A new session id: random, the only thing the browser's cookie carries."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._con() as con:
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [sid, username, now, now])
        return sid

    def session_user(self, sid: str) -> dict | None:
        """The enabled user of a live session (not signed out, revoked, idle or too old), else None."""
        now = time.time()
        with self._con() as con:
            row = con.execute(
                """SELECT u.username, u.role, u.scope, u.subject_hash, s.last_seen FROM sessions s JOIN users u USING (username)
                   WHERE s.sid = ? AND u.disabled = 0 AND s.created_at > ? AND s.last_seen > ?""",
                [sid, now - SESSION_MAX_S, now - SESSION_IDLE_S]).fetchone()
            if row is not None and now - row[4] > 60:  # touched at most once a minute
                con.execute("UPDATE sessions SET last_seen = ? WHERE sid = ?", [now, sid])
        return None if row is None else dict(zip(("username", "role", "scope", "subject_hash"), row[:4]))

    def close_session(self, sid: str) -> None:
        with self._con() as con:
            con.execute("DELETE FROM sessions WHERE sid = ?", [sid])

    def sessions_of(self, username: str) -> int:
        with self._con() as con:
            return con.execute("SELECT count(*) FROM sessions WHERE username = ?", [username]).fetchone()[0]

    # ------------------------------------------------------------------ sign-in attempts
    def claim_attempt(self, username: str, remote: str, window_s: int, limit: int) -> bool:
        """Count one sign-in attempt of ``username`` from ``remote``; False (and nothing counted)
        when that pair already has ``limit`` within the window. Atomic: of parallel guesses,
        no more than ``limit`` are ever let through to the password check. Another address
        is counted apart, so a guesser elsewhere cannot lock the real user out."""
        now = time.time()
        with self._con() as con:
            con.execute("BEGIN IMMEDIATE")
            n = con.execute("SELECT count(*) FROM login_failures WHERE username = ? AND remote = ? AND at > ?",
                            [username, remote, now - window_s]).fetchone()[0]
            if n >= limit:
                con.execute("ROLLBACK")
                return False
            con.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, remote, now])
            con.execute("COMMIT")
            return True

    def clear_failures(self, username: str, remote: str | None = None) -> None:
        """Forget the attempts of ``username`` (from ``remote`` only, when given)."""
        with self._con() as con:
            if remote is None:
                con.execute("DELETE FROM login_failures WHERE username = ?", [username])
            else:
                con.execute("DELETE FROM login_failures WHERE username = ? AND remote = ?", [username, remote])

    # ------------------------------------------------------------------ the alert loop
    def alert_steps(self, alert_id: str | None = None) -> list[dict]:
        """Steps of the loop from alert to closure, oldest first (of one alert, when given)."""
        sql = f"SELECT {', '.join(_STEP_FIELDS)} FROM alert_steps"
        args: list = []
        if alert_id is not None:
            sql += " WHERE alert_id = ?"
            args.append(alert_id)
        with self._con() as con:
            rows = con.execute(sql + " ORDER BY step_no", args).fetchall()
        return [dict(zip(_STEP_FIELDS, r)) for r in rows]

    def add_alert_step(self, alert_id: str, step: str, *, actor: str, role: str, scope: str | None,
                       owner: tuple[str, str] | None = None, due_at: dt.datetime | None = None, note: str = "",
                       rating: int | None = None) -> bool:
        """Append one step if the alert's state (as its steps have it, read in the same write
        transaction) allows it; False, and nothing written, when someone else moved it first."""
        with self._con() as con:
            con.execute("BEGIN IMMEDIATE")  # one writer: the state judged is the state written after
            rows = con.execute(f"SELECT {', '.join(_STEP_FIELDS)} FROM alert_steps WHERE alert_id = ? ORDER BY step_no",
                               [alert_id]).fetchall()
            if state_of(alert_id, [dict(zip(_STEP_FIELDS, r)) for r in rows]).state not in ALLOWED_FROM[step]:
                con.execute("ROLLBACK")
                return False
            con.execute(
                "INSERT INTO alert_steps (alert_id, step, actor, role, scope, owner_kind, owner_code, due_at, note, rating, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [alert_id, step, actor, role, scope, *(owner or (None, None)),
                 due_at.isoformat(timespec="minutes") if due_at else None, note, rating,
                 dt.datetime.now().isoformat(timespec="seconds")])
            con.execute("COMMIT")
            return True

    # ------------------------------------------------------------------ audit log
    def subject_hash(self, id_number: str) -> str:
        """Keyed hash of an identity number (upper-cased, trimmed)."""
        return subject_hash(subject_key(self.home), id_number)

    def _chain_key(self) -> bytes:
        return hmac.new(subject_key(self.home), b"citybrain access log chain", hashlib.sha256).digest()

    def _entry_hash(self, key: bytes, prev: str, fields: Iterable) -> str:
        body = prev + "\x1e" + "\x1f".join("" if f is None else str(f) for f in fields)
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()

    def log_access(self, username: str, role: str, action: str, *, delivery_id: int | None, rows: int,
                   id_numbers: Iterable[str], purpose: str, scope: str | None = None, legal_basis: str | None = None) -> None:
        """Append one entry, chained to the one before it."""
        hashes = sorted({self.subject_hash(i) for i in id_numbers if i})
        fields = [dt.datetime.now().isoformat(timespec="seconds"), username, role, action, delivery_id, rows,
                  json.dumps(hashes), purpose, scope, legal_basis]
        key = self._chain_key()
        with self._con() as con:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time: each entry sees its true predecessor
            last = con.execute("SELECT entry_hash FROM access_log ORDER BY rowid DESC LIMIT 1").fetchone()
            prev = last[0] if last and last[0] else ""
            con.execute(f"INSERT INTO access_log ({', '.join(_LOG_FIELDS)}, prev_hash, entry_hash) VALUES ({', '.join('?' * 12)})",
                        [*fields, prev, self._entry_hash(key, prev, fields)])
            con.execute("COMMIT")

    def launched_by(self, targets: Iterable[str]) -> dict[str, str]:
        """Who launched each of ``targets`` ("run <id>", "backfill <id>") from the cockpit, by
        the audit log's entries: the launcher's signed-in name, which no Dagster tag can forge."""
        targets = list(targets)
        if not targets:
            return {}
        with self._con() as con:
            rows = con.execute(
                f"SELECT purpose, username FROM access_log WHERE action IN ({', '.join('?' * len(LAUNCH_ACTIONS))}) "
                f"AND purpose IN ({', '.join('?' * len(targets))})", [*LAUNCH_ACTIONS, *targets]).fetchall()
        return dict(rows)

    def _chain_unchained(self, con: sqlite3.Connection) -> None:
        """Chain entries written before the log was chained (migration 0002's step: it runs
        before 0003 makes the log append-only)."""
        key, prev = self._chain_key(), ""
        for rowid, *fields in con.execute(f"SELECT rowid, {', '.join(_LOG_FIELDS)} FROM access_log ORDER BY rowid").fetchall():
            h = self._entry_hash(key, prev, fields)
            con.execute("UPDATE access_log SET prev_hash = ?, entry_hash = ? WHERE rowid = ?", [prev, h, rowid])
            prev = h

    def verify_audit_chain(self) -> tuple[int, int | None]:
        """(entries checked, position of the first entry that does not match, None if all do).

        An entry edited, deleted or inserted out of turn breaks the chain at that point."""
        key, prev = self._chain_key(), ""
        with self._con() as con:
            rows = con.execute(f"SELECT {', '.join(_LOG_FIELDS)}, prev_hash, entry_hash FROM access_log ORDER BY rowid").fetchall()
        for n, (*fields, stored_prev, stored) in enumerate(rows, 1):
            if stored_prev != prev or stored != self._entry_hash(key, prev, fields):
                return len(rows), n
            prev = stored
        return len(rows), None

    def access_log(self, id_number: str | None = None, limit: int = 500, *, subject: str | None = None) -> list[dict]:
        """The audit log, newest first; with ``id_number`` (or its hash, ``subject``), only the
        accesses that touched that person."""
        sql = f"SELECT {', '.join(_LOG_FIELDS)} FROM access_log"
        args: list = []
        if id_number or subject:
            sql += " WHERE subject_hashes LIKE ?"
            args.append(f'%"{subject or self.subject_hash(id_number or "")}"%')
        sql += " ORDER BY rowid DESC LIMIT ?"
        args.append(limit)
        with self._con() as con:
            rows = con.execute(sql, args).fetchall()
        # How many people an entry touched, never their hashes.
        return [{**{k: v for k, v in zip(_LOG_FIELDS, r) if k != "subject_hashes"}, "subjects": len(json.loads(r[6] or "[]"))}
                for r in rows]
