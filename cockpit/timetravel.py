"""Any past day (time travel): the reader may look at the cockpit as it stood at the end of an
earlier day, read from that day's last serving snapshot.

The chosen day lives in a cookie (``cb_day``) so every page and every callback of the browser
reads the same snapshot. It is only a wish: each request checks it against the days that
have a snapshot, and anything else (a forged, malformed or pruned day) reads today's.
"""

from __future__ import annotations

import datetime as dt

from flask import has_request_context, request

from cockpit.context import ctx
from cockpit.roles import Principal
from warehouse.serving.publish import current

DAY_COOKIE = "cb_day"


def travels(who: Principal | None) -> bool:
    """Whether ``who`` may choose a past day: roles whose pages read the snapshot (capability
    ``time_travel``); the administrator's and the citizen's read only the operational store as
    it is now, so a past day means nothing there."""
    return who is not None and who.can("time_travel")


def parse_day(value) -> dt.date | None:
    """A day written YYYY-MM-DD (a date picker may send a time after it), else None."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def days() -> list[dt.date]:
    """The days one may choose, oldest first: every day with a snapshot."""
    return sorted(ctx().snapshot.days())


def live_day() -> dt.date | None:
    """The day the current snapshot stands for (its clock day): choosing it is choosing now."""
    cur = current(ctx().snapshot.serving)
    return next((d for d, p in ctx().snapshot.days().items() if p == cur), None)


def valid(day: dt.date | None) -> bool:
    """Whether ``day`` has a snapshot of its own."""
    return day is not None and day in ctx().snapshot.days()


def chosen_day() -> dt.date | None:
    """The past day this request shows, or None for now (no cookie, or one naming no snapshot,
    or the day of the current snapshot itself)."""
    if not has_request_context():
        return None
    day = parse_day(request.cookies.get(DAY_COOKIE))
    if not valid(day):
        return None
    return None if ctx().snapshot.days()[day] == current(ctx().snapshot.serving) else day
