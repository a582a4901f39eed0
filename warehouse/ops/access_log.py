"""The access audit log: who looked at whose data, when, why and on what legal basis.

Append-only (triggers refuse updates and deletes) and tamper-evident: each entry carries a
keyed hash (HMAC-SHA256) of its content and of the entry before it, and
:meth:`AccessLog.verify_audit_chain` reports the first entry that no longer matches. Identity
numbers in it are kept only as keyed hashes (with a key that never leaves ``<home>``), so the
log itself leaks nothing and can still be searched by identity number, and a citizen can be
shown the accesses to their own data. A part of :class:`warehouse.ops.store.OpsStore`, which
gives it its connections.

Entries are written by group commit: in each process, one thread per store appends every
entry waiting, in the order they were handed to it, chained, in one transaction (one fsync:
the log stays at SQLite's full durability), and only then releases each caller, so an entry
is committed before its caller goes on (an interface's answer leaves only after that), and
the chain stays one across processes (each transaction reads the last entry any process
wrote). Under load many calls share a commit instead of queueing for the write lock one by one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, BinaryIO

# Audit-log actions that start something in Dagster; their purpose names it ("run <id>").
from warehouse.contract.labels import LAUNCH_ACTIONS
from warehouse.storage.subjects import subject_hash, subject_key

if TYPE_CHECKING:
    import sqlite3

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


class AccessLog:
    """The access audit log (methods of :class:`~warehouse.ops.store.OpsStore`)."""

    def _chain_key(self) -> bytes:
        return hmac.new(subject_key(self.home), b"citybrain access log chain", hashlib.sha256).digest()

    def _entry_hash(self, key: bytes, prev: str, fields: Iterable) -> str:
        body = prev + "\x1e" + "\x1f".join("" if f is None else str(f) for f in fields)
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()

    def log_access(self, username: str, role: str, action: str, *, delivery_id: int | None, rows: int,
                   id_numbers: Iterable[str], purpose: str, scope: str | None = None, legal_basis: str | None = None,
                   subject_hashes: Iterable[str] = ()) -> None:
        """Append one entry, chained to the one before it. Whose data it touched: ``id_numbers``
        in clear (hashed here), or already keyed hashes (``subject_hashes``, as the serving
        snapshot's lookup tables hold them)."""
        self.append_access(username, role, action, delivery_id=delivery_id, rows=rows, id_numbers=id_numbers,
                           purpose=purpose, scope=scope, legal_basis=legal_basis, subject_hashes=subject_hashes).result()

    def append_access(self, username: str, role: str, action: str, *, delivery_id: int | None, rows: int,
                      id_numbers: Iterable[str], purpose: str, scope: str | None = None, legal_basis: str | None = None,
                      subject_hashes: Iterable[str] = ()) -> Future[None]:
        """:meth:`log_access` without waiting: the entry is handed to this process's writer, and
        the future is done once it is committed (or failed with the write's error). For a caller
        that must not block a thread (``await asyncio.wrap_future(...)``)."""
        key = subject_key(self.home)
        hashes = sorted({subject_hash(key, i) for i in id_numbers if i} | {h for h in subject_hashes if h})
        fields = [dt.datetime.now().isoformat(timespec="seconds"), username, role, action, delivery_id, rows,
                  json.dumps(hashes), purpose, scope, legal_basis]
        return _committer(self).submit(fields)

    def _append_entries(self, con: sqlite3.Connection, entries: list[list]) -> None:
        """Append ``entries`` in order, each chained to the one before, in one transaction on
        ``con`` that keeps other writers out from its first statement (so the last entry read
        is still the last when these are written); committed, or rolled back on an error."""
        key = self._chain_key()
        try:
            con.execute(self.DIALECT.begin)
            last = con.execute(f"SELECT entry_hash FROM access_log ORDER BY {self._WRITTEN_ORDER} DESC LIMIT 1").fetchone()
            prev = last[0] if last and last[0] else ""
            rows = []
            for fields in entries:
                prev_entry, prev = prev, self._entry_hash(key, prev, fields)
                rows.append([*fields, prev_entry, prev])
            con.executemany(f"INSERT INTO access_log ({', '.join(_LOG_FIELDS)}, prev_hash, entry_hash) VALUES ({', '.join('?' * 12)})",
                            rows)
            con.commit()
        except BaseException:
            if con.in_transaction:
                con.rollback()
            raise

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
        for position, *fields in con.execute(f"SELECT {self._WRITTEN_ORDER}, {', '.join(_LOG_FIELDS)} FROM access_log ORDER BY {self._WRITTEN_ORDER}").fetchall():
            h = self._entry_hash(key, prev, fields)
            con.execute(f"UPDATE access_log SET prev_hash = ?, entry_hash = ? WHERE {self._WRITTEN_ORDER} = ?", [prev, h, position])
            prev = h

    def verify_audit_chain(self) -> tuple[int, int | None]:
        """(entries checked, position of the first entry that does not match, None if all do).

        An entry edited, deleted or inserted out of turn breaks the chain at that point."""
        key, prev = self._chain_key(), ""
        with self._con() as con:
            rows = con.execute(f"SELECT {', '.join(_LOG_FIELDS)}, prev_hash, entry_hash FROM access_log ORDER BY {self._WRITTEN_ORDER}").fetchall()
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
        sql += f" ORDER BY {self._WRITTEN_ORDER} DESC LIMIT ?"
        args.append(limit)
        with self._con() as con:
            rows = con.execute(sql, args).fetchall()
        # How many people an entry touched, never their hashes.
        return [{**{k: v for k, v in zip(_LOG_FIELDS, r) if k != "subject_hashes"}, "subjects": len(json.loads(r[6] or "[]"))}
                for r in rows]


# ------------------------------------------------------------------ group commit
_IDLE_S = 30  # a writer with nothing to write for this long closes its connection and ends


class _Committer:
    """The access log's writer for one store file in this process: callers hand it entries
    (:meth:`submit`); its thread takes every entry waiting, appends them in the order they
    were handed in one transaction (:meth:`AccessLog._append_entries`), and then releases their
    callers. If a batch fails, its entries are tried one by one, so one entry the store refuses
    fails alone. The thread keeps its connection open while there is work (reopened if the
    file is replaced, as a restore does) and ends after :data:`_IDLE_S` idle seconds."""

    def __init__(self, store: AccessLog) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._queue: list[tuple[list, Future[None]]] = []
        self._thread: threading.Thread | None = None
        self._con: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None
        self._turns: BinaryIO | None = None  # the lock file writers take turns on

    def submit(self, fields: list) -> Future[None]:
        """Hand one entry's fields to the writer; the future is done once it is committed."""
        done: Future[None] = Future()
        with self._cond:
            self._queue.append((fields, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="access-log-writer", daemon=True)
                self._thread.start()
            self._cond.notify()
        return done

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if not self._cond.wait(_IDLE_S) and not self._queue:
                        self._thread = None
                        self._close()
                        return
                batch, self._queue = self._queue, []
            # A caller that gave up waiting before its entry was taken (a cancelled task) is
            # answered nothing: its entry is dropped. The others can no longer be cancelled.
            batch = [(fields, done) for fields, done in batch if done.set_running_or_notify_cancel()]
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[list, Future[None]]]) -> None:
        try:
            self._append([fields for fields, _ in batch])
        except BaseException as e:  # noqa: BLE001 - handed to each waiting caller; the writer goes on
            if len(batch) == 1:
                batch[0][1].set_exception(e)
                return
            for one in batch:  # which entry was refused: each alone
                self._commit([one])
            return
        for _, done in batch:
            done.set_result(None)

    def _append(self, entries: list[list]) -> None:
        path = self.store.path
        try:
            st = os.stat(path)
            file = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            file = None  # connecting makes an empty file, where the write then fails as it should
        if self._con is None or file is None or file != self._file:
            self._close()
            self._con, self._file = self.store._connect(), file
        # Writers of the log take turns on a lock file first: SQLite's own wait for its write
        # lock sleeps in steps of up to 100 ms and serves no one first, so under load one
        # process's writer, committing batch after batch, kept another's out for seconds (its
        # calls all waiting). A process waiting on this lock is woken when it is released; the
        # kernel releases it if the holder dies.
        if self._turns is None:
            self._turns = open(f"{path}.log-lock", "ab")  # noqa: SIM115 - kept open while the writer lives
        fcntl.flock(self._turns, fcntl.LOCK_EX)
        try:
            self.store._append_entries(self._con, entries)
        except Exception:
            con, self._con = self._con, None  # the next batch starts on a new connection
            con.close()
            raise
        finally:
            fcntl.flock(self._turns, fcntl.LOCK_UN)

    def _close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()
        if self._turns is not None:
            turns, self._turns = self._turns, None
            turns.close()


_COMMITTERS: dict[str, _Committer] = {}
_COMMITTERS_LOCK = threading.Lock()


def _committer(store: AccessLog) -> _Committer:
    """This process's writer of ``store``'s file (one for every store object of that file)."""
    path = store.__dict__.get("_log_file")
    if path is None:  # resolved once per store object
        path = store.__dict__["_log_file"] = os.path.realpath(store.path)
    with _COMMITTERS_LOCK:
        found = _COMMITTERS.get(path)
        if found is None:
            found = _COMMITTERS[path] = _Committer(store)
        return found


def _forget_committers() -> None:
    """In a forked child: the parent's writers, their threads and queued entries are not ours."""
    global _COMMITTERS, _COMMITTERS_LOCK
    _COMMITTERS, _COMMITTERS_LOCK = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_committers)
