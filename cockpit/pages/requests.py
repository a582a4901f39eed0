"""Data requests (按需申请): a department's officer asks for a catalog entry and takes the key of its
grant; the owning department's steward answers; the city manager and the auditor see how each
department shares.

The page opens for any of three capabilities and shows each caller the parts of its own:

- ``request_data`` (an officer, limited to its department): a new request — an entry the
  catalog shares (not 不予共享), what it is for (使用用途), where it is used (应用场景), the legal
  basis, the data items needed and for how many days — saved as a draft or submitted; its
  department's requests and where each stands (submitted, due, answered by whom and when, why
  refused, from when to when a grant runs); on an approved grant, a key for its system, shown
  once, with the headers every call sends (contract §6); a grant's keys, each revocable.
- ``answer_requests`` (a steward, limited to its department): the requests for its
  department's entries, the most urgent first (overdue, then due soonest), to approve or to
  refuse with a reason, and its grants, to revoke with a reason. The data resources bureau's
  steward also sees every request left unanswered past its due time, and may answer it.
- ``see_sharing`` (the city manager, the auditor): how each department shares
  (``warehouse/sharing/measures.py``), which entries are reused, and every request.

Every action is judged on the server: the capability and the department here, then again by
the store inside its write (``warehouse/ops/share_requests.py``), so a forged callback changes
nothing. Issuing and revoking a key is written to the access audit log; a request's steps are
kept, with who and when, by the store. Requests live in the operational store, not in a
snapshot: the page shows them as they stand now, whichever day the cockpit shows.
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html

from api.interfaces import INTERFACES
from cockpit.components import button, confirmation, confirmation_toggle, data_grid, page, scope_name, select, text_input
from cockpit.context import ctx, guard
from cockpit.i18n import N_, _, label, lang, ngettext, pct, pgettext, time_text
from warehouse.ops.share_requests import RequestRefused
from warehouse.sharing import catalog, measures
from warehouse.sharing.catalog import OPENAPI_PATH, Entry
from warehouse.sharing.requests import ANSWER_WORKING_DAYS, ESCALATION_DEPARTMENT, MAX_DAYS, REASON_MAX, may_answer

PATH = "/requests"
dash.register_page(__name__, path=PATH, name=N_("Data requests"), order=9,
                   allowed=("request_data", "answer_requests", "see_sharing"))
DEFAULT_DAYS = 90
KEY_ACTIONS = {"issue": "share_key_issue", "revoke": "share_key_revoke"}  # the access log's (labels.ACTIONS)

# Grid headers, by column id.
HEADERS = {
    "entry": N_("Entry"), "owner": N_("Provided by"), "department": N_("Requested by"), "state": N_("State"),
    "submitted_at": N_("Submitted"), "due_at": N_("Answer due"), "answered_by": N_("Answered by"),
    "answered_at": N_("Answered at"), "reason": N_("Reason"), "active_from": N_("Active from"), "expires_at": N_("Active to"),
    "answer": N_("Answer"), "active": N_("Grant period"),
    "purpose": N_("Purpose"), "scenario": N_("Scenario"), "legal_basis": N_("Legal basis"), "items": N_("Data items"),
    "days": N_("Days"), "key_id": N_("Key"), "issued_by": N_("Issued by"), "issued_at": N_("Issued"),
    "revoked_at": N_("Revoked"), "at": N_("When"), "step": N_("Step"), "actor": N_("By"), "scope": N_("Department"),
    # Sharing as a measure.
    "received": N_("Requests received"), "answered": N_("Answered"), "on_time": N_("Answered in time"),
    "on_time_rate": N_("On-time answers"), "median_working_days": N_("Working days to answer (median)"),
    "refused": N_("Refused"), "overdue": N_("Unanswered past due"), "active_grants": N_("Grants in use"),
    "calls": N_("Calls served"), "departments": N_("Departments using it"),
}
# Each grid fits a 1440-pixel screen whole: who answered and when in one column, a grant's period in
# another; the queue leaves the submission time to the request's history (its due time follows from it).
MINE = ["entry", "owner", "state", "submitted_at", "due_at", "answer", "reason", "active"]
QUEUE = ["due_at", "department", "entry", "purpose", "scenario", "legal_basis", "items", "days", "state"]
KEYS = ["key_id", "state", "issued_by", "issued_at", "revoked_at"]
HISTORY = ["at", "step", "actor", "scope", "reason"]
BY_OWNER = ["owner", "received", "answered", "on_time", "on_time_rate", "median_working_days", "refused", "overdue",
            "active_grants", "calls"]
REUSE = ["entry", "owner", "departments", "active_grants"]
ALL = ["entry", "department", "owner", "state", "submitted_at", "due_at", "answer"]
# Long text wraps (department names, an overdue due time) rather than ending in "…": the narrowest
# each wrapped column gets, in pixels (others WRAP_WIDTH).
WRAP_WIDTH = 130
WRAP_MIN = {"due_at": 170, "entry": 160, "reason": 160, "answer": 170, "active": 170}
# Columns whose text is on lines of its own (a time whole on one, who or "overdue" on the next).
LINES = {"due_at", "answer", "active"}
VIEWS = {"answer": N_("To answer"), "granted": N_("Granted"), "all": N_("All")}
# Why the store refused (RequestRefused.code), in words; a field's name stands for its text being wrong.
REFUSED = {
    "not_shared": N_("This entry is not shared, so it cannot be requested."),
    "sharing_class": N_("This entry is not shared, so it cannot be requested."),
    "no_items": N_("Choose the data items you need."),
    "days": N_("Ask for 1 to {max} days."),
    "purpose": N_("Write what the data is for (plain text, up to {limit} characters)."),
    "scenario": N_("Write where it is used (plain text, up to {limit} characters)."),
    "legal_basis": N_("Write the legal basis (plain text, up to {limit} characters)."),
    "reason": N_("Give the reason (plain text, up to {limit} characters)."),
    "state": N_("The request no longer stands where this can be done; see where it stands now."),
}
NOT_YOURS = N_("You may not do that to this request.")


def _grid(id: str, cols: list[str], data: list[dict] | None = None, **kw):
    grid = data_grid(id, [{"name": _(HEADERS[c]), "id": c} for c in cols], data, wrap_width=WRAP_WIDTH, **kw)
    for col in grid.columnDefs:
        if col["wrapText"] and col["field"] in WRAP_MIN:
            col["minWidth"] = WRAP_MIN[col["field"]]
        if col["wrapText"] and col["field"] in LINES:
            col["cellStyle"] = {"whiteSpace": "pre-line"}
    return grid


def _words(e: RequestRefused) -> str:
    return _(REFUSED.get(e.code, NOT_YOURS)).format(max=MAX_DAYS, limit=REASON_MAX)


# ---------------------------------------------------------------------------- the catalog's words

def _entries() -> dict[str, Entry]:
    """The catalog with its owners' edits (the sharing class an owner set is the one that
    counts); no snapshot is read: a request depends on what an entry is, not on its figures."""
    return catalog.entries(store=ctx().store)


def _requestable(entries: dict[str, Entry]) -> list[Entry]:
    """The entries an officer may ask for: every one the catalog shares (not 不予共享)."""
    return sorted((e for e in entries.values() if e.sharing_class != "none"), key=lambda e: (e.kind, e.code))


def _entry_name(entries: dict[str, Entry], code: str) -> str:
    e = entries.get(code)
    return e.title(lang()) if e else code  # an entry the code no longer declares: its code is all there is


def _item_name(e: Entry | None, name: str) -> str:
    item = e.item(name) if e else None
    return pgettext("data item", item.title) if item else name


def _items_text(e: Entry | None, names) -> str:
    return pgettext("list separator", ", ").join(_item_name(e, n) for n in names)


# ---------------------------------------------------------------------------- a request in words

def _answer_step(req: dict) -> dict | None:
    return next((s for s in reversed(req["steps"]) if s["step"] in ("approve", "refuse")), None)


def _answered_by(req: dict) -> str:
    step = _answer_step(req)
    if step is None:
        return ""
    if step["actor"] == "system":
        return _("At once (shared unconditionally)")
    return f"{scope_name(step['scope'])} · {step['actor']}"


def _due(status, now: dt.datetime) -> str:
    if status.due_at is None:
        return ""
    late = status.state == "submitted" and status.escalated(now)
    return time_text(status.due_at) + ("\n" + _(" (overdue)").strip() if late else "")


def _row(req: dict, entries: dict[str, Entry], now: dt.datetime) -> dict:
    """One request as the grids show it: names, never codes."""
    s = req["status"]
    e = entries.get(req["entry_code"])
    return {
        "id": str(req["request_id"]), "request_id": req["request_id"], "entry": _entry_name(entries, req["entry_code"]),
        "owner": scope_name(req["owner"]), "department": scope_name(req["department"]),
        "state": label("request_state", s.current(now)), "submitted_at": time_text(s.submitted_at), "due_at": _due(s, now),
        "answered_by": _answered_by(req), "answered_at": time_text(s.answered_at),
        "answer": "\n".join(t for t in (time_text(s.answered_at), _answered_by(req)) if t),
        "active": f"{time_text(s.active_from)} –\n{time_text(s.expires_at)}" if s.active_from else "",
        "reason": (s.reason or "") if s.state in ("refused", "revoked") else "",
        "active_from": time_text(s.active_from), "expires_at": time_text(s.expires_at),
        "purpose": req["purpose"], "scenario": req["scenario"], "legal_basis": req["legal_basis"],
        "items": _items_text(e, req["items"]), "days": req["days"],
        "overdue": int(s.state == "submitted" and s.escalated(now)),
    }


def _history(req: dict) -> list[dict]:
    return [{"at": time_text(s["at"]), "step": label("request_step", s["step"]), "actor": s["actor"],
             "scope": scope_name(s["scope"]), "reason": s["reason"] or ""} for s in req["steps"]]


def _details(req: dict, entries: dict[str, Entry], now: dt.datetime, grid_id: str) -> list:
    """What was asked, by whom, and every step with who and when."""
    e = entries.get(req["entry_code"])
    s = req["status"]
    facts = [
        (_("Entry"), _entry_name(entries, req["entry_code"])),
        (_("Provided by"), scope_name(req["owner"])), (_("Requested by"), f"{scope_name(req['department'])} · {req['requester']}"),
        (_("Sharing class"), label("sharing_class", req["sharing_class"])),
        (_("Purpose"), req["purpose"]), (_("Scenario"), req["scenario"]), (_("Legal basis"), req["legal_basis"]),
        (_("Data items"), _items_text(e, req["items"])), (_("Days"), str(req["days"])),
        (_("State"), label("request_state", s.current(now))),
    ]
    if s.reason and s.state in ("refused", "revoked"):
        facts.append((_("Reason"), s.reason))
    return [html.Dl([part for k, v in facts for part in (html.Dt(k), html.Dd(v))], className="facts"),
            html.H4(_("History")), _grid(grid_id, HISTORY, _history(req), wrap=("scope", "reason"))]


def _chosen(selected) -> int | None:
    """The request number of a grid's chosen row, as sent: always looked up again among the
    requests the caller may see, so a forged number reaches nothing."""
    if not isinstance(selected, list) or not selected or not isinstance(selected[0], dict):
        return None
    rid = selected[0].get("request_id")
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else None


def _department(who) -> str | None:
    """The department a caller limited to one acts for (None for any other)."""
    return who.scope if who.scope_kind == "department" and who.scope else None


# ---------------------------------------------------------------------------- layout

@page(PATH, needs_data=False, query=True)
def layout(who, entry: str | None = None, **_unused) -> html.Div:
    parts: list = []
    if who.can("request_data"):
        parts += _officer_part(entry)
    if who.can("answer_requests"):
        parts += _steward_part(who)
    if who.can("see_sharing"):
        parts += _sharing_part()
    return html.Div(parts, className="requests")


def _officer_part(asked: str | None) -> list:
    entries = _entries()
    shared = _requestable(entries)
    chosen = asked if isinstance(asked, str) and asked in {e.code for e in shared} else None
    options = [{"label": f"{e.title(lang())} · {scope_name(e.owner)} · {label('sharing_class', e.sharing_class)}", "value": e.code}
               for e in shared]
    form = html.Div([
        html.H3(_("New request")),
        select("rq-entry", options, value=chosen, placeholder=_("Entry of the catalog"), className="wide",
               style={"minWidth": "28rem"}, label=_(HEADERS["entry"])),
        html.Div(id="rq-entry-about", className="delta"),
        select("rq-items", multi=True, placeholder=_("Data items needed"), style={"minWidth": "28rem"}, label=_(HEADERS["items"])),
        dmc.Textarea(id="rq-purpose", placeholder=_("Purpose: what the data is for"), autosize=True, minRows=2,
                     size="sm", inputProps={"maxLength": REASON_MAX}, label=_(HEADERS["purpose"])),
        dmc.Textarea(id="rq-scenario", placeholder=_("Scenario: the service or case it is used in"), autosize=True,
                     minRows=2, size="sm", inputProps={"maxLength": REASON_MAX}, label=_(HEADERS["scenario"])),
        text_input("rq-basis", _("Legal basis (law, regulation or document and article)"), inputProps={"maxLength": REASON_MAX},
                   style={"minWidth": "28rem"}, label=_(HEADERS["legal_basis"])),
        html.Div([
            text_input("rq-days", _("Days needed"), kind="number", value=DEFAULT_DAYS, min=1, max=MAX_DAYS,
                       description=_("Days the grant lasts once its key is issued (1 to {max})").format(max=MAX_DAYS)),
            button(_("Save as draft"), "rq-save"), button(_("Submit"), "rq-send-new", kind="primary"),
        ], className="toolbar"),
        html.Div(id="rq-new-result", className="notice", role="status"),
    ], className="card request-form")
    mine = html.Div([
        html.H3(_("Our department's requests and grants")),
        _grid("rq-mine", MINE, page_size=15, select=True, wrap=("entry", "owner", "due_at", "answer", "reason", "active"),
              row_classes={"overdue": "overdue"}),
        html.Div(id="rq-mine-detail", className="card"),
        html.Div([button(label("request_step", "submit"), "rq-send", kind="primary", disabled=True),
                  button(label("request_step", "activate"), "rq-issue", kind="primary", disabled=True)], className="toolbar"),
        html.Div(id="rq-mine-result", className="notice", role="status"),
        html.Div(id="rq-key-box"),
        html.H4(_("Keys of this grant")),
        _grid("rq-keys", KEYS, select=True),
        html.Div([button(_("Revoke the chosen key"), "rq-revoke-key", kind="danger", disabled=True)], className="toolbar"),
        html.Div(id="rq-mine-hint", className="notice"),
        confirmation("rqo"),
    ])
    return [form, mine]


def _steward_part(who) -> list:
    bureau = _department(who) == ESCALATION_DEPARTMENT
    note = _("The owner's answer is due within {days} working days of submission; a request left unanswered past that goes to the data resources bureau, which may answer it, and counts against the owner.").format(days=ANSWER_WORKING_DAYS)
    if bureau:
        note += _(" As the bureau, you also see every request other departments left unanswered past its due time.")
    return [html.Div([
        html.H3(_("Requests for our department's data")),
        html.P(note, className="delta"),
        select("rq-view", [{"label": _(words), "value": v} for v, words in VIEWS.items()], value="answer", className="picker"),
        _grid("rq-queue", QUEUE, page_size=15, select=True,
              wrap=("due_at", "department", "entry", "purpose", "scenario", "legal_basis", "items"),
              row_classes={"overdue": "overdue"}),
        html.Div(id="rq-queue-detail", className="card"),
        html.Div([
            text_input("rq-reason", _("Reason (required to refuse or revoke)"), className="wide",
                       inputProps={"maxLength": REASON_MAX}, style={"minWidth": "24rem"}),
            button(label("request_step", "approve"), "rq-approve", kind="primary", disabled=True),
            button(label("request_step", "refuse"), "rq-refuse", kind="danger", disabled=True),
            button(_("Revoke the grant"), "rq-revoke", kind="danger", disabled=True),
        ], className="toolbar"),
        html.Div(id="rq-queue-hint", className="notice"),
        html.Div(id="rq-queue-result", className="notice", role="status"),
        confirmation("rqs"),
    ])]


def _sharing_part() -> list:
    """How every department shares (the city manager's and the auditor's view), as it stands now."""
    store, now = ctx().store, dt.datetime.now()
    requests = store.share_requests()
    entries = _entries()
    calls = store.calls_served()
    owners = _call_owners(entries)
    rows = [{**r, "owner": scope_name(r["owner"]), "on_time_rate": pct(r["on_time_rate"], 0),
             "median_working_days": "—" if r["median_working_days"] is None else f"{r['median_working_days']:g}"}
            for r in measures.by_owner(requests, now, measures.calls_by_owner(calls, owners))]
    reused = [{"entry": _entry_name(entries, r["entry_code"]), "owner": scope_name(r["owner"]), "departments": r["departments"],
               "active_grants": r["active_grants"]} for r in measures.reuse(requests, now)]
    unowned = measures.unowned_calls(calls, owners)
    return [html.Div([
        html.H3(_("How departments share, by providing department")),
        html.P(_("On-time answers = requests answered within {days} working days ÷ requests answered or past their due time; an entry shared unconditionally is answered at once. Calls served = interface calls answered from the department's data (from the access log).").format(days=ANSWER_WORKING_DAYS),
               className="delta"),
        _grid("rq-by-owner", BY_OWNER, rows, sort=True, wrap=("owner",)),
        html.P(ngettext("{count} call served by an interface whose providing department is not known",
                        "{count} calls served by interfaces whose providing department is not known", unowned).format(count=unowned),
               className="delta") if unowned else None,
        html.H4(_("Entries reused by other departments")),
        _grid("rq-reuse", REUSE, reused, sort=True, wrap=("entry", "owner")),
        html.H4(_("Every request")),
        _grid("rq-all", ALL, [_row(r, entries, now) for r in requests if r["status"].state != "draft"], page_size=20, sort=True,
              row_classes={"overdue": "overdue"},
              wrap=("entry", "department", "owner", "due_at", "answer")),
    ], className="card")]


def _call_owners(entries: dict[str, Entry]) -> dict[str, str]:
    """The providing department of each interface's access-log action (``api/interfaces.py``:
    an answered call is logged as ``api_<name>``): the owner of the entry it answers from."""
    return {i.action: entries[i.entry].owner for i in INTERFACES.values() if i.entry in entries}


# ---------------------------------------------------------------------------- the officer

def _own(who, request_id: int | None) -> dict | None:
    """A request of the officer's department (None for another's, or none)."""
    dept = _department(who)
    if request_id is None or dept is None:
        return None
    req = ctx().store.share_request(request_id)
    return req if req is not None and req["department"] == dept else None


@callback(Output("rq-items", "data"), Output("rq-items", "value"), Output("rq-entry-about", "children"), Input("rq-entry", "value"))
def entry_items(code):
    """The chosen entry's data items to pick from, and what its owner says of sharing it."""
    who = guard(PATH)
    if not who.can("request_data"):
        raise dash.exceptions.PreventUpdate
    e = _entries().get(code) if isinstance(code, str) else None
    if e is None or e.sharing_class == "none":
        return [], [], ""
    items = [{"label": _item_name(e, i.name) + (_(" (personal)") if i.personal else ""), "value": i.name} for i in e.items]
    about = [_("Provided by {owner} · {sharing}: {basis}").format(owner=scope_name(e.owner), sharing=label("sharing_class", e.sharing_class),
                                                                  basis=e.basis(lang()))]
    if e.sharing_class == "unconditional":
        about.append(_(" Granted as soon as it is submitted."))
    if e.interface:
        about.append(_(" Answered by the interface {method} {path}.").format(method=e.interface[0], path=e.interface[1]))
    return items, [], "".join(about)


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@callback(Output("rq-new-result", "children"), Input("rq-save", "n_clicks"), Input("rq-send-new", "n_clicks"),
          State("rq-entry", "value"), State("rq-items", "value"), State("rq-purpose", "value"), State("rq-scenario", "value"),
          State("rq-basis", "value"), State("rq-days", "value"), prevent_initial_call=True)
def new_request(_save, _send, code, items, purpose, scenario, basis, days):
    """Save the form as a draft or submit it. The entry, its owner and class are the catalog's as
    it stands, never what the browser says; the items must be the entry's own."""
    who = guard(PATH)
    dept = _department(who)
    if not who.can("request_data") or dept is None:
        return _(NOT_YOURS)
    e = _entries().get(code) if isinstance(code, str) else None
    if e is None:
        return _("Choose an entry of the catalog.")
    chosen = [i for i in items if isinstance(i, str)] if isinstance(items, list) else []
    if not chosen or any(e.item(i) is None for i in chosen):
        return _(REFUSED["no_items"])
    n = _whole(days)
    if n is None:
        return _(REFUSED["days"]).format(max=MAX_DAYS)
    submit = dash.ctx.triggered_id == "rq-send-new"
    try:
        rid = ctx().store.add_share_request(entry_code=e.code, owner=e.owner, sharing_class=e.sharing_class, items=chosen,
                                            department=dept, requester=who.username, purpose=purpose, scenario=scenario,
                                            legal_basis=basis, days=n, submit=submit, role=who.role)
    except RequestRefused as refused:
        return _words(refused)
    state = ctx().store.share_request(rid)["status"].state
    if not submit:
        return _("Saved as a draft: request {number} for {entry}").format(number=rid, entry=e.title(lang()))
    if state == "approved":
        return _("Request {number} for {entry} is granted (shared unconditionally): issue its key below.").format(number=rid, entry=e.title(lang()))
    return _("Submitted request {number} for {entry}; {owner} answers by {due}.").format(
        number=rid, entry=e.title(lang()), owner=scope_name(e.owner), due=time_text(ctx().store.share_request(rid)["status"].due_at))


@callback(Output("rq-mine", "rowData"), Output("rq-mine", "selectedRows"), Input("rq-new-result", "children"),
          Input("rq-mine-result", "children"), State("rq-mine", "selectedRows"))
def my_requests(_new, _done, selected):
    """The department's requests, newest first; the chosen one stays chosen."""
    who = guard(PATH)
    dept = _department(who)
    if not who.can("request_data") or dept is None:
        raise dash.exceptions.PreventUpdate
    now, entries = dt.datetime.now(), _entries()
    rows = [_row(r, entries, now) for r in ctx().store.share_requests(department=dept)]
    rid = _chosen(selected)
    return rows, [r for r in rows if r["request_id"] == rid]


@callback(Output("rq-mine-detail", "children"), Output("rq-send", "disabled"), Output("rq-issue", "disabled"),
          Output("rq-issue", "children"), Output("rq-keys", "rowData"), Input("rq-mine", "selectedRows"),
          Input("rq-mine-result", "children"))
def my_request(selected, _done):
    """The chosen request: what was asked and its history, what may be done, its keys."""
    who = guard(PATH)
    if not who.can("request_data"):
        raise dash.exceptions.PreventUpdate
    req = _own(who, _chosen(selected))
    if req is None:
        return _("Choose a request to see where it stands."), True, True, label("request_step", "activate"), []
    now = dt.datetime.now()
    state = req["status"].current(now)
    keys = [{"id": k["key_id"], "key_id": k["key_id"], "issued_by": k["issued_by"], "issued_at": time_text(k["issued_at"]),
             "revoked_at": time_text(k["revoked_at"]), "state": _("Revoked") if k["revoked_at"] else _("In use")}
            for k in ctx().store.api_keys(req["request_id"])] if state in ("active", "expired", "revoked") else []
    issue = _("Issue another key") if state == "active" else label("request_step", "activate")
    return _details(req, _entries(), now, "rq-mine-history"), state != "draft", state not in ("approved", "active"), issue, keys


def _key_request(dept: str, key_id) -> int | None:
    """The request of the department's whose key ``key_id`` is (None for another's or none)."""
    if not isinstance(key_id, str):
        return None
    store = ctx().store
    return next((r["request_id"] for r in store.share_requests(department=dept)
                 if any(k["key_id"] == key_id for k in store.api_keys(r["request_id"]))), None)


def _key_box(key: str, entry: Entry | None) -> html.Div:
    """The key, shown this once, and how its system calls with it (contract §6)."""
    officer, case = _("the user name of the officer the call is made for"), _("the case the call serves")
    headers = "\n".join([f"Authorization: Bearer {key}", f"X-Officer-Id: <{officer}>", f"X-Case-No: <{case}>"])
    where = [html.P(_("It calls {method} {path} (described at {openapi}).").format(
        method=entry.interface[0], path=entry.interface[1], openapi=OPENAPI_PATH))] if entry is not None and entry.interface else []
    return html.Div([
        html.B(_("The key, shown only now: copy it into your department's system. City Brain keeps only a hash of it; if it is lost, issue another and revoke this one.")),
        html.Div([html.Code(key, id="rq-key"), dcc.Clipboard(target_id="rq-key", title=_("Copy"), className="copy")], className="key-line"),
        html.P(_("Every call sends these headers; a call without the officer or the case number is refused and not answered:")),
        html.Pre(headers, id="rq-headers"),
        *where,
    ], className="card key-box")


@callback(Output("rqo-pending", "data"), Output("rqo-modal-text", "children"), Output("rq-mine-hint", "children"),
          Output("rq-revoke-key", "disabled"), Input("rq-revoke-key", "n_clicks"), Input("rq-keys", "selectedRows"),
          prevent_initial_call=True)
def ask_revoke_key(_clicks, keys):
    """Revoking a key is put to the officer to confirm first (nothing is written yet)."""
    who = guard(PATH)
    if not who.can("request_data"):
        raise dash.exceptions.PreventUpdate
    key_id = keys[0].get("key_id") if isinstance(keys, list) and keys and isinstance(keys[0], dict) else None
    live = isinstance(key_id, str) and not keys[0].get("revoked_at")
    if dash.ctx.triggered_id != "rq-revoke-key":
        return None, "", "", not live
    if not live:
        return None, "", _("Choose a key in use first."), True
    return {"key_id": key_id}, _("Revoke key {key}? Calls made with it are refused from now on.").format(key=key_id), "", False


confirmation_toggle("rqo", PATH, "rq-mine-result")


@callback(Output("rq-mine-result", "children"), Output("rq-key-box", "children"), Input("rq-send", "n_clicks"),
          Input("rq-issue", "n_clicks"), Input("rqo-yes", "n_clicks"), State("rq-mine", "selectedRows"),
          State("rqo-pending", "data"), prevent_initial_call=True)
def officer_act(_send, _issue, _yes, selected, pending):
    """Submit a draft, issue a key (activating an approved grant), or revoke a confirmed key; the
    department is checked here and again by the store."""
    who = guard(PATH)
    dept = _department(who)
    if not who.can("request_data") or dept is None:
        return _(NOT_YOURS), ""
    store, action = ctx().store, dash.ctx.triggered_id
    if action == "rqo-yes":
        key_id = pending.get("key_id") if isinstance(pending, dict) else None
        rid = _key_request(dept, key_id)
        if rid is None or not store.revoke_key(key_id, scope=dept):
            return _("That key is not in use by your department."), ""
        store.log_access(who.username, who.role, KEY_ACTIONS["revoke"], delivery_id=None, rows=0, id_numbers=[],
                         purpose=f"request {rid}", scope=dept)
        return _("Key {key} revoked.").format(key=key_id), ""
    req = _own(who, _chosen(selected))
    if req is None:
        return _(NOT_YOURS), ""
    rid = req["request_id"]
    try:
        if action == "rq-send":
            s = store.add_share_step(rid, "submit", actor=who.username, role=who.role, scope=dept)
            return _("Submitted request {number}; the answer is due by {due}.").format(number=rid, due=time_text(s.due_at)), ""
        if action == "rq-issue":
            key = store.issue_key(rid, actor=who.username, role=who.role, scope=dept)
            store.log_access(who.username, who.role, KEY_ACTIONS["issue"], delivery_id=None, rows=0, id_numbers=[],
                             purpose=f"request {rid}", scope=dept)
            return _("Key issued for request {number}.").format(number=rid), _key_box(key, _entries().get(req["entry_code"]))
    except RequestRefused as refused:
        return _words(refused), ""
    return _("Unknown action."), ""


# ---------------------------------------------------------------------------- the steward

def _answerable(who, now: dt.datetime) -> list[dict]:
    """The requests a steward deals with: those for its department's entries, and for the data
    resources bureau's every other request left unanswered past its due time."""
    dept = _department(who)
    if dept is None:
        return []
    store = ctx().store
    own = store.share_requests(owner=dept)
    if dept != ESCALATION_DEPARTMENT:
        return own
    escalated = [r for r in store.share_requests() if r["owner"] != dept and may_answer(dept, r["owner"], r["status"], now)]
    return own + escalated


def _urgency(req: dict, now: dt.datetime) -> tuple:
    """Overdue first, then due soonest; what is not waiting for an answer after, newest first."""
    s = req["status"]
    if s.state == "submitted" and s.due_at is not None:
        return (0 if s.due_at < now else 1, s.due_at, 0)
    return (2, dt.datetime.max, -req["request_id"])


def _steward_actions(who, req: dict, now: dt.datetime) -> set[str]:
    dept = _department(who)
    s = req["status"]
    out = set()
    if may_answer(dept, req["owner"], s, now):
        out |= {"approve", "refuse"}
    if dept == req["owner"] and s.current(now) in ("approved", "active"):
        out.add("revoke")
    return out


def _visible(who, request_id: int | None, now: dt.datetime) -> dict | None:
    return next((r for r in _answerable(who, now) if r["request_id"] == request_id), None) if request_id is not None else None


@callback(Output("rq-queue", "rowData"), Output("rq-queue", "selectedRows"), Input("rq-view", "value"),
          Input("rq-queue-result", "children"), State("rq-queue", "selectedRows"))
def queue(view, _done, selected):
    who = guard(PATH)
    if not who.can("answer_requests"):
        raise dash.exceptions.PreventUpdate
    now, entries = dt.datetime.now(), _entries()
    found = _answerable(who, now)
    if view == "answer":
        found = [r for r in found if r["status"].state == "submitted"]
    elif view == "granted":
        found = [r for r in found if r["status"].current(now) in ("approved", "active")]
    found = sorted(found, key=lambda r: _urgency(r, now))
    rows = [_row(r, entries, now) for r in found]
    for r, req in zip(rows, found):
        if req["owner"] != _department(who):  # the bureau answering for an owner: say whose
            r["entry"] += _(" ({owner}, escalated)").format(owner=scope_name(req["owner"]))
    rid = _chosen(selected)
    return rows, [r for r in rows if r["request_id"] == rid]


@callback(Output("rq-queue-detail", "children"), Output("rq-approve", "disabled"), Output("rq-refuse", "disabled"),
          Output("rq-revoke", "disabled"), Input("rq-queue", "selectedRows"), Input("rq-queue-result", "children"))
def queue_detail(selected, _done):
    who = guard(PATH)
    if not who.can("answer_requests"):
        raise dash.exceptions.PreventUpdate
    now = dt.datetime.now()
    req = _visible(who, _chosen(selected), now)
    if req is None:
        return _("Choose a request to answer it or to see its history."), True, True, True
    may = _steward_actions(who, req, now)
    return _details(req, _entries(), now, "rq-queue-history"), "approve" not in may, "refuse" not in may, "revoke" not in may


ASK = {"rq-approve": "approve", "rq-refuse": "refuse", "rq-revoke": "revoke"}


@callback(Output("rqs-pending", "data"), Output("rqs-modal-text", "children"), Output("rq-queue-hint", "children"),
          Input("rq-approve", "n_clicks"), Input("rq-refuse", "n_clicks"), Input("rq-revoke", "n_clicks"),
          State("rq-queue", "selectedRows"), State("rq-reason", "value"), prevent_initial_call=True)
def ask_answer(_a, _r, _v, selected, reason):
    """An answer or a revocation asked for: checked, then put to the steward to confirm."""
    who = guard(PATH)
    if not who.can("answer_requests"):
        raise dash.exceptions.PreventUpdate
    step, now = ASK.get(dash.ctx.triggered_id), dt.datetime.now()
    req = _visible(who, _chosen(selected), now)
    if step is None or req is None or step not in _steward_actions(who, req, now):
        return None, "", _(NOT_YOURS)
    reason = (reason or "").strip()
    if step in ("refuse", "revoke") and not reason:
        return None, "", _(REFUSED["reason"]).format(limit=REASON_MAX)
    what = _("request {number} ({entry}, for {department})").format(number=req["request_id"], entry=_entry_name(_entries(), req["entry_code"]),
                                                                     department=scope_name(req["department"]))
    text = {"approve": _("Approve {what}?"), "refuse": _("Refuse {what}, giving the reason “{reason}”?"),
            "revoke": _("Revoke the grant of {what}, giving the reason “{reason}”? Its keys stop working at once.")}[step]
    return {"step": step, "request_id": req["request_id"], "reason": reason}, text.format(what=what, reason=reason), ""


confirmation_toggle("rqs", PATH, "rq-queue-result")


@callback(Output("rq-queue-result", "children"), Output("rq-reason", "value"), Input("rqs-yes", "n_clicks"),
          State("rqs-pending", "data"), prevent_initial_call=True)
def answer(_yes, pending):
    """Take the confirmed step. Judged again here (the capability, the department, the request as
    the store has it) and by the store inside its write: a forged answer changes nothing."""
    who = guard(PATH)
    if not who.can("answer_requests") or _department(who) is None:
        return _(NOT_YOURS), dash.no_update
    pending = pending if isinstance(pending, dict) else {}
    step, rid, reason = pending.get("step"), pending.get("request_id"), pending.get("reason")
    now = dt.datetime.now()
    req = _visible(who, rid if isinstance(rid, int) and not isinstance(rid, bool) else None, now)
    if step not in ASK.values() or req is None or step not in _steward_actions(who, req, now):
        return _(NOT_YOURS), dash.no_update
    try:
        ctx().store.add_share_step(req["request_id"], step, actor=who.username, role=who.role, scope=_department(who),
                                   reason=reason if isinstance(reason, str) else "")
    except RequestRefused as refused:
        return _words(refused), dash.no_update
    done = {"approve": _("Approved request {number}."), "refuse": _("Refused request {number}."),
            "revoke": _("Revoked the grant of request {number}; its keys no longer work.")}[step]
    return done.format(number=req["request_id"]), ""
