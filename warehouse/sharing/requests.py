"""A request for a catalog entry (按需申请) and the grant it becomes, folded from its steps.

    draft ──submit──▶ submitted ──approve──▶ approved ──activate──▶ active ──(its days pass)──▶ expired
                          │                                  │           │
                          └──refuse (reason)──▶ refused      └──revoke───┴──revoke (reason)──▶ revoked

The contract (§6) fixes the states. The officer of the requesting department submits a
request and activates an approved one (which issues the key its system calls with). The owning
department's steward approves or refuses it, giving a reason for a refusal, and may revoke an
approved or active grant. An entry shared unconditionally (无条件共享) is approved when it is
submitted. An entry not shared (不予共享) cannot be requested. The answer is due within
:data:`ANSWER_WORKING_DAYS` working days of submission, counted on the official workday
calendar. A request still unanswered after that is escalated: the data resources bureau sees
it and may answer it, and it counts against the owner. A grant expires ``days`` after it was
activated. Expiry and escalation follow from the clock and are not steps. Every step is
kept with who took it and when.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from warehouse.contract.workdays import is_workday

STATES = ("draft", "submitted", "approved", "refused", "active", "expired", "revoked")
SHARING_CLASSES = ("unconditional", "conditional", "none")  # 无条件共享 / 有条件共享 / 不予共享
# Each step, the states it may follow and the state it leaves. The store checks the steps
# again inside its write, so two people cannot both answer one request.
STATE_AFTER = {"submit": "submitted", "approve": "approved", "refuse": "refused", "activate": "active", "revoke": "revoked"}
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "submit": frozenset({"draft"}),
    "approve": frozenset({"submitted"}),
    "refuse": frozenset({"submitted"}),
    "activate": frozenset({"approved"}),
    "revoke": frozenset({"approved", "active"}),
}
STEPS = tuple(STATE_AFTER)
ANSWERS = ("approve", "refuse")
# Who takes each step: the requesting department's officer, or the owning department's steward
# (the data resources bureau's as well, once the answer is overdue).
TAKEN_BY = {"submit": "requester", "activate": "requester", "approve": "owner", "refuse": "owner", "revoke": "owner"}
ESCALATION_DEPARTMENT = "dsb"  # 数据资源管理局: receives the requests owners leave unanswered
ANSWER_WORKING_DAYS = 5  # local rules for data already on the platform
MAX_DAYS = 366  # the longest grant a request may ask for; renewing is a new request
REASON_MAX = 500  # a reason, purpose, scenario or legal basis: plain text up to this length
# Bidirectional embeddings, overrides and isolates: shown back to the steward, the citizen and
# the auditor they would reorder what follows them (a purpose read backwards, "Trojan Source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days after ``start``: the same time of day on the
    ``days``-th workday after ``start``'s date (a request submitted on Friday evening before a
    holiday is due on the fifth workday after it)."""
    day, left = start.date(), days
    while left > 0:
        day += dt.timedelta(days=1)
        left -= is_workday(day)
    return dt.datetime.combine(day, start.time())


def _when(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


@dataclass(frozen=True)
class RequestState:
    """Where one request stands, from its steps: its state, when it was submitted, when the
    answer is due and when it came, and while a grant, when it began and ends."""

    request_id: int
    state: str = "draft"
    submitted_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    answered_by: str | None = None  # the department that answered (the owner, or the bureau once escalated)
    reason: str | None = None  # of a refusal or a revocation
    active_from: dt.datetime | None = None
    expires_at: dt.datetime | None = None

    def escalated(self, now: dt.datetime) -> bool:
        """Still unanswered past its due time, or answered after it: the owner did not answer in time."""
        if self.due_at is None:
            return False
        return (self.answered_at or now) > self.due_at

    def current(self, now: dt.datetime) -> str:
        """The state at ``now``: an active grant past its end has expired."""
        if self.state == "active" and self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return self.state


def state_of(request_id: int, days: int, steps: Iterable[Mapping]) -> RequestState:
    """Fold one request's steps (oldest first) into its state; ``days``: how long the grant lasts."""
    s = RequestState(request_id)
    for step in steps:
        kind, at = step["step"], _when(step["at"])
        if kind not in STATE_AFTER or s.state not in ALLOWED_FROM[kind]:
            continue  # the store never writes such a step; a folded history ignores it rather than guess
        changes: dict = {"state": STATE_AFTER[kind]}
        if kind == "submit":
            changes |= {"submitted_at": at, "due_at": add_working_days(at, ANSWER_WORKING_DAYS)}
        elif kind in ANSWERS:
            changes |= {"answered_at": at, "answered_by": step.get("scope"), "reason": step.get("reason") if kind == "refuse" else None}
        elif kind == "activate":
            changes |= {"active_from": at, "expires_at": at + dt.timedelta(days=days)}
        elif kind == "revoke":
            changes |= {"reason": step.get("reason")}
        s = RequestState(**{**s.__dict__, **changes})
    return s


def may_answer(department: str | None, owner: str, state: RequestState, now: dt.datetime) -> bool:
    """Whether a steward of ``department`` may approve or refuse: the owner's, or the data
    resources bureau's once the answer is overdue."""
    if department is None or state.state != "submitted":
        return False
    return department == owner or (department == ESCALATION_DEPARTMENT and state.escalated(now))


def clean_text(value: object, *, required: bool = True, limit: int = REASON_MAX) -> str:
    """A purpose, scenario, legal basis or reason as stored: trimmed plain text of at most
    ``limit`` characters, without control characters (C0 but newline and tab, DEL, C1) or
    bidirectional overrides. Raises ValueError naming what is wrong."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValueError("required")
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    if any((unicodedata.category(c) == "Cc" and c not in "\n\t") or c in _BIDI_CONTROLS for c in text):
        raise ValueError("control characters")
    return text
