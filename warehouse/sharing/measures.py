"""Sharing as a measure (效能): how each department answers the requests for its entries, how
many departments reuse each entry, and how many interface calls each owner's data answered.

Read from what the operational store keeps (requests folded with their steps,
:meth:`~warehouse.ops.store.OpsStore.share_requests`; the access log's interface calls,
:meth:`~warehouse.ops.store.OpsStore.calls_served`), never from the warehouse, which does not
see the store. The city manager reads them on the requests page, and the on-time answer rate
counts in the data-sharing health score the overview shows (:func:`answers_due_in`).

Counted per owning department (the entry's owner as the request recorded it):

- ``received``: requests submitted (drafts are the requester's own business);
- ``answered``: approved or refused, by the owner, the data resources bureau once escalated, or
  at once for an entry shared unconditionally (无条件共享: the owner answered by its class);
- ``judged``: answered, or unanswered past the due time; ``on_time``: answered by the due time
  (5 working days, :data:`~warehouse.sharing.requests.ANSWER_WORKING_DAYS`);
  ``on_time_rate`` = on_time ÷ judged (None with nothing judged yet), so a request still
  within its time counts neither way;
- ``median_working_days``: of the answered, working days from the day of submission to the
  day of the answer (0 the same day; counted on the workday calendar, as the deadline is);
- ``refused``; ``overdue``: unanswered past due now (escalated to the bureau);
- ``active_grants``: grants of its entries in use now; ``calls``: interface calls its data answered.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping

from warehouse.contract.workdays import is_workday
from warehouse.sharing.requests import RequestState

# The on-time answer rate's target in the data-sharing health score: every request answered in
# time (as the on-time delivery rates' target is every feed delivered in time).
ON_TIME_TARGET = 1.0

def working_days_between(start: dt.datetime, end: dt.datetime) -> int:
    """Working days from ``start``'s day to ``end``'s: the workdays after the first up to and
    including the last (0 for the same day or an earlier one)."""
    day, count = start.date(), 0
    while day < end.date():
        day += dt.timedelta(days=1)
        count += is_workday(day)
    return count


def _status(request: Mapping) -> RequestState:
    return request["status"]


def by_owner(requests: Iterable[Mapping], now: dt.datetime, calls: Mapping[str, int] | None = None) -> list[dict]:
    """How each owning department answers the requests for its entries (see the module's
    list), with ``calls`` (owner -> interface calls answered, :func:`calls_by_owner`); one row
    per department that received a request or served a call, in department order."""
    rows: dict[str, dict] = {}

    def row(owner: str) -> dict:
        return rows.setdefault(owner, {"owner": owner, "received": 0, "answered": 0, "judged": 0, "on_time": 0, "refused": 0,
                                       "overdue": 0, "active_grants": 0, "calls": 0, "_days": []})

    for req in requests:
        s = _status(req)
        if s.submitted_at is None:
            continue
        r = row(req["owner"])
        r["received"] += 1
        if s.answered_at is not None:
            r["answered"] += 1
            r["_days"].append(working_days_between(s.submitted_at, s.answered_at))
        if s.answered_at is not None or (s.due_at is not None and s.due_at <= now):
            r["judged"] += 1
            r["on_time"] += s.answered_at is not None and s.due_at is not None and s.answered_at <= s.due_at
        r["refused"] += s.state == "refused"
        r["overdue"] += s.state == "submitted" and s.due_at is not None and s.due_at < now
        r["active_grants"] += s.current(now) == "active"
    for owner, n in (calls or {}).items():
        row(owner)["calls"] += n
    out = []
    for r in rows.values():
        days = r.pop("_days")
        r["on_time_rate"] = r["on_time"] / r["judged"] if r["judged"] else None
        r["median_working_days"] = statistics.median(days) if days else None
        out.append(r)
    return sorted(out, key=lambda r: r["owner"])


def reuse(requests: Iterable[Mapping], now: dt.datetime) -> list[dict]:
    """How many departments reuse each entry: per entry with a grant in use now, its owner,
    ``departments`` (distinct departments holding an active grant) and ``active_grants``; most
    reused first."""
    entries: dict[str, dict] = {}
    for req in requests:
        if _status(req).current(now) != "active":
            continue
        e = entries.setdefault(req["entry_code"], {"entry_code": req["entry_code"], "owner": req["owner"], "_departments": set(),
                                                   "active_grants": 0})
        e["_departments"].add(req["department"])
        e["active_grants"] += 1
    out = [{**{k: v for k, v in e.items() if k != "_departments"}, "departments": len(e["_departments"])} for e in entries.values()]
    return sorted(out, key=lambda e: (-e["departments"], -e["active_grants"], e["entry_code"]))


def calls_by_owner(calls: Iterable[Mapping], owner_of: Mapping[str, str]) -> dict[str, int]:
    """Interface calls answered per owning department: ``calls`` as the store counts them (rows
    of ``action``, calling ``department``, ``calls``), each action's owner from ``owner_of``
    (action -> the department whose data it answers). Calls of an action without an owner
    there are left out (and :func:`unowned_calls` counts them)."""
    out: dict[str, int] = {}
    for c in calls:
        owner = owner_of.get(c["action"])
        if owner is not None:
            out[owner] = out.get(owner, 0) + int(c["calls"])
    return out


def unowned_calls(calls: Iterable[Mapping], owner_of: Mapping[str, str]) -> int:
    """The calls :func:`calls_by_owner` could not give an owner (an action ``owner_of`` lacks)."""
    return sum(int(c["calls"]) for c in calls if c["action"] not in owner_of)


def answers_due_in(requests: Iterable[Mapping], first: dt.date, last: dt.date, now: dt.datetime) -> tuple[int, int]:
    """(answered on time, judged) among the requests whose answer fell due on a day from
    ``first`` to ``last``: the on-time answer rate of a score's period. A request is judged
    once answered or past its due time at ``now``."""
    on_time = judged = 0
    for req in requests:
        s = _status(req)
        if s.due_at is None or not first <= s.due_at.date() <= last:
            continue
        if s.answered_at is not None or s.due_at <= now:
            judged += 1
            on_time += s.answered_at is not None and s.answered_at <= s.due_at
    return on_time, judged


def answer_score(on_time: int, judged: int) -> float | None:
    """The on-time answer rate scored as an indicator of the health score is (actual ÷ target,
    within [0, 2]); None with nothing judged (then it does not count)."""
    if not judged:
        return None
    return min(2.0, max(0.0, on_time / judged / ON_TIME_TARGET))
