"""The loop from alert to closure (派单 → 处置 → 结案 → 评价), folded from its steps.

The warehouse says whether an alert's condition holds (``marts.alerts.status``: open or
resolved, the contract's); what people did about it is the project's and lives in the
operational store as append-only steps (``OpsStore.alert_steps``). An alert's place in the
loop is what its latest step made it:

    new ──dispatch──▶ dispatched ──handle──▶ handled ──close (rating, comment)──▶ closed
     │                    ▲  │                  │
     └──handle────────────┼──┘ (re-dispatch)     └──return──▶ returned ──handle──▶ handled

A dispatch names an owner (a department or a district) and a due time; re-dispatching
changes them. The owner handles (says what was done); the manager closes with an evaluation
(a rating of 1–5 and a comment, one step so a closure never lacks its evaluation) or returns
it with a reason, and the owner handles again. ``acknowledge`` is the step of the cockpit
before the loop (old acknowledgements, migrated): it is kept in the history and moves nothing.

Owner performance (效能) is computed here from the same steps, not in the warehouse: the
workflow lives in the operational store, which the warehouse never reads.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STATES = ("new", "dispatched", "handled", "returned", "closed")
# The steps of the loop, in the order the cockpit offers them, and the state each leaves.
STATE_AFTER = {"dispatch": "dispatched", "handle": "handled", "close": "closed", "return": "returned"}
STEPS = tuple(STATE_AFTER)
LEGACY_STEP = "acknowledge"
# The states each step may follow: checked again inside the write, so two people acting on
# one alert at once cannot, say, close it twice or handle it after it was closed.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"new", "dispatched", "returned"}),
    "handle": frozenset({"new", "dispatched", "returned"}),
    "return": frozenset({"handled"}),
    "close": frozenset({"handled"}),
}
OWNER_KINDS = ("department", "district")
DUE_HOURS = (4, 8, 24, 48, 72, 168)  # time limits a dispatcher picks from (时限), as in 12345 practice
RATINGS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class LoopState:
    """Where one alert stands: its state, current owner and due time, and when things happened."""

    alert_id: str
    state: str = "new"
    owner_kind: str | None = None  # of the latest dispatch; None before any
    owner_code: str | None = None
    due_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    handled_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    rating: int | None = None
    returns: int = 0

    def overdue(self, now: dt.datetime) -> bool:
        """Waiting on its owner past the due time."""
        return self.state in ("dispatched", "returned") and self.due_at is not None and now > self.due_at


def _when(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def state_of(alert_id: str, steps: Iterable[Mapping]) -> LoopState:
    """Fold one alert's steps (oldest first) into its state."""
    s = LoopState(alert_id)
    for step in steps:
        kind, at = step["step"], _when(step["at"])
        if kind == "dispatch":
            s = LoopState(alert_id, "dispatched", step["owner_kind"], step["owner_code"], _when(step["due_at"]), at,
                          None, None, None, s.returns)
        elif kind in STATE_AFTER:
            s = LoopState(s.alert_id, STATE_AFTER[kind], s.owner_kind, s.owner_code, s.due_at, s.dispatched_at,
                          at if kind == "handle" else s.handled_at, at if kind == "close" else s.closed_at,
                          step.get("rating") if kind == "close" else s.rating, s.returns + (kind == "return"))
    return s


def states(steps: Iterable[Mapping]) -> dict[str, LoopState]:
    """Every alert with a step, by id, from all steps oldest first."""
    by_alert: dict[str, list[Mapping]] = {}
    for step in steps:
        by_alert.setdefault(step["alert_id"], []).append(step)
    return {a: state_of(a, s) for a, s in by_alert.items()}


@dataclass
class _Episode:
    """One dispatch to one owner, until the next dispatch of that alert."""

    owner: tuple[str, str]
    at: dt.datetime
    due: dt.datetime | None
    handled: dt.datetime | None = None
    closed: dt.datetime | None = None
    rating: int | None = None
    returns: int = 0


def _episodes(steps: Iterable[Mapping]) -> list[_Episode]:
    current: dict[str, _Episode] = {}
    out: list[_Episode] = []
    for step in steps:
        kind, alert, at = step["step"], step["alert_id"], _when(step["at"])
        if kind == "dispatch":
            current[alert] = _Episode((step["owner_kind"], step["owner_code"]), at, _when(step["due_at"]))
            out.append(current[alert])
            continue
        ep = current.get(alert)
        if ep is None:
            continue
        if kind == "handle" and ep.handled is None:
            ep.handled = at  # the first disposal is what the due time judges; a return shows in the returns
        elif kind == "return":
            ep.returns += 1
        elif kind == "close":
            ep.closed, ep.rating = at, step.get("rating")
    return out


def owner_performance(steps: Iterable[Mapping], now: dt.datetime) -> list[dict]:
    """How each owner (department or district) disposes of what it is dispatched.

    Per owner: ``dispatched`` (dispatches received), ``judged`` (those due by ``now`` or already
    handled), ``on_time`` (handled at or before the due time), ``on_time_rate`` = on_time ÷
    judged (None with nothing judged yet), ``closed`` and ``median_hours_to_close`` (from the
    dispatch to the closure), ``mean_rating`` of the closures, ``returns`` and ``overdue`` (past
    due, not handled). A re-dispatch starts a new count for the new owner.
    """
    rows: dict[tuple[str, str], dict] = {}
    for ep in _episodes(steps):
        r = rows.setdefault(ep.owner, {"owner_kind": ep.owner[0], "owner_code": ep.owner[1], "dispatched": 0, "judged": 0,
                                       "on_time": 0, "overdue": 0, "closed": 0, "returns": 0, "_hours": [], "_ratings": []})
        r["dispatched"] += 1
        r["returns"] += ep.returns
        if ep.handled is not None or (ep.due is not None and ep.due <= now):
            r["judged"] += 1
            r["on_time"] += ep.handled is not None and (ep.due is None or ep.handled <= ep.due)
        if ep.handled is None and ep.due is not None and ep.due < now:
            r["overdue"] += 1
        if ep.closed is not None:
            r["closed"] += 1
            r["_hours"].append((ep.closed - ep.at).total_seconds() / 3600)
            if ep.rating:
                r["_ratings"].append(ep.rating)
    out = []
    for r in rows.values():
        hours, ratings = r.pop("_hours"), r.pop("_ratings")
        r["on_time_rate"] = r["on_time"] / r["judged"] if r["judged"] else None
        r["median_hours_to_close"] = statistics.median(hours) if hours else None
        r["mean_rating"] = statistics.mean(ratings) if ratings else None
        out.append(r)
    return sorted(out, key=lambda r: (r["owner_kind"], r["owner_code"]))
