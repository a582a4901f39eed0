"""Audit (auditors): who looked at whose personal data, when and why; search by identity number."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from cockpit.components import data_grid, logged_purpose, page, text_input
from cockpit.context import ctx, guard
from cockpit.i18n import N_, _, columns, label
from cockpit.roles import role_of

PATH = "/audit"
dash.register_page(__name__, path=PATH, name=N_("Audit"), order=4, allowed="audit_access")
COLUMNS = ["at", "username", "role", "scope", "action", "delivery_id", "rows", "subjects", "purpose", "legal_basis"]


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        html.H3(_("Audit")),
        html.P(_("Every access to personal data and every sign-in, newest first: who, in which role and for which department, "
                 "what, how many people, for what purpose and on which legal basis. Search by identity number for every access "
                 "to one person's data; the search itself is logged.")),
        text_input("au-id", _("Search by identity number"), debounce=True, style={"maxWidth": "28rem"}),
        # What was done, why and on what basis are read whole (a department's name, a case and its purpose wrap).
        data_grid("au-table", columns(COLUMNS), page_size=25, wrap=("role", "scope", "action", "purpose", "legal_basis"),
                  wrap_width=140),
    ])


@callback(Output("au-table", "rowData"), Input("au-id", "value"))
def render(id_number):
    who = guard(PATH)
    id_number = (id_number or "").strip() or None
    # The number is matched through its keyed hash; it is never stored or shown in clear. The
    # auditor's own search is an access to that person's record, and is logged like any other.
    if id_number:
        ctx().store.log_access(who.username, who.role, "audit_search", delivery_id=None, rows=0, id_numbers=[id_number],
                               purpose="audit of accesses to one person's data", scope=role_of(who.role).acts_for,
                               legal_basis="statutory_duty")
    return [{**e, "at": e["at"].replace("T", " "), "role": label("role", e["role"]) if e["role"] else "",
             "action": label("action", e["action"]),
             "scope": _acted_for(e),
             "purpose": logged_purpose(e), "legal_basis": label("legal_basis", e["legal_basis"]) if e["legal_basis"] else ""}
            for e in ctx().store.access_log(id_number)]


def _acted_for(entry: dict) -> str:
    """The department or district the user acted for (an officer's department, a district
    manager's district), or the department an unscoped role acts for (the auditor's bureau)."""
    scope = entry["scope"] or getattr(role_of(entry["role"]), "acts_for", None)
    return label("owner", scope) if scope else ""
