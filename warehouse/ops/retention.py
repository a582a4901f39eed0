"""Retention (docs/operations.md, "Retention").

Serving snapshots: the last snapshot of each day is kept for ``SNAPSHOT_DAYS`` days (90 by
default) plus the newest ``SNAPSHOT_NEWEST``, however often the refresh runs: they are the
cockpit's "any past day" (time travel). Both are settings, ``CITYBRAIN_SNAPSHOT_DAYS`` and
``CITYBRAIN_SNAPSHOT_NEWEST`` (``warehouse/settings.py``).

Personal data: the original text of rejected rows is the only personal data kept outside the
thematic libraries, and it is kept only as long as a department may need it to fix and
resubmit. A purge is authorised by a user whose role may (the auditor's, for the data resources bureau), run by an operator, and
written to the access audit log with the keyed hashes of every identity number it removed,
so a person can still learn that (and when) their rows were deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

import duckdb

from warehouse.ops.access_log import id_numbers_in
from warehouse.ops.store import OpsStore
from warehouse.settings import Settings, settings

DEFAULT_DAYS = 180  # rejected rows' original text is kept this many business days (citybrain retention --days)
SNAPSHOT_DAYS = Settings.snapshot_days  # the settings' defaults
SNAPSHOT_NEWEST = Settings.snapshot_newest


class Dated(Protocol):
    """A snapshot as retention sees it: the day whose end it shows, in publishing order."""

    day: dt.date


def snapshot_policy() -> tuple[int, int]:
    """(days, newest) from the settings (which keep at least one newest)."""
    return settings().snapshot_days, settings().snapshot_newest


def snapshots_to_keep(snaps: Sequence[Dated], *, days: int = SNAPSHOT_DAYS, newest: int = SNAPSHOT_NEWEST) -> list[int]:
    """Positions in ``snaps`` (oldest published first) to keep: the newest ``newest``, and the
    last one published of each day within ``days`` days of the newest snapshot's day (the
    data's clock, so a city replayed with ``--as-of`` keeps its days as a live one does)."""
    if not snaps:
        return []
    keep = set(range(max(0, len(snaps) - newest), len(snaps)))
    since = max(s.day for s in snaps) - dt.timedelta(days=days - 1)
    last_of_day: dict[dt.date, int] = {}
    for i, s in enumerate(snaps):
        last_of_day[s.day] = i
    keep |= {i for day, i in last_of_day.items() if days and day >= since}
    return sorted(keep)


def purge_rejected_rows(con: duckdb.DuckDBPyConnection, store: OpsStore, *, before: dt.date, authorised_by: str,
                        reason: str, may_authorise: Callable[[str], bool], acts_for: Callable[[str], str | None]) -> int:
    """Delete the original text of rejected rows of deliveries for business dates before
    ``before`` (their reasons stay in ``ingest.rejections``); returns how many rows.
    ``may_authorise`` says whether a user of a role may authorise it, ``acts_for`` which
    department a user of that role acts for, logged as the access's scope (the cockpit's role
    registry knows both; the warehouse names no role)."""
    user = store.user(authorised_by)
    if user is None or not may_authorise(user["role"]) or user["disabled"]:
        raise PermissionError(f"'{authorised_by}' is not an active user whose role may authorise a purge of personal data")
    if not reason.strip():
        raise ValueError("a purge needs a reason for the audit log")
    doomed = """FROM ingest.rejected_rows WHERE delivery_id IN
                (SELECT delivery_id FROM ingest.deliveries WHERE business_date < ?)"""
    con.execute("BEGIN")
    try:
        raws = [r for (r,) in con.execute(f"SELECT raw {doomed}", [before]).fetchall()]
        con.execute(f"DELETE {doomed}", [before])
        # Logged before the commit: a purge that is not in the log does not happen.
        store.log_access(authorised_by, user["role"], "purge_rejected_rows", delivery_id=None, rows=len(raws),
                         id_numbers=id_numbers_in(raws), purpose=f"retention before {before.isoformat()}: {reason.strip()}"[:200],
                         scope=acts_for(user["role"]), legal_basis="retention")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(raws)
