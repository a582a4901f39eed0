"""Role scoping in one place: which rows of the snapshot a caller sees, as the filter a query
binds, and which areas (the city, its districts) a caller may look at. Queries ask
:func:`row_filter` and bind its fields as ``(? IS NULL OR column = ?)``, so one query text
serves every caller and none decides by itself who sees what; pages that choose an area (the
overview, the explorer, the trace) ask :func:`areas_for`."""

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


@dataclass(frozen=True)
class Areas:
    """The areas a caller may look at: the city (by its code) and every district, or, for a
    caller limited to a district, that district (and the city's own figures beside it)."""

    city: str
    district: str | None = None  # the one district the caller is kept to; None: any

    @property
    def may_pick(self) -> bool:
        """Whether the caller chooses among the city's areas (the overview's picker and map)."""
        return self.district is None

    @property
    def first(self) -> str:
        """The area shown when none is asked for: the caller's district, else the city."""
        return self.district or self.city

    def allows(self, area: str | None) -> bool:
        """Whether the caller may look at ``area`` (a district's users: theirs and the city)."""
        return self.district is None or area in (self.district, self.city)

    def among(self, requested: list[str]) -> list[str]:
        """The areas of ``requested`` the caller may look at (a forged request for another
        district gets nothing)."""
        return [a for a in requested if self.allows(a)]

    def chosen(self, picked: str | None) -> str:
        """The area the overview shows for ``picked`` (a district or the city; None: the city):
        a caller kept to a district drills into nothing but that district."""
        return self.district or picked or self.city


def areas_for(who: Principal, city_code: str) -> Areas:
    """The areas ``who`` may look at in the city ``city_code``: a district's users their
    district (and the city's figures), everyone else every area."""
    return Areas(city_code, who.scope if who.scope_kind == "district" else None)


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
