"""Requests for catalog entries, their steps and the keys of granted ones, as the store keeps
them (the rules are :mod:`warehouse.sharing.requests`). Steps are appended with who and when,
never changed; a request's state is folded from them. Who may take a step is checked again
inside the write that records it, against the request as stored, so a forged or repeated
action changes nothing. A part of :class:`warehouse.ops.store.OpsStore`, which gives it its
connections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from warehouse.contract.labels import API_ACTIONS
from warehouse.sharing.requests import (
    ALLOWED_FROM,
    MAX_DAYS,
    SHARING_CLASSES,
    TAKEN_BY,
    RequestState,
    clean_text,
    may_answer,
    state_of,
)

_REQUEST_FIELDS = ("request_id", "entry_code", "owner", "sharing_class", "department", "requester", "purpose", "scenario",
                   "legal_basis", "items", "days", "created_at")
_STEP_FIELDS = ("step_no", "request_id", "step", "actor", "role", "scope", "reason", "at")
KEY_PREFIX = "cbk"


class RequestRefused(ValueError):
    """A request or a step the rules do not allow; ``code`` says which rule (for the reader's message)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Grant:
    """What a key may be used for: an active grant's entry, items, department and terms."""

    request_id: int
    key_id: str
    entry_code: str
    items: tuple[str, ...]
    department: str
    owner: str
    purpose: str
    legal_basis: str
    expires_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ShareRequests:
    """Requests, their steps and keys (methods of :class:`~warehouse.ops.store.OpsStore`)."""

    # ------------------------------------------------------------------ reading
    def _folded(self, con, rows: list) -> list[dict]:
        ids = [r[0] for r in rows]
        steps: dict[int, list[dict]] = {i: [] for i in ids}
        if ids:
            for s in con.execute(f"SELECT {', '.join(_STEP_FIELDS)} FROM share_request_steps WHERE request_id IN "
                                 f"({', '.join('?' * len(ids))}) ORDER BY step_no", ids).fetchall():
                steps[s[1]].append(dict(zip(_STEP_FIELDS, s)))
        out = []
        for r in rows:
            req = dict(zip(_REQUEST_FIELDS, r))
            req["items"] = tuple(json.loads(req["items"]))
            req["steps"] = steps[req["request_id"]]
            req["status"] = state_of(req["request_id"], req["days"], req["steps"])
            out.append(req)
        return out

    def share_requests(self, *, department: str | None = None, owner: str | None = None,
                       request_id: int | None = None) -> list[dict]:
        """Requests, newest first, each with its steps (oldest first) and ``status`` (a
        :class:`RequestState`); only those of a requesting ``department``, of an ``owner``, or one."""
        sql = (f"SELECT {', '.join(_REQUEST_FIELDS)} FROM share_requests WHERE (? IS NULL OR department = ?) "
               "AND (? IS NULL OR owner = ?) AND (? IS NULL OR request_id = ?) ORDER BY request_id DESC")
        with self._con() as con:
            return self._folded(con, con.execute(sql, [department, department, owner, owner, request_id, request_id]).fetchall())

    def share_request(self, request_id: int) -> dict | None:
        found = self.share_requests(request_id=request_id)
        return found[0] if found else None

    # ------------------------------------------------------------------ writing
    def add_share_request(self, *, entry_code: str, owner: str, sharing_class: str, items: Iterable[str],
                          department: str, requester: str, purpose: str, scenario: str, legal_basis: str, days: int,
                          submit: bool = True, role: str | None = None) -> int:
        """Record a request (a draft, or submitted at once, the step kept with the requester's
        ``role``) and return its number. The entry,
        its owner, class and items are the catalog's as the caller read them; the texts are
        checked here. An entry not shared cannot be requested; an unconditional one is approved
        on submission."""
        if sharing_class == "none":
            raise RequestRefused("not_shared", entry_code)
        if sharing_class not in SHARING_CLASSES:  # not the contract's: neither granted at once nor answerable as such
            raise RequestRefused("sharing_class", str(sharing_class))
        items = sorted(set(items))
        if not items:
            raise RequestRefused("no_items")
        if not 1 <= int(days) <= MAX_DAYS:
            raise RequestRefused("days", str(days))
        texts = {}
        for name, value in (("purpose", purpose), ("scenario", scenario), ("legal_basis", legal_basis)):
            try:
                texts[name] = clean_text(value)
            except ValueError as e:
                raise RequestRefused(name, str(e)) from None
        now = _now().isoformat()
        with self._write() as con:
            cur = con.execute(
                f"INSERT INTO share_requests ({', '.join(_REQUEST_FIELDS[1:])}) VALUES ({', '.join('?' * 11)})",
                [entry_code, owner, sharing_class, department, requester, texts["purpose"], texts["scenario"],
                 texts["legal_basis"], json.dumps(items), int(days), now])
            request_id = cur.lastrowid
        if submit:
            self.add_share_step(request_id, "submit", actor=requester, role=role, scope=department)
        return request_id

    def add_share_step(self, request_id: int, step: str, *, actor: str, role: str | None, scope: str | None,
                       reason: str = "", now: dt.datetime | None = None) -> RequestState:
        """Append one step if the request's state allows it and ``scope`` (the actor's
        department) may take it: the requesting department submits and activates; the owner (or,
        once the answer is overdue, the data resources bureau) approves, refuses and revokes. A
        refusal or revocation needs a reason. Returns the new state; raises
        :class:`RequestRefused`, with nothing written, otherwise."""
        if step not in ALLOWED_FROM:
            raise RequestRefused("step", step)
        try:  # an approval's reason is optional, but as plain and short as any (a ValueError was a 500)
            reason = clean_text(reason, required=step in ("refuse", "revoke"))
        except ValueError as e:
            raise RequestRefused("reason", str(e)) from None
        now = now or _now()
        with self._write() as con:  # one writer: the state judged is the state written after
            rows = self._folded(con, con.execute(f"SELECT {', '.join(_REQUEST_FIELDS)} FROM share_requests WHERE request_id = ?",
                                                 [request_id]).fetchall())
            if not rows:
                raise RequestRefused("unknown_request", str(request_id))
            req = rows[0]
            state: RequestState = req["status"]
            if state.current(now) not in ALLOWED_FROM[step]:
                raise RequestRefused("state", state.current(now))
            allowed = (scope == req["department"] if TAKEN_BY[step] == "requester"
                       else may_answer(scope, req["owner"], state, now) if step in ("approve", "refuse")
                       else scope == req["owner"])
            if not allowed:
                raise RequestRefused("not_yours", step)
            con.execute("INSERT INTO share_request_steps (request_id, step, actor, role, scope, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [request_id, step, actor, role, scope, reason or None, now.isoformat()])
            if step == "submit" and req["sharing_class"] == "unconditional":  # 无条件共享: granted on request
                con.execute("INSERT INTO share_request_steps (request_id, step, actor, role, scope, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [request_id, "approve", "system", None, req["owner"], "unconditional", now.isoformat()])
            if step == "revoke":
                con.execute("UPDATE api_keys SET revoked_at = ? WHERE request_id = ? AND revoked_at IS NULL", [now.isoformat(), request_id])
            steps = [dict(zip(_STEP_FIELDS, s)) for s in con.execute(
                f"SELECT {', '.join(_STEP_FIELDS)} FROM share_request_steps WHERE request_id = ? ORDER BY step_no", [request_id]).fetchall()]
        return state_of(request_id, req["days"], steps)

    # ------------------------------------------------------------------ keys
    def issue_key(self, request_id: int, *, actor: str, role: str, scope: str | None) -> str:
        """A new key for a grant of ``scope``'s department, returned once (only its hash is
        kept). An approved grant is activated by its first key; an active one gets another (to
        replace a key that may have leaked; revoke the old one)."""
        req = self.share_request(request_id)
        if req is None or req["department"] != scope:
            raise RequestRefused("not_yours", "key")
        if req["status"].current(_now()) == "approved":
            self.add_share_step(request_id, "activate", actor=actor, role=role, scope=scope)
        elif req["status"].current(_now()) != "active":
            raise RequestRefused("state", req["status"].current(_now()))
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        with self._write() as con:
            con.execute("INSERT INTO api_keys (key_id, secret_hash, request_id, issued_by, issued_at) VALUES (?, ?, ?, ?, ?)",
                        [key_id, _secret_hash(secret), request_id, actor, _now().isoformat()])
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def calls_served(self) -> list[dict]:
        """Interface calls answered, as the access log has them (each logged with its interface's
        action, :data:`warehouse.contract.labels.API_ACTIONS`, and the calling department as its
        scope): rows of ``action``, ``department`` and ``calls``. Read from the index on (action,
        scope), not by scanning the log."""
        actions = list(API_ACTIONS)
        with self._con() as con:
            rows = con.execute(f"SELECT action, scope, count(*) FROM access_log WHERE action IN ({', '.join('?' * len(actions))}) "
                               "GROUP BY action, scope ORDER BY action, scope", actions).fetchall()
        return [dict(zip(("action", "department", "calls"), r)) for r in rows]

    def api_keys(self, request_id: int) -> list[dict]:
        """A grant's keys (never their secrets), newest first."""
        with self._con() as con:
            rows = con.execute("SELECT key_id, issued_by, issued_at, revoked_at FROM api_keys WHERE request_id = ? ORDER BY issued_at DESC",
                               [request_id]).fetchall()
        return [dict(zip(("key_id", "issued_by", "issued_at", "revoked_at"), r)) for r in rows]

    def revoke_key(self, key_id: str, *, scope: str | None) -> bool:
        """End one key of a grant of ``scope``'s department (the requester's or the owner's)."""
        with self._write() as con:
            row = con.execute("SELECT r.department, r.owner FROM api_keys k JOIN share_requests r USING (request_id) "
                              "WHERE k.key_id = ? AND k.revoked_at IS NULL", [key_id]).fetchone()
            if row is None or scope not in row:
                return False
            con.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", [_now().isoformat(), key_id])
            return True

    def grant_for_key(self, key: str, now: dt.datetime | None = None) -> Grant | None:
        """The active grant ``key`` is bound to; None for a malformed, unknown or revoked key, or
        one whose grant is not active (refused, revoked, expired)."""
        parts = (key or "").split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        _, key_id, secret = parts
        with self._read() as con:  # on every interface call: an open connection
            row = con.execute("SELECT request_id, secret_hash FROM api_keys WHERE key_id = ? AND revoked_at IS NULL", [key_id]).fetchone()
            if row is None or not hmac.compare_digest(row[1], _secret_hash(secret)):
                return None
            found = self._folded(con, con.execute(f"SELECT {', '.join(_REQUEST_FIELDS)} FROM share_requests WHERE request_id = ?",
                                                  [row[0]]).fetchall())
        req = found[0]
        state: RequestState = req["status"]
        if state.current(now or _now()) != "active":
            return None
        return Grant(req["request_id"], key_id, req["entry_code"], req["items"], req["department"], req["owner"],
                     req["purpose"], req["legal_basis"], state.expires_at)
