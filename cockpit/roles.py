"""Roles, what each may open and do, and the scope that limits what it sees (DESIGN "Roles")."""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.contract.feeds import HANDLER_DEPARTMENTS
from warehouse.contract.labels import ROLES  # role ids and their names: the label registry

__all__ = ["ROLES", "PAGES", "HOME_PAGE", "SCOPED", "Principal"]
SCOPED = {"district_manager": "district", "steward": "department"}

# Page path -> roles that may open it. Checked on the server for every page and callback.
# Separation of duties: the administrator manages users and reads no personal data; the
# auditor audits and changes no user; a citizen sees only who used their own data.
PAGES: dict[str, set[str]] = {
    "/": {"city_manager", "district_manager"},
    "/service": {"city_manager", "district_manager", "steward"},
    "/explorer": {"analyst", "city_manager", "district_manager"},
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

    def alert_scope(self) -> tuple[str, str] | None:
        """The alerts this user acts on, as (alert column, value it must have); None for none.
        A city manager acts on all of them (see :meth:`sees_all_alerts`)."""
        if self.role == "district_manager":
            return ("district_code", self.scope or "")
        if self.role == "steward":
            return ("owner_scope", self.scope or "")
        return None

    def sees_all_alerts(self) -> bool:
        return self.role in ("city_manager", "analyst")

    def may_acknowledge(self, alert: dict) -> bool:
        if self.role == "city_manager":
            return True
        scope = self.alert_scope()
        return scope is not None and alert.get(scope[0]) == scope[1]
