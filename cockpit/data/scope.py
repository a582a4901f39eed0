"""Role scoping in one place: which rows of the snapshot a caller sees, as the filter a query
binds. Queries ask :func:`row_filter` and bind its fields as ``(? IS NULL OR column = ?)``, so
one query text serves every caller and none decides by itself who sees what."""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.roles import Principal

# The 12345 hotline takes every citizen's request and passes it on: its steward follows them all.
HOTLINE = "hotline"


@dataclass(frozen=True)
class RowFilter:
    """The rows a caller sees; None in a field: no limit on that column."""

    district: str | None = None  # rows of one district (a district's users)
    department: str | None = None  # what one department delivered or owns (its steward)
    handler: str | None = None  # citizens' requests one department handles (its steward, but the hotline's)


def row_filter(who: Principal, capability: str | None = None) -> RowFilter | None:
    """The filter ``who``'s queries bind: a district's users see their district, a department's
    steward its department; the unscoped roles (city managers, analysts, auditors) everything.
    None when ``who`` may not ``capability``: the query returns nothing."""
    if capability is not None and not who.can(capability):
        return None
    if who.scope_kind == "district":
        return RowFilter(district=who.scope)
    if who.scope_kind == "department":
        return RowFilter(department=who.scope, handler=None if who.scope == HOTLINE else who.scope)
    return RowFilter()
