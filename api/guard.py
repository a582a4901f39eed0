"""Who may call an interface, checked on every call before anything is read (CONTRACT §6).

A call carries ``Authorization: Bearer <key>`` (a key bound to one active grant), the officer
it is made for (``X-Officer-Id``: an enabled user of the grant's department whose role may
request data) and the case it serves (``X-Case-No``). In order: the key (401), its rate limit
(429), the headers' presence and shape (400), the grant's entry against the interface called
and the officer (403); then the body (422) and the answer fields asked for (403). A refused
call is answered with nothing but the refusal and is not in the access log (nothing was
disclosed); it is written to the application log with its reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from limits import parse_many

from warehouse.ops.share_requests import KEY_PREFIX, Grant
from warehouse.ops.store import OpsStore

log = logging.getLogger("citybrain.api")

# A case number (办件编号): letters, digits, '-', '_' and '/', 1 to 64 of them.
CASE_NO = r"^[A-Za-z0-9/_-]{1,64}$"
OFFICER_ID = r"^\S{1,64}$"
_KEY_ID = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{16}})_")


class Refused(Exception):
    """A call refused: its HTTP status, a stable code and a message for the caller's developers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Caller:
    """A call let through: the grant its key is bound to, the officer (user name and role) and the case."""

    grant: Grant
    officer: str
    role: str
    case_no: str

    @property
    def purpose(self) -> str:
        """The access log's purpose: the case, then the purpose the grant was given for."""
        return f"case {self.case_no}: {self.grant.purpose}"

    def answerable(self, items: dict[str, str], asked: Iterable[str] | None) -> list[str]:
        """The answer fields to give: those asked for (default: all) whose item the grant
        holds. Asking for a field whose item it does not hold is refused (403)."""
        held = set(self.grant.items)
        if asked is None:
            return [f for f, item in items.items() if item in held]
        outside = sorted({f for f in asked if items[f] not in held})
        if outside:
            raise Refused(403, "field_not_granted", f"the grant does not hold the items of: {', '.join(outside)}")
        return [f for f in items if f in set(asked)]


def key_id(key: str | None) -> str:
    """The public part of a key (what the logs may name), or '-'."""
    found = _KEY_ID.match(key or "")
    return found[1] if found else "-"


class Gate:
    """The checks of one API app: its store, the roles that may request data, the clock and the
    rate limits (kept in this process's memory, so counted per worker)."""

    def __init__(self, store: OpsStore, officer_roles: Collection[str], rate_limit: str,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self.officer_roles = frozenset(officer_roles)
        # Each limit over a moving window: per grant and limit (its keys together: an officer may
        # take any number of keys, which per key would each bring a count of their own), the
        # times of the calls it let through, the newest ``amount`` of them (a call is let through when fewer than
        # ``amount`` were in the last ``seconds``). O(1) a call, no timer thread: the limits
        # library's moving window in memory cost about a tenth of a call's CPU under load.
        self.limits = [(f"{limit.amount}/{limit.get_expiry()}s", limit.amount, limit.get_expiry())
                       for limit in parse_many(rate_limit)]
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def grant(self, key: str | None) -> Grant:
        """The active grant ``key`` is bound to (401 without a key, or for a malformed, unknown,
        revoked or expired one), counted against its rate limits (429)."""
        if not key:
            raise Refused(401, "no_key", "send the key as Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
        grant = self.store.grant_for_key(key, self.clock() if self.clock else None)
        if grant is None:
            raise Refused(401, "bad_key", "the key is unknown, revoked, or its grant is not active",
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        now = time.monotonic()
        with self._lock:
            windows = [self._calls.setdefault((grant.request_id, name), deque(maxlen=amount))
                       for name, amount, _ in self.limits]
            for (_, amount, seconds), calls in zip(self.limits, windows):
                if len(calls) == amount and now - calls[0] < seconds:
                    wait = max(1, math.ceil(calls[0] + seconds - now))
                    raise Refused(429, "rate_limited", f"more than {amount} calls in {seconds} s with this grant's keys; "
                                  f"retry in {wait} s", {"Retry-After": str(wait)})
            for calls in windows:  # counted once every limit lets it through
                calls.append(now)
        return grant

    def caller(self, grant: Grant, entry: str, officer: str, case_no: str) -> Caller:
        """The call let through for ``entry``'s interface, or 403: the grant is of another entry,
        or the officer is not an enabled user of the grant's department allowed to request data."""
        if grant.entry_code != entry:
            raise Refused(403, "entry_not_granted", "the key's grant is for another catalog entry")
        user = self.store.user(officer)
        if user is None or user["disabled"] or user["role"] not in self.officer_roles or user["scope"] != grant.department:
            raise Refused(403, "officer_not_allowed",
                          "X-Officer-Id must name an enabled officer of the department the grant was made to")
        return Caller(grant, user["username"], user["role"], case_no)
