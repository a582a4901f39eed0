"""The access audit log: who looked at whose data, when, why and on what legal basis.

Append-only (triggers refuse updates and deletes) and tamper-evident: each entry carries a
keyed hash (HMAC-SHA256) of its content and of the entry before it, and
:meth:`AccessLog.verify_audit_chain` reports the first entry that no longer matches. Identity
numbers in it are kept only as keyed hashes (with a key that never leaves ``<home>``), so the
log itself leaks nothing and can still be searched by identity number, and a citizen can be
shown the accesses to their own data. A part of :class:`warehouse.ops.store.OpsStore`, which
gives it its connections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

# Audit-log actions that start something in Dagster; their purpose names it ("run <id>").
from warehouse.contract.labels import LAUNCH_ACTIONS
from warehouse.storage.subjects import subject_key

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
        hashes = sorted({self.subject_hash(i) for i in id_numbers if i} | {h for h in subject_hashes if h})
        fields = [dt.datetime.now().isoformat(timespec="seconds"), username, role, action, delivery_id, rows,
                  json.dumps(hashes), purpose, scope, legal_basis]
        key = self._chain_key()
        with self._write() as con:  # one writer at a time: each entry sees its true predecessor
            last = con.execute(f"SELECT entry_hash FROM access_log ORDER BY {self._WRITTEN_ORDER} DESC LIMIT 1").fetchone()
            prev = last[0] if last and last[0] else ""
            con.execute(f"INSERT INTO access_log ({', '.join(_LOG_FIELDS)}, prev_hash, entry_hash) VALUES ({', '.join('?' * 12)})",
                        [*fields, prev, self._entry_hash(key, prev, fields)])

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
