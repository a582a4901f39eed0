"""Users (administrators): who may sign in, with which role and scope. Every change is
confirmed in the page first and written to the access audit log; no one changes their own
account here (separation of duties: the administrator cannot make itself anything else, the
auditor cannot change users)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html

from cockpit.auth import UserRefused, add_user, check_user, scopes_for
from cockpit.components import button, confirmation, confirmation_toggle, data_grid, page, scope_name, select, text_input
from cockpit.context import ctx, guard
from cockpit.i18n import N_, _, columns, label
from cockpit.roles import REGISTRY, role_of

PATH = "/users"
dash.register_page(__name__, path=PATH, name=N_("Users"), order=6, allowed="manage_users")
COLUMNS = ["username", "role", "scope", "created_at", "disabled"]
ACTIONS = {"us-save": "save", "us-disable": "disable", "us-enable": "enable"}


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        data_grid("us-table", columns(COLUMNS), page_size=25, select=True, sort=True),
        html.Div([
            button(_("Disable"), "us-disable", kind="danger"), button(_("Enable"), "us-enable"),
        ], className="toolbar"),
        html.H3(_("Add or update a user")),
        html.Div([
            text_input("us-name", _("User name")),
            select("us-role", [{"label": label("role", r), "value": r} for r in REGISTRY], placeholder=_("Role"),
                   style={"minWidth": "14rem"}),
            # Names, never codes: the districts or departments the chosen role may be limited to.
            select("us-scope", placeholder=_("Scope (district or department)"), disabled=True,
                   style={"minWidth": "17rem"}),
            # Wide enough for their placeholders: an empty field says what it wants.
            text_input("us-id-number", _("Citizen's identity number (citizens only)"),
                       style={"minWidth": "20rem"}),
            text_input("us-password", _("Password (8+ characters)"), kind="password",
                       style={"minWidth": "14rem"}),
            button(_("Save"), "us-save", kind="primary"),
        ], className="toolbar"),
        html.Div(id="us-hint", className="notice"),
        html.Div(id="us-result", className="notice", role="status"),
        confirmation("us"),
    ])


@callback(Output("us-table", "rowData"), Input("us-result", "children"))
def render(_unused):
    guard(PATH)
    return [{**u, "role": label("role", u["role"]), "scope": scope_name(u["scope"]),
             "created_at": u["created_at"].replace("T", " "), "disabled": _("yes") if u["disabled"] else ""}
            for u in ctx().store.users()]


@callback(Output("us-scope", "data"), Output("us-scope", "disabled"), Output("us-scope", "value"), Input("us-role", "value"))
def scope_options(role):
    """The scopes the chosen role may have, by name; none (and the list closed) for the others."""
    guard(PATH)
    choices = scopes_for(role)
    return [{"label": scope_name(c), "value": c} for c in choices], not choices, None


def _log(who, action: str, target: str) -> None:
    ctx().store.log_access(who.username, who.role, action, delivery_id=None, rows=0, id_numbers=[], purpose=target)


def _problem(who, action: str, name, role, scope, id_number, password, selected) -> str | None:
    """Why ``action`` cannot be done as the form and the chosen row stand (None: it can)."""
    if action == "save":
        if not name:
            return _("Enter a user name.")
        if name == who.username:
            return _("You cannot change your own account here.")
        try:
            check_user(name, password or "", role or "", scope, id_number)
        except UserRefused as e:
            return _("Not saved: {reason}").format(reason=e.words())
        return None
    target = _chosen(selected)
    if target is None or ctx().store.user(target) is None:
        return _("Select a user first.")
    if target == who.username:
        return _("You cannot disable or enable yourself.")
    return None


def _chosen(selected) -> str | None:
    """The user name of the chosen row (the grid's ``selectedRows``); the callers check it
    against the store, so a forged row names at most a real user the administrator may change."""
    if not isinstance(selected, list) or not selected or not isinstance(selected[0], dict):
        return None
    name = selected[0].get("username")
    return name if isinstance(name, str) else None


def _form(name, role, scope, id_number):
    entry = role_of(role)
    return (name or "").strip(), role, (scope or None) if entry and entry.listed_scope else None, (id_number or "").strip() or None


@callback(Output("us-pending", "data"), Output("us-modal-text", "children"), Output("us-hint", "children"),
          Input("us-save", "n_clicks"), Input("us-disable", "n_clicks"), Input("us-enable", "n_clicks"),
          State("us-name", "value"), State("us-role", "value"), State("us-scope", "value"), State("us-id-number", "value"),
          State("us-password", "value"), State("us-table", "selectedRows"), prevent_initial_call=True)
def ask(_s, _d, _e, name, role, scope, id_number, password, selected):
    """An action asked for: checked, then put to the administrator to confirm (nothing is written yet)."""
    who = guard(PATH)
    action = ACTIONS.get(dash.ctx.triggered_id)
    name, role, scope, id_number = _form(name, role, scope, id_number)
    problem = _problem(who, action, name, role, scope, id_number, password, selected) if action else _("Unknown action.")
    if problem:
        return None, "", problem
    if action == "save":
        exists = ctx().store.user(name) is not None
        where = _(" ({scope})").format(scope=scope_name(scope)) if scope else ""
        question = _("Update user {name} as {role}{where}?") if exists else _("Add user {name} as {role}{where}?")
        text = question.format(name=name, role=label("role", role), where=where)
        return {"action": action, "name": name}, text, ""
    target = _chosen(selected)
    text = (_("Disable user {target}?") if action == "disable" else _("Enable user {target}?")).format(target=target)
    return {"action": action, "name": target}, text, ""


confirmation_toggle("us", PATH, "us-result")


@callback(Output("us-result", "children"), Output("us-password", "value"), Input("us-yes", "n_clicks"), State("us-pending", "data"),
          State("us-name", "value"), State("us-role", "value"), State("us-scope", "value"), State("us-id-number", "value"),
          State("us-password", "value"), State("us-table", "selectedRows"), prevent_initial_call=True)
def change(_unused, pending, name, role, scope, id_number, password, selected):
    """Do the confirmed action. Everything is judged again here, from the store and the form as
    it stands, never from what the pending request says: a forged request changes nothing."""
    who = guard(PATH)
    pending = pending if isinstance(pending, dict) else {}
    action = pending.get("action")
    name, role, scope, id_number = _form(name, role, scope, id_number)
    if action not in ACTIONS.values():
        return _("Unknown action."), dash.no_update
    problem = _problem(who, action, name, role, scope, id_number, password, selected)
    target = name if action == "save" else _chosen(selected)
    if not problem and pending.get("name") != target:
        problem = _("The form changed after you asked; ask again.")
    if problem:
        return problem, dash.no_update
    if action == "save":
        add_user(ctx().store, name, password or "", role, scope, id_number)
        _log(who, "user_saved", f"{name} ({role}{'/' + scope if scope else ''})")
        return _("Saved user {name}").format(name=name), ""
    ctx().store.set_disabled(target, action == "disable")
    _log(who, f"user_{action}d", target)
    return (_("Disabled {target}") if action == "disable" else _("Enabled {target}")).format(target=target), \
        dash.no_update
