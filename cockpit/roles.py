"""The role registry (DESIGN "Roles"): each role declared once, and the caller every page and
callback asks what it may do.

A :class:`Role` says what limits what it sees (its scope kind), where signing in lands, what it
may do (capabilities, named in :data:`CAPABILITIES`), what the explorer shows first and its name
(English; the catalog translates it, context "role"). A page says which capability opens it where it is registered
(``dash.register_page(__name__, ..., allowed="see_alerts")``), or the capabilities any of which
opens it when its parts serve several (``allowed=("request_data", "answer_requests")``: its
layout shows each caller the parts of its own); :meth:`Principal.may_open`, the navigation and
every callback's guard read that. Code elsewhere asks what the caller may do
(``who.can("dispatch_alerts")``) or how it is limited (``who.scope_kind``), never which role it
is: adding a role is one entry in :data:`REGISTRY` (and its name's translation) plus its pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import dash

from warehouse.contract.feeds import HANDLER_DEPARTMENTS
from warehouse.contract.translations import pgettext
from warehouse.ops.alert_loop import ALLOWED_FROM, OWNER_KINDS, STEPS, LoopState

__all__ = ["CAPABILITIES", "REGISTRY", "Role", "Principal", "role_of", "roles_that", "page_capabilities", "current_owner",
           "natural_owner"]

# What limits what a role sees: one district, one department, one person (by identity number), or nothing.
ScopeKind = Literal["district", "department", "person"]

# Everything a role may be allowed, and what it allows. Separation of duties: the administrator
# manages users and reads no personal data; the auditor audits and changes no user; a citizen
# sees only who used their own data.
CAPABILITIES: dict[str, str] = {
    "see_overview": "the overview: vital signs, city score, map and open alerts (page /)",
    "see_requests": "citizens' requests and the overdue ones in its scope (page /service)",
    "explore_indicators": "the indicator explorer and the trace to the source (pages /explorer, /trace)",
    "see_alerts": "the alerts of its scope and where each stands in the loop (page /alerts)",
    "see_all_alerts": "every alert of the city, not only those of its scope",
    "dispatch_alerts": "dispatch an alert to an owner (limited to a district: its own district's)",
    "handle_owned_alerts": "record what was done about an alert its department or district owns",
    "evaluate_alerts": "close a handled alert with a rating or return it, and see how owners perform",
    "see_feed_health": "deliveries, rejections, timeliness and findings, no row contents (page /ingestion)",
    "see_rejected_rows": "the rejected rows of its own department's deliveries (every view audited)",
    "audit_access": "the access audit log (page /audit)",
    "authorise_purge": "authorise deleting rejected rows past their retention period",
    "launch_runs": "the pipeline runs, launching a refresh or backfill (page /runs)",
    "manage_users": "who may sign in, with which role and scope (page /users)",
    "see_own_data_use": "who used the data of the person the account is linked to (page /my-data)",
    "time_travel": "look at the cockpit as it stood at the end of an earlier day",
    "see_catalog": "the data catalog: every entry, who provides it, its sharing class, freshness and lineage (page /catalog)",
    "edit_catalog": "describe its own department's catalog entries and set their sharing class (every edit kept)",
    "request_data": "request catalog entries for its department and take the keys of its grants (page /requests)",
    "answer_requests": "answer requests for its department's entries, and revoke their grants (page /requests)",
    "see_sharing": "how every department shares: requests answered on time, refusals, calls served (page /requests)",
}


@dataclass(frozen=True)
class Role:
    """One role, declared once.

    ``name``: what the role is called, in English (the catalog translates it with the context
    "role"; :func:`extract_names` hands it to the extraction); ``home``: where signing in lands; ``handler_home``: where instead for a department that
    delivers no feeds and only handles citizens' requests; ``acts_for``: the department an
    unscoped role acts for (what a citizen is told accessed their data); ``default_indicator``:
    what the explorer shows first; ``demo_user``: the name of the demo user ``citybrain users
    demo`` makes for it (its id when not given), and ``demo_scope`` where that user is limited to
    (else the demo scope of its scope kind).
    """

    id: str
    name: str
    may: frozenset[str]  # capabilities (a set given is frozen)
    home: str
    scope: ScopeKind | None = None
    default_indicator: str = "cert.usage"
    handler_home: str | None = None
    acts_for: str | None = None
    demo_user: str | None = None
    demo_scope: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "may", frozenset(self.may))
        unknown = self.may - CAPABILITIES.keys()
        if unknown:
            raise ValueError(f"role {self.id!r}: unknown capabilities {sorted(unknown)} (declare them in CAPABILITIES)")

    @property
    def listed_scope(self) -> str | None:
        """The kind of scope chosen from a list when a user is saved ("district" or "department");
        None for an unlimited role and for a citizen (linked by identity number instead)."""
        return self.scope if self.scope in ("district", "department") else None

    @property
    def names(self) -> tuple[str, str]:
        """(Chinese, English) names: the English declared here, the Chinese from the catalog."""
        return pgettext("role", self.name, "zh"), self.name


def _declare(*roles: Role) -> dict[str, Role]:
    return {r.id: r for r in roles}


# The roles, in the order the users page offers them.
REGISTRY: dict[str, Role] = _declare(
    Role("city_manager", name="City manager", demo_user="mayor", home="/", default_indicator="svc.on_time_rate",
         may={"see_overview", "see_requests", "explore_indicators", "see_alerts", "see_all_alerts", "dispatch_alerts",
              "evaluate_alerts", "time_travel", "see_catalog", "see_sharing"}),
    Role("district_manager", name="District manager", demo_user="xihu", scope="district", home="/",
         default_indicator="svc.on_time_rate",
         may={"see_overview", "see_requests", "explore_indicators", "see_alerts", "dispatch_alerts", "handle_owned_alerts",
              "time_travel", "see_catalog"}),
    Role("analyst", name="Analyst", home="/explorer",
         may={"explore_indicators", "see_alerts", "see_all_alerts", "launch_runs", "time_travel", "see_catalog"}),
    Role("steward", name="Data steward", demo_user="police", scope="department", home="/ingestion", handler_home="/service",
         may={"see_requests", "see_feed_health", "see_rejected_rows", "see_alerts", "handle_owned_alerts", "time_travel",
              "see_catalog", "edit_catalog", "answer_requests"}),
    Role("auditor", name="Auditor", home="/ingestion", acts_for="dsb",
         may={"see_feed_health", "audit_access", "authorise_purge", "time_travel", "see_catalog", "see_sharing"}),
    Role("admin", name="Administrator", home="/users", may={"manage_users", "see_catalog"}),
    Role("citizen", name="Citizen", scope="person", home="/my-data", may={"see_own_data_use", "see_catalog"}),
    # 部门业务人员: a civil-affairs clerk verifies a household's status without asking for paper.
    Role("officer", name="Department officer", demo_user="clerk", demo_scope="civil", scope="department", home="/catalog",
         may={"see_catalog", "request_data"}),
)


def extract_names(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str, tuple[str, str] | str, list[str]]]:
    """Babel extraction method for this module (see ``babel.cfg``): its phrases as Python's
    extraction finds them, and each role's name with the context "role", read from the
    registry as the code sees it, so a role added is in the next extraction."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for r in REGISTRY.values():
        yield 0, "pgettext", ("role", r.name), []


def role_of(role_id: str | None) -> Role | None:
    """The registry's entry for ``role_id`` (None for a role it does not know: it may do nothing)."""
    return REGISTRY.get(role_id or "")


def roles_that(capability: str) -> list[str]:
    """The ids of the roles that may ``capability``, in the registry's order."""
    _known(capability)
    return [r.id for r in REGISTRY.values() if capability in r.may]


def _known(capability: str) -> str:
    # A misspelt capability would deny silently; it fails loudly instead.
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return capability


def page_capabilities(path: str) -> tuple[str, ...]:
    """The capabilities any one of which opens the page at ``path``, as the page declared them
    where it is registered (``allowed=``: one capability, or a tuple of them); () for an address
    no page declares (nobody may open it)."""
    for page in dash.page_registry.values():
        if page.get("path") == path:
            allowed = page.get("allowed") or ()
            return tuple(_known(c) for c in ((allowed,) if isinstance(allowed, str) else allowed))
    return ()


@dataclass(frozen=True)
class Principal:
    """Who is asking: the signed-in user's name, role and scope (district or department)."""

    username: str
    role: str
    scope: str | None = None
    subject: str | None = None  # a citizen's identity number as its keyed hash

    @property
    def scope_kind(self) -> ScopeKind | None:
        """What limits what this user sees: "district", "department", "person" or None."""
        entry = role_of(self.role)
        return entry.scope if entry else None

    def can(self, capability: str) -> bool:
        """Whether this user's role may ``capability`` (one of :data:`CAPABILITIES`)."""
        entry = role_of(self.role)
        return entry is not None and _known(capability) in entry.may

    def can_any(self, capabilities: Iterable[str]) -> bool:
        return any(self.can(c) for c in capabilities)

    def home_page(self) -> str:
        """Where signing in lands: a department that only handles requests has no feeds to show."""
        entry = role_of(self.role)
        if entry is None:
            return "/"
        if entry.handler_home and self.scope_kind == "department" and self.scope in HANDLER_DEPARTMENTS:
            return entry.handler_home
        return entry.home

    def may_open(self, path: str) -> bool:
        """Whether this user may open the page at ``path`` (checked on the server for every page and callback)."""
        return self.can_any(page_capabilities(path))

    @property
    def default_indicator(self) -> str:
        """What the explorer shows first: managers, how the city serves its people; others, the busiest series."""
        entry = role_of(self.role)
        return entry.default_indicator if entry else Role.default_indicator

    def sees_all_alerts(self) -> bool:
        return self.can("see_all_alerts")

    # ---------------------------------------------------------------- the loop from alert to closure
    # ``alert`` is a row of the snapshot's alerts (as stored, never as a browser describes it),
    # ``loop`` its LoopState from the operational store.

    def _owns(self, owner: tuple[str, str] | None) -> bool:
        """Whether ``owner`` (kind, code) is this user's department or district, and they handle its alerts."""
        return self.can("handle_owned_alerts") and owner is not None and owner == (self.scope_kind, self.scope)

    def sees_alert(self, alert: Mapping, loop: LoopState) -> bool:
        """Every alert for those who see all; a district's users their district's and those
        dispatched to it; a department's users their department's and those dispatched to it."""
        if self.sees_all_alerts():
            return True
        if self.scope_kind == "district" and alert.get("district_code") == self.scope:
            return True
        if self.scope_kind == "department" and alert.get("owner_scope") == self.scope:
            return True
        return self._owns(current_owner(alert, loop))

    def _dispatches_in(self, alert: Mapping) -> bool:
        """Whether this user may dispatch ``alert``: an unlimited dispatcher any, one limited to a
        district only that district's."""
        if not self.can("dispatch_alerts"):
            return False
        return self.scope_kind is None or (self.scope_kind == "district" and alert.get("district_code") == self.scope)

    def dispatch_targets(self, alert: Mapping, districts: list[str], departments: list[str]) -> list[tuple[str, str]]:
        """Owners this user may dispatch ``alert`` to: an unlimited dispatcher any district or
        department, a district's (own district's alerts) their district or a department; else none."""
        if not self._dispatches_in(alert):
            return []
        if self.scope_kind == "district":
            return [("district", self.scope)] + [("department", d) for d in departments]
        return [("district", d) for d in districts] + [("department", d) for d in departments]

    def may_dispatch(self, alert: Mapping, loop: LoopState) -> bool:
        """Dispatchers dispatch (or re-dispatch) an alert waiting on an owner; a new one only while
        its condition holds."""
        if loop.state not in ALLOWED_FROM["dispatch"] or (loop.state == "new" and alert.get("status") != "open"):
            return False
        return self._dispatches_in(alert)

    def may_handle(self, alert: Mapping, loop: LoopState) -> bool:
        """The current owner records what was done: the department's steward or the district's manager."""
        return loop.state in ALLOWED_FROM["handle"] and self._owns(current_owner(alert, loop))

    def may_evaluate(self, alert: Mapping, loop: LoopState) -> bool:
        """The evaluator (the city manager) closes a handled alert with an evaluation, or returns it."""
        return self.can("evaluate_alerts") and loop.state == "handled"

    def alert_actions(self, alert: Mapping, loop: LoopState) -> list[str]:
        """The steps this user may take on ``alert`` now, in the loop's order (alert_loop.STEPS)."""
        may = {"dispatch": self.may_dispatch, "handle": self.may_handle, "close": self.may_evaluate, "return": self.may_evaluate}
        return [step for step in STEPS if may[step](alert, loop)]


def natural_owner(alert: Mapping) -> tuple[str, str] | None:
    """Who owns an alert nobody dispatched: the department or district the warehouse named
    (``owner_kind``/``owner_scope``); None for the city's own (the city manager's)."""
    scope = alert.get("owner_scope")
    if not scope:
        return None
    kind = alert.get("owner_kind")
    if "owner_kind" not in alert:  # a snapshot published before owner kinds: a district owns its own district's
        kind = "district" if scope == alert.get("district_code") else "department"
    return (kind, scope) if kind in OWNER_KINDS else None


def current_owner(alert: Mapping, loop: LoopState) -> tuple[str, str] | None:
    """The owner of the latest dispatch, else the natural owner."""
    if loop.owner_kind and loop.owner_code:
        return (loop.owner_kind, loop.owner_code)
    return natural_owner(alert)
