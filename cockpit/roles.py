"""Roles, what each may open and do, and the scope that limits what it sees (DESIGN "Roles")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from warehouse.contract.feeds import HANDLER_DEPARTMENTS
from warehouse.contract.labels import ROLES  # role ids and their names: the label registry
from warehouse.ops.alert_loop import ALLOWED_FROM, LoopState

__all__ = ["ROLES", "PAGES", "HOME_PAGE", "SCOPED", "Principal", "current_owner", "natural_owner"]
SCOPED = {"district_manager": "district", "steward": "department"}

# Page path -> roles that may open it. Checked on the server for every page and callback.
# Separation of duties: the administrator manages users and reads no personal data; the
# auditor audits and changes no user; a citizen sees only who used their own data.
PAGES: dict[str, set[str]] = {
    "/": {"city_manager", "district_manager"},
    "/service": {"city_manager", "district_manager", "steward"},
    "/explorer": {"analyst", "city_manager", "district_manager"},
    "/trace": {"analyst", "city_manager", "district_manager"},
    "/alerts": {"city_manager", "district_manager", "analyst", "steward"},
    "/ingestion": {"steward", "auditor"},
    "/audit": {"auditor"},
    "/runs": {"analyst"},
    "/users": {"admin"},
    "/my-data": {"citizen"},
}
HOME_PAGE = {"city_manager": "/", "district_manager": "/", "analyst": "/explorer", "steward": "/ingestion", "auditor": "/ingestion",
             "admin": "/users", "citizen": "/my-data"}


@dataclass(frozen=True)
class Principal:
    """Who is asking: the signed-in user's name, role and scope (district or department)."""

    username: str
    role: str
    scope: str | None = None
    subject: str | None = None  # a citizen's identity number as its keyed hash

    def home_page(self) -> str:
        """Where signing in lands: a steward of a department that only handles requests has no feeds."""
        if self.role == "steward" and self.scope in HANDLER_DEPARTMENTS:
            return "/service"
        return HOME_PAGE.get(self.role, "/")

    def may_open(self, path: str) -> bool:
        return self.role in PAGES.get(path, set())

    def district_filter(self, requested: list[str], city_code: str) -> list[str]:
        """The districts this user may see among ``requested`` (own district and the city for district managers)."""
        if self.role == "district_manager":
            return [d for d in requested if d in (self.scope, city_code)]
        return list(requested)

    def sees_all_alerts(self) -> bool:
        return self.role in ("city_manager", "analyst")

    # ---------------------------------------------------------------- the loop from alert to closure
    # ``alert`` is a row of the snapshot's alerts (as stored, never as a browser describes it),
    # ``loop`` its LoopState from the operational store.

    def _owns(self, owner: tuple[str, str] | None) -> bool:
        """Whether ``owner`` (kind, code) is this user's department or district."""
        mine = {"steward": "department", "district_manager": "district"}.get(self.role)
        return mine is not None and owner == (mine, self.scope)

    def sees_alert(self, alert: Mapping, loop: LoopState) -> bool:
        """City managers and analysts see every alert; a district manager their district's and
        those dispatched to it; a steward their department's and those dispatched to it."""
        if self.sees_all_alerts():
            return True
        if self.role == "district_manager" and alert.get("district_code") == self.scope:
            return True
        if self.role == "steward" and alert.get("owner_scope") == self.scope:
            return True
        return self._owns(current_owner(alert, loop))

    def dispatch_targets(self, alert: Mapping, districts: list[str], departments: list[str]) -> list[tuple[str, str]]:
        """Owners this user may dispatch ``alert`` to: a city manager any district or department,
        a district manager (own district's alerts) their district or a department; else none."""
        if self.role == "city_manager":
            return [("district", d) for d in districts] + [("department", d) for d in departments]
        if self.role == "district_manager" and alert.get("district_code") == self.scope:
            return [("district", self.scope)] + [("department", d) for d in departments]
        return []

    def may_dispatch(self, alert: Mapping, loop: LoopState) -> bool:
        """Managers dispatch (or re-dispatch) an alert waiting on an owner; a new one only while
        its condition holds. A district manager only their own district's."""
        if loop.state not in ALLOWED_FROM["dispatch"] or (loop.state == "new" and alert.get("status") != "open"):
            return False
        return self.role == "city_manager" or (self.role == "district_manager" and alert.get("district_code") == self.scope)

    def may_handle(self, alert: Mapping, loop: LoopState) -> bool:
        """The current owner records what was done: the department's steward or the district's manager."""
        return loop.state in ALLOWED_FROM["handle"] and self._owns(current_owner(alert, loop))

    def may_evaluate(self, alert: Mapping, loop: LoopState) -> bool:
        """The city manager closes a handled alert with an evaluation, or returns it."""
        return self.role == "city_manager" and loop.state == "handled"

    def alert_actions(self, alert: Mapping, loop: LoopState) -> list[str]:
        """The steps this user may take on ``alert`` now, in the loop's order."""
        return [step for step, ok in (("dispatch", self.may_dispatch(alert, loop)), ("handle", self.may_handle(alert, loop)),
                                      ("close", self.may_evaluate(alert, loop)), ("return", self.may_evaluate(alert, loop))) if ok]


def natural_owner(alert: Mapping) -> tuple[str, str] | None:
    """Who owns an alert nobody dispatched: the department or district the warehouse named
    (``owner_role``/``owner_scope``); None for the city's own (the city manager's)."""
    kind = {"steward": "department", "district_manager": "district"}.get(alert.get("owner_role") or "")
    return (kind, alert["owner_scope"]) if kind and alert.get("owner_scope") else None


def current_owner(alert: Mapping, loop: LoopState) -> tuple[str, str] | None:
    """The owner of the latest dispatch, else the natural owner."""
    if loop.owner_kind and loop.owner_code:
        return (loop.owner_kind, loop.owner_code)
    return natural_owner(alert)
