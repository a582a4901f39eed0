"""Alerts as a work queue (派单 → 处置 → 结案 → 评价): each role sees its own alerts and takes the
steps of the loop it may take; the city manager also sees how owners perform.

What a duty officer expects: the queue opens on what waits for *them* (evaluations first, then
what is overdue, then what is new by severity); choosing an alert shows its whole history (who,
in which role, when, what) and only the actions open to them; every action asks to be confirmed
in the page itself (a browser's own confirm box would speak the browser's language, not the
reader's) and says at once what was done. Every step is checked again on the server
(``Principal.alert_actions``, and the state inside the write), written to the operational store
and to the access audit log.
"""

from __future__ import annotations

import datetime as dt

import dash
import pandas as pd
from dash import Input, Output, State, callback, html

from cockpit.components import button, confirmation, confirmation_toggle, data_grid, page, select, text_input
from cockpit.context import ctx, guard
from cockpit.data import reference
from cockpit.data.alerts import alerts_for
from cockpit.i18n import N_, _, columns, label, message, pct, pgettext, time_text
from cockpit.timetravel import chosen_day
from warehouse.contract.feeds import OWNER_DEPARTMENTS
from warehouse.contract.labels import alert_action
from warehouse.ops.alert_loop import DUE_HOURS, RATINGS, STEPS, owner_performance

PATH = "/alerts"
dash.register_page(__name__, path=PATH, name=N_("Alerts"), order=2, allowed="see_alerts")
# The alert id stays in the rows (the table's row id) but is never a column: people read alerts by what they say.
# What and where first (a phone shows the first columns), then where it stands in the loop.
COLUMNS = ["severity", "district_code", "message", "state", "owner", "due_at", "date", "rule_id", "condition"]
HISTORY = ["at", "step", "actor", "role", "owner", "due_at", "note", "rating"]
PERFORMANCE = ["owner_kind", "owner", "dispatched", "judged", "on_time", "disposal_rate", "open_now", "closed",
               "median_hours_to_close", "mean_rating", "returns"]
VIEWS = {"mine": N_("Waiting for me"), "active": N_("In progress"), "closed": N_("Closed"),
         "all": N_("All")}
# The queue's order: what waits longest in the loop first.
STATE_RANK = {"handled": 0, "returned": 1, "dispatched": 2, "new": 3, "closed": 4}


def _can_act(who) -> bool:
    return who.can_any(("dispatch_alerts", "handle_owned_alerts", "evaluate_alerts"))


def _hidden(show: bool) -> dict:
    return {} if show else {"display": "none"}


@page(PATH)
def layout(who) -> html.Div:
    dispatcher, evaluator = who.can("dispatch_alerts"), who.can("evaluate_alerts")
    form = html.Div([
        select("al-owner", placeholder=_("Dispatch to (department or district)"),
               className="wide", style=_hidden(dispatcher)),
        select("al-due", placeholder=_("Time limit"), style=_hidden(dispatcher),
               options=[{"label": _("within {hours} hours").format(hours=h) if h < 168 else _("within 7 days"),
                         "value": str(h)} for h in DUE_HOURS]),
        text_input("al-note", _("Note: what was done, why it is returned, or the evaluation"),
                   className="wide", inputProps={"maxLength": 500}),
        select("al-rating", placeholder=_("Rating (1–5)"), style=_hidden(evaluator),
               options=[{"label": f"{r} ★", "value": str(r)} for r in RATINGS]),
        button(label("alert_step", "dispatch"), "al-dispatch", kind="primary", disabled=True, style=_hidden(dispatcher)),
        button(label("alert_step", "handle"), "al-handle", kind="primary", disabled=True),
        button(label("alert_step", "close"), "al-close", kind="primary", disabled=True, style=_hidden(evaluator)),
        button(label("alert_step", "return"), "al-return", kind="danger", disabled=True, style=_hidden(evaluator)),
    ], className="toolbar", style=_hidden(_can_act(who)))
    performance = html.Div([
        html.H4(_("How owners dispose of alerts (since dispatching began)")),
        html.Div(_("On-time disposal = dispatches handled within their time limit ÷ dispatches that are due or handled; time to close is the median of hours from dispatch to closure."), className="delta"),
        data_grid("al-perf", columns(PERFORMANCE), sort=True),
    ], className="card", style=_hidden(evaluator))
    return html.Div([
        html.Div(id="al-summary", className="notice"),
        html.Div([
            select("al-view", value="mine" if _can_act(who) else "all", className="picker",
                   options=[{"label": _(VIEWS[v]), "value": v} for v in VIEWS if _can_act(who) or v != "mine"]),
            text_input("al-search", _("Find by text, district or rule"), debounce=True,
                       style={"minWidth": "18rem"}),
        ], className="toolbar"),
        data_grid("al-table", columns(COLUMNS), page_size=15, select=True, wrap=("rule_id", "message", "owner"), wrap_width=180,
                  row_classes={"overdue": "overdue"}),
        html.Div(id="al-detail", className="card"),
        form,
        html.Div(id="al-hint", className="notice"),
        html.Div(id="al-result", className="notice", role="status"),
        confirmation("al"),
        performance,
    ])


# ---------------------------------------------------------------------------- reading

def _owner_name(kind: str | None, code: str | None) -> str:
    return label("district" if kind == "district" else "department", code) if code else _("City")


def _what(alert) -> str:
    """An alert named for people: its rule, where and which day (its id is for machines)."""
    get = alert.get if isinstance(alert, dict) else lambda k: getattr(alert, k)
    return _("{rule} ({district}, {date})").format(rule=label('rule', get('rule_id')), district=label('district', get('district_code')), date=str(get('date'))[:10])


def _rows_where(df: pd.DataFrame, keep: list[bool]) -> pd.DataFrame:
    """The rows where ``keep`` is true (an empty list would select columns, not rows)."""
    return df[pd.Series(keep, index=df.index, dtype=bool)]


def _queue(who, view: str, search: str | None) -> pd.DataFrame:
    """The alerts of ``view`` in ``who``'s scope, most pressing first."""
    df = alerts_for(who)
    if df.empty:
        return df
    if view == "mine":
        df = _rows_where(df, [bool(who.alert_actions(a, a["loop"])) for a in df.to_dict("records")])
    elif view == "active":
        df = df[df.state.isin(["dispatched", "handled", "returned"])]
    elif view == "closed":
        df = df[df.state == "closed"]
    if search:
        needle = search.strip().lower()
        # An id pasted from the audit log still finds its alert; people search by what they read.
        text = [f"{a} {message(k, p, m)} {label('district', d)} {label('rule', r)}".lower() for a, k, p, m, d, r in zip(
            df.alert_id, df.message_key, df.message_params, df.message, df.district_code, df.rule_id)]
        df = _rows_where(df, [needle in x for x in text])
    far = pd.Timestamp.max
    return df.assign(rank=df.state.map(STATE_RANK), due_sort=[far if pd.isna(d) else pd.Timestamp(d) for d in df.due_at],
                     critical=(df.severity != "critical").astype(int)).sort_values(
        ["rank", "due_sort", "critical", "date"], ascending=[True, True, True, False], kind="stable")


@callback(Output("al-table", "rowData"), Output("al-summary", "children"), Output("al-table", "selectedRows"),
          Input("al-view", "value"), Input("al-search", "value"), Input("al-result", "children"),
          State("al-table", "selectedRows"))
def render(view, search, _unused, selected):
    """The queue; the chosen alert stays chosen while it is in the list (set again as its new row)."""
    selected_ids = _ids(selected)
    who = guard(PATH)
    df = _queue(who, view or "all", search)
    now = dt.datetime.now()
    rows = [{
        "id": a.alert_id, "alert_id": a.alert_id, "severity": label("severity", a.severity), "state": label("alert_state", a.state),
        "condition": label("alert_status", a.status), "date": str(a.date)[:10], "district_code": label("district", a.district_code),
        "rule_id": label("rule", a.rule_id), "message": message(a.message_key, a.message_params, a.message),
        "owner": _owner_name(a.owner_kind, a.owner_code),
        "due_at": time_text(a.due_at) + (_(" (overdue)") if a.loop.overdue(now) else ""),
        "overdue": int(a.loop.overdue(now))} for a in df.itertuples()]
    mine = alerts_for(who)
    waiting = sum(bool(who.alert_actions(a, a["loop"])) for a in mine.to_dict("records")) if not mine.empty else 0
    overdue = sum(lp.overdue(now) for lp in mine.loop) if not mine.empty else 0
    summary = _("{shown} shown · {waiting} waiting for me · {overdue} overdue").format(shown=len(rows), waiting=waiting, overdue=overdue) if _can_act(who) else \
        _("{shown} shown (read only)").format(shown=len(rows))
    if search and search.strip():
        summary += _(" · matching “{search}”").format(search=search.strip())
    keep = [r for r in rows if selected_ids and r["id"] == selected_ids[0]]
    return rows, summary, keep


def _ids(selected) -> list[str]:
    """The alert ids of the grid's chosen rows (``selectedRows``), as sent: only ever looked up
    among the alerts the caller may see (``_selected``), so a forged id reaches nothing."""
    return [r["alert_id"] for r in selected if isinstance(r, dict) and isinstance(r.get("alert_id"), str)] \
        if isinstance(selected, list) else []


def _selected(who, selected_ids) -> dict | None:
    """The chosen alert as the snapshot and the store have it, if ``who`` may see it."""
    if not selected_ids:
        return None
    df = alerts_for(who)
    hit = df[df.alert_id == selected_ids[0]] if not df.empty else df
    return None if hit.empty else hit.iloc[0].to_dict()


def _history(alert_id: str) -> list[dict]:
    return [{"at": s["at"].replace("T", " "), "step": label("alert_step", s["step"]), "actor": s["actor"],
             "role": label("role", s["role"]) if s["role"] else "",
             "owner": _owner_name(s["owner_kind"], s["owner_code"]) if s["step"] == "dispatch" else "",
             "due_at": (s["due_at"] or "").replace("T", " "), "note": s["note"] or "",
             "rating": f"{s['rating']} ★" if s["rating"] else ""} for s in ctx().store.alert_steps(alert_id)]


def _targets(who, alert: dict) -> list[tuple[str, str]]:
    districts = [d for d in reference.districts().district_code]
    return who.dispatch_targets(alert, districts, list(OWNER_DEPARTMENTS))


@callback(Output("al-detail", "children"), Output("al-dispatch", "disabled"), Output("al-handle", "disabled"),
          Output("al-close", "disabled"), Output("al-return", "disabled"), Output("al-owner", "data"),
          Input("al-table", "selectedRows"), Input("al-result", "children"), State("al-pending", "data"))
def detail(selected, _unused, pending):
    """The chosen alert: its message, where it stands, its whole history, and what ``who`` may do.
    Right after a step, the alert acted on stays shown with its new history, even when the step
    took it out of the list in view (a closed alert leaves "waiting for me")."""
    who = guard(PATH)
    acted = pending.get("alert_id") if isinstance(pending, dict) else None
    selected_ids = _ids(selected)
    if acted and (dash.ctx.triggered_id == "al-result" or not selected_ids):
        selected_ids = [acted]
    alert = _selected(who, selected_ids)
    if alert is None:
        return _("Choose an alert to see how it is being handled."), True, True, True, True, []
    actions = _actions(who, alert)
    owners = [{"label": f"{label('owner_kind', k)} · {_owner_name(k, c)}", "value": f"{k}:{c}"} for k, c in _targets(who, alert)]
    head = html.Div([
        html.B(f"{_what(alert)} · {label('alert_state', alert['state'])}"),
        html.Div(message(alert.get("message_key"), alert.get("message_params"), alert["message"])),
        html.Div(_("Owner: {owner}").format(owner=_owner_name(alert['owner_kind'], alert['owner_code']))
                 + (_(" · due {due}").format(due=time_text(alert['due_at'])) if time_text(alert["due_at"]) else ""),
                 className="delta"),
        html.Div(_("You may: ") + (pgettext("list separator", ", ").join(label("alert_step", a) for a in actions) if actions else _("nothing"))
                 if _can_act(who) else "", className="delta"),
    ])
    history = data_grid("al-history", columns(HISTORY), _history(alert["alert_id"]), wrap=("note",))
    return ([head, html.H4(_("History")), history], "dispatch" not in actions, "handle" not in actions,
            "close" not in actions, "return" not in actions, owners)


# ---------------------------------------------------------------------------- acting

def _actions(who, alert: dict) -> list[str]:
    """The steps ``who`` may take on ``alert`` now; none on a past day's view (time travel):
    one acts on the alerts as they stand today, not as they stood then."""
    return [] if chosen_day() else who.alert_actions(alert, alert["loop"])


def _whole(value) -> bool:
    """A whole number as JSON sends one (not a string, not true/false)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _as_whole(choice):
    """A choice's value as a whole number ("24" -> 24: the lists' values are text); else as sent."""
    return int(choice) if isinstance(choice, str) and choice.isdigit() else choice


def _problem(who, step: str, alert: dict | None, owner: str | None, due, note: str, rating) -> str | None:
    """Why ``step`` cannot be taken as asked, in the reader's language; None when it can."""
    if alert is None or step not in _actions(who, alert):
        return _("You may not do that to this alert.")
    if step == "dispatch":
        if tuple((owner or "").split(":", 1)) not in _targets(who, alert):
            return _("Choose whom to dispatch it to.")
        if not _whole(due) or due not in DUE_HOURS:
            return _("Choose a time limit.")
    if step == "close" and (not _whole(rating) or rating not in RATINGS):
        return _("Rate the handling (1–5) to close it.")
    if not note and step != "dispatch":  # what was done, why it goes back, or the evaluation's words
        return _("Write a note first.")
    return None


def _describe(step: str, alert: dict, owner: str | None, due, rating) -> str:
    what = _what(alert)
    if step == "dispatch":
        kind, code = owner.split(":", 1)
        return _("Dispatch the alert “{what}” to {owner}, to be handled within {due} hours?").format(what=what, owner=_owner_name(kind, code), due=due)
    if step == "handle":
        return _("Record that the alert “{what}” has been handled?").format(what=what)
    if step == "close":
        return _("Close the alert “{what}” with a rating of {rating}?").format(rating=rating, what=what)
    return _("Return the alert “{what}” to its owner to handle again?").format(what=what)


@callback(Output("al-pending", "data"), Output("al-modal-text", "children"), Output("al-hint", "children"),
          Input("al-dispatch", "n_clicks"), Input("al-handle", "n_clicks"), Input("al-close", "n_clicks"),
          Input("al-return", "n_clicks"), State("al-table", "selectedRows"), State("al-owner", "value"),
          State("al-due", "value"), State("al-note", "value"), State("al-rating", "value"), prevent_initial_call=True)
def ask(_d, _h, _c, _r, selected, owner, due, note, rating):
    """A step asked for: checked, then put to the user to confirm (nothing is written yet)."""
    who = guard(PATH)
    step = {f"al-{s}": s for s in STEPS}.get(dash.ctx.triggered_id)  # each step's button is al-<step>
    alert = _selected(who, _ids(selected))
    note = (note or "").strip()[:500]
    due, rating = _as_whole(due), _as_whole(rating)
    problem = _problem(who, step or "", alert, owner, due, note, rating) if step else _("Unknown action.")
    if problem:
        return None, "", problem
    pending = {"step": step, "alert_id": alert["alert_id"], "owner": owner, "due": due, "note": note, "rating": rating,
               "asked": dash.ctx.triggered[0]["value"]}
    return pending, _describe(step, alert, owner, due, rating), ""


confirmation_toggle("al", PATH, "al-result")


@callback(Output("al-result", "children"), Output("al-note", "value"), Input("al-yes", "n_clicks"), State("al-pending", "data"),
          prevent_initial_call=True)
def act(_unused, pending):
    """Take the confirmed step. Everything is judged again here, from the snapshot and the store,
    never from what the browser says: a forged request from another role or scope changes nothing."""
    who = guard(PATH)
    pending = pending if isinstance(pending, dict) else {}
    step, alert_id = pending.get("step"), pending.get("alert_id")
    owner, due, rating = pending.get("owner"), pending.get("due"), pending.get("rating")
    note = str(pending.get("note") or "").strip()[:500]
    alert = _selected(who, [alert_id]) if isinstance(alert_id, str) else None
    problem = _problem(who, step, alert, owner, due, note, rating) if step in STEPS \
        else _("Unknown action.")
    if problem:
        return problem, dash.no_update
    target = tuple(owner.split(":", 1)) if step == "dispatch" else None
    due_at = dt.datetime.now().replace(second=0, microsecond=0) + dt.timedelta(hours=due) if step == "dispatch" else None
    store = ctx().store
    if not store.add_alert_step(alert_id, step, actor=who.username, role=who.role, scope=who.scope, owner=target,
                                due_at=due_at, note=note, rating=rating if step == "close" else None):
        return _("Someone else has just acted on this alert; see where it stands now."), dash.no_update
    store.log_access(who.username, who.role, alert_action(step), delivery_id=None, rows=0, id_numbers=[],
                     purpose=f"alert {alert_id}", scope=who.scope)
    what = _what(alert)
    done = {"dispatch": _("Dispatched {what} to {owner}, due {due}").format(what=what, owner=_owner_name(*target) if target else '', due=time_text(due_at)),
            "handle": _("Handling recorded: {what}").format(what=what),
            "close": _("Closed: {what} (rated {rating})").format(what=what, rating=rating),
            "return": _("Returned: {what}").format(what=what)}
    return done[step], ""


# ---------------------------------------------------------------------------- how owners perform

@callback(Output("al-perf", "rowData"), Input("al-result", "children"), Input("al-view", "value"))
def performance(_, __):
    """Owners' on-time disposal and time to close, from the loop's steps: the city manager's."""
    who = guard(PATH)
    if not who.can("evaluate_alerts"):
        raise dash.exceptions.PreventUpdate
    return [{**r, "owner_kind": label("owner_kind", r["owner_kind"]), "owner": _owner_name(r["owner_kind"], r["owner_code"]),
             "disposal_rate": pct(r["on_time_rate"], 0), "open_now": r["overdue"],
             "median_hours_to_close": "—" if r["median_hours_to_close"] is None else f"{r['median_hours_to_close']:.1f}",
             "mean_rating": "—" if r["mean_rating"] is None else f"{r['mean_rating']:.1f}"}
            for r in owner_performance(ctx().store.alert_steps(), dt.datetime.now())]
