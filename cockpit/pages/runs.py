"""The analyst's console (analysts only): runs with their steps, errors and progress;
re-executing and cancelling runs; schedules and sensors, on and off; backfills with a preview,
their progress by day and cancelling. Everything goes through Dagster's GraphQL API
(``cockpit/dagster_api.py``); every action needs a confirmation, is authorised here on the
server and is written to the audit log with who and when (``cockpit/console.py``)."""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from cockpit import console, dagster_api
from cockpit.components import button, confirmation, confirmation_toggle, data_grid, page, select, text_input
from cockpit.context import ctx, guard
from cockpit.i18n import N_, _, columns, date_picker_text, label
from warehouse import settings

PATH = "/runs"
dash.register_page(__name__, path=PATH, name=N_("Pipeline runs"), order=5, allowed="launch_runs")
COLUMNS = ["run_id", "job", "status", "launched_by", "started", "duration"]
STEP_COLUMNS = ["step", "status", "started", "duration"]
INSTIGATOR_COLUMNS = ["instigator", "kind", "switch", "when", "next_tick", "last_tick", "last_outcome"]
BACKFILL_COLUMNS = ["backfill", "launched_by", "status", "progress", "started"]
FRESHNESS_COLUMNS = ["stage", "last_materialized", "verdict"]
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


# What each action asks before it is taken (the shared in-page confirmation, in the reader's
# language; the backfill's question is its preview).
QUESTIONS = {
    "ru-refresh": N_("Run the daily refresh now?"),
    "ru-on": N_("Turn it on?"),
    "ru-off": N_("Turn it off? It will not run by itself."),
    "ru-time-set": N_("Change the daily refresh's time? It runs at the new time from its next tick."),
    "ru-bf-cancel": N_("Cancel this backfill? Days not started are dropped and its runs in progress are cancelled."),
    "ru-from-failure": N_("Re-execute from the failed step?"),
    "ru-all-steps": N_("Re-execute every step?"),
    "ru-cancel": N_("Cancel this run?"),
}
ACTIONS = {"ru-refresh": "refresh", "ru-backfill": "backfill", "ru-from-failure": "reexecute", "ru-all-steps": "reexecute",
           "ru-cancel": "cancel", "ru-on": "on", "ru-off": "off", "ru-bf-cancel": "backfill_cancel", "ru-time-set": "schedule_time"}


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        html.Div([
            button(_("Run the daily refresh"), "ru-refresh", kind="primary"),
            html.Span(_("Backfill indicators: "), className="delta"),
            dcc.DatePickerRange(id="ru-range", **date_picker_text()),
            button(_("Backfill"), "ru-backfill"),
        ], className="toolbar"),
        html.Div(id="ru-preview", className="notice"),
        html.Div(id="ru-hint", className="notice"),
        html.Div(id="ru-result", className="notice"),
        html.Div(id="ru-status", className="notice"),
        html.H3(_("Schedules and sensors")),
        data_grid("ru-instigators", columns(INSTIGATOR_COLUMNS)),
        html.Div([
            select("ru-instigator", placeholder=_("Choose a schedule or sensor"), style={"minWidth": "22em"}),
            button(_("Turn on"), "ru-on"),
            button(_("Turn off"), "ru-off", kind="danger"),
        ], className="toolbar"),
        html.Div([
            html.Span(_("Daily refresh at (HH:MM, China Standard Time): "), className="delta"),
            text_input("ru-time", "06:30", value=settings.saved(ctx().home.root)["daily_refresh_at"], debounce=True,
                       style={"width": "6em"}),
            button(_("Change the time"), "ru-time-set"),
        ], className="toolbar"),
        html.H3(_("Freshness")),
        html.Div(_("By 09:00 China Standard Time each day, every feed's data, the libraries, indicators, forecasts and what the cockpit shows should have been brought up to date since 06:00; each row shows its stalest part."),
                 className="delta"),
        data_grid("ru-freshness", columns(FRESHNESS_COLUMNS)),
        html.H3(_("Backfills")),
        data_grid("ru-backfills", columns(BACKFILL_COLUMNS)),
        html.Div([
            select("ru-bf", placeholder=_("Choose a backfill"), style={"minWidth": "22em"}),
            button(_("Cancel the backfill"), "ru-bf-cancel", kind="danger"),
        ], className="toolbar"),
        html.H3(_("Runs")),
        data_grid("ru-table", columns(COLUMNS), page_size=15),
        html.Div([
            select("ru-run", placeholder=_("Choose a run to see its steps"), style={"minWidth": "28em"}),
            button(_("Re-execute from the failure"), "ru-from-failure", kind="primary"),
            button(_("Re-execute all steps"), "ru-all-steps"),
            button(_("Cancel the run"), "ru-cancel", kind="danger"),
        ], className="toolbar"),
        html.Div(id="ru-detail"),
        dcc.Store(id="ru-chosen"),  # the run an action just started
        dcc.Store(id="ru-shown"),  # the run whose details are shown: what the run buttons act on
        dcc.Interval(id="ru-tick", interval=5_000),
        dcc.Interval(id="ru-fresh-tick", interval=60_000),
        confirmation("ru"),
    ])


@callback(Output("ru-table", "rowData"), Output("ru-run", "data"), Output("ru-instigators", "rowData"),
          Output("ru-instigator", "data"), Output("ru-backfills", "rowData"), Output("ru-bf", "data"),
          Output("ru-status", "children"), Input("ru-tick", "n_intervals"), Input("ru-result", "children"))
def render(_unused, __):
    guard(PATH)
    try:
        runs, instigators, backfills = dagster_api.recent_runs(), dagster_api.instigators(), dagster_api.backfills()
    except dagster_api.DagsterUnavailable as e:
        return [], [], [], [], [], [], _("Cannot reach Dagster: {error}").format(error=e)
    by = console.launchers(runs)
    by_id = {r.run_id: r for r in runs}
    rows = [{"run_id": r.run_id[:8], "job": label("job", r.job), "status": label("run_state", r.status),
             "launched_by": by[r.run_id], "started": console.when(r.started),
             "duration": console.duration(r.started, r.ended)} for r in runs]
    run_options = [{"label": f"{r.run_id[:8]} · {label('job', r.job)} · {label('run_state', r.status)}", "value": r.run_id}
                   for r in runs]
    inst_rows = [{"instigator": label("instigator", i.name), "kind": _("Schedule") if i.kind == "schedule" else _("Sensor"),
                  "switch": _("On") if i.running else _("Off"),
                  "when": console.cron_in_words(i.cron, i.timezone) if i.kind == "schedule" else console.every(i.interval_s),
                  "next_tick": console.when(i.next_tick), "last_tick": console.when(i.ticks[0].at if i.ticks else None),
                  "last_outcome": console.tick_outcome(i.ticks[0] if i.ticks else None, by_id)} for i in instigators]
    inst_options = [{"label": label("instigator", i.name), "value": f"{i.kind}:{i.name}"} for i in instigators]
    launched = console.backfill_launchers(backfills)
    bf_rows = [{"backfill": b.backfill_id, "launched_by": launched.get(b.backfill_id, ""), "status": label("backfill_state", b.status),
                "progress": _("{done} of {targeted} days done, {in_progress} in progress, {failed} failed").format(done=b.done, targeted=b.targeted, in_progress=b.in_progress, failed=b.failed),
                "started": console.when(b.created)} for b in backfills]
    bf_options = [{"label": f"{b.backfill_id} · {label('backfill_state', b.status)}", "value": b.backfill_id}
                  for b in backfills if b.cancelable]
    return rows, run_options, inst_rows, inst_options, bf_rows, bf_options, _("Dagster is up")


@callback(Output("ru-freshness", "rowData"), Input("ru-fresh-tick", "n_intervals"))
def freshness(_):
    """Freshness changes by the hour, not the second: read on its own slower tick, so the runs'
    updates never wait for Dagster to judge every asset."""
    guard(PATH)
    try:
        return console.freshness_rows(dagster_api.freshness())
    except dagster_api.DagsterUnavailable:
        return []


@callback(Output("ru-preview", "children"), Input("ru-range", "start_date"), Input("ru-range", "end_date"))
def preview(first, last):
    """What a backfill of the chosen days will recompute, shown before it is asked for."""
    guard(PATH)
    days = _days(first, last)
    return console.backfill_preview(*days) if days else ""


def _days(first, last) -> tuple[str, str] | None:
    """The chosen range as (first, last) YYYY-MM-DD, in order; None if incomplete or not dates."""
    if not first or not last:
        return None
    first, last = sorted([str(first)[:10], str(last)[:10]])
    try:
        dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        return None
    return first, last


@callback(Output("ru-detail", "children"), Output("ru-from-failure", "disabled"), Output("ru-all-steps", "disabled"),
          Output("ru-cancel", "disabled"), Output("ru-shown", "data"), Input("ru-run", "value"), Input("ru-chosen", "data"),
          Input("ru-tick", "n_intervals"), State("ru-shown", "data"))
def show_run(picked, started, _, shown):
    """The chosen run's details: the one picked from the list, else the one an action just
    started, kept across the page's refreshes."""
    guard(PATH)
    # A choice wins over a tick that fired with it (Dash names only the first of inputs that
    # changed together); a list emptied of its value is no choice.
    fired = set(dash.ctx.triggered_prop_ids.values())
    chosen = picked if "ru-run" in fired and picked else started if "ru-chosen" in fired else None
    if chosen:
        return (*_run_detail(chosen), chosen)
    # A periodic refresh of what is shown. It never changes the choice: a refresh sent just
    # before a choice can answer just after it.
    if not shown:
        raise PreventUpdate
    return (*_run_detail(shown), dash.no_update)


def _run_detail(run_id: str | None) -> tuple:
    if not run_id:
        return _("Choose a run to see its steps, their times and why it failed."), True, True, True
    try:
        run = dagster_api.run_detail(run_id)
    except dagster_api.DagsterUnavailable as e:
        return _("Cannot read this run: {error}").format(error=e), True, True, True
    done = sum(1 for s in run.steps if s.status in ("SUCCESS", "FAILURE", "SKIPPED"))
    by = console.launchers([run.run])[run_id]
    parts = [
        html.P(_("{job}: {run_state}; launched by {by}; started {started}; took {took}").format(job=label('job', run.run.job), run_state=label('run_state', run.run.status), by=by, started=console.when(run.run.started), took=console.duration(run.run.started, run.run.ended)), id="ru-summary"),
        html.Div([html.Progress(value=str(done), max=str(run.planned or 1), id="ru-progress", style={"width": "20em"}),
                  html.Span(_(" {done} of {planned} steps done").format(done=done, planned=run.planned))]),
    ]
    failed = [f for f in run.failures if f.step] or run.failures[:1]
    if run.run.status == "FAILURE" and failed:
        f = failed[0]
        where = label("step", f.step) if f.step else _("the run itself (outside any step)")
        parts.append(html.Div([
            html.P(_("Failed at: {where}").format(where=where), id="ru-failed-step"),
            html.P(_("Why: {error}").format(error=console.plain_error(f.message)), id="ru-why"),
            html.Details([html.Summary(_("Details (the error and its traceback)")),
                          html.Pre(f"{f.message}\n\n{f.traceback}", className="traceback")]),
        ], className="run-failure"))
    steps = [{"step": label("step", s.key), "status": label("step_state", s.status or "NOT_STARTED"),
              "started": console.when(s.started), "duration": console.duration(s.started, s.ended)} for s in run.steps]
    parts.append(data_grid("ru-steps", columns(STEP_COLUMNS), steps))
    finished = run.run.status in FINISHED
    return parts, run.run.status != "FAILURE", not finished, not run.can_cancel


@callback(Output("ru-pending", "data"), Output("ru-modal-text", "children"), Output("ru-hint", "children"),
          *(Input(button, "n_clicks") for button in ACTIONS), State("ru-range", "start_date"), State("ru-range", "end_date"),
          prevent_initial_call=True)
def ask(*args):
    """An action asked for: put to the analyst to confirm in the page (nothing is done yet)."""
    guard(PATH)
    button = dash.ctx.triggered_id
    if button not in ACTIONS or not dash.ctx.triggered[0]["value"]:
        raise PreventUpdate
    if button == "ru-backfill":
        days = _days(*args[-2:])
        if days is None:
            return None, "", _("Choose the first and last day to backfill.")
        return {"button": button}, console.backfill_preview(*days) + _(" Launch it?"), ""
    return {"button": button}, _(QUESTIONS[button]), ""


confirmation_toggle("ru", PATH, "ru-result")


@callback(Output("ru-result", "children"), Output("ru-chosen", "data"), Input("ru-yes", "n_clicks"), State("ru-pending", "data"),
          State("ru-range", "start_date"), State("ru-range", "end_date"), State("ru-shown", "data"),
          State("ru-instigator", "value"), State("ru-bf", "value"), State("ru-time", "value"), prevent_initial_call=True)
def act(*args):
    """Every console action, after the analyst confirmed it; refused on the server to anyone
    who may not open this page, whatever the request says."""
    who = guard(PATH)
    pending, first, last, run_id, instigator, backfill_id, at = args[-7:]
    button = pending.get("button") if isinstance(pending, dict) else None
    action = ACTIONS.get(button)
    if action is None:
        raise PreventUpdate
    try:
        if action == "refresh":
            new = dagster_api.launch_refresh(who.username)
            console.record(who, action, f"run {new}")
            return _("Refresh launched: run {run}").format(run=new[:8]), new
        if action == "backfill":
            days = _days(first, last)  # a forged value is refused here
            if days is None:
                return _("Choose the first and last day to backfill."), dash.no_update
            first, last = days
            backfill_id = dagster_api.launch_backfill(first, last, who.username)
            console.record(who, action, f"backfill {backfill_id}")
            return _("Backfill {first}..{last} launched: {backfill_id}").format(first=first, last=last, backfill_id=backfill_id), dash.no_update
        if action in ("reexecute", "cancel"):
            if not run_id:
                return _("Choose a run first."), dash.no_update
            run = dagster_api.run_detail(run_id)  # an unknown id is refused here
            if action == "cancel":
                dagster_api.cancel_run(run.run.run_id)
                console.record(who, action, f"run {run.run.run_id}")
                return _("Asked run {run} to stop").format(run=run_id[:8]), dash.no_update
            from_failure = button == "ru-from-failure"
            new = dagster_api.reexecute(run.run.run_id, from_failure)
            console.record(who, action, f"run {new}")
            return (_("Re-executed as run {run}").format(run=new[:8]), new)
        if action in ("on", "off"):
            kind, _rest, name = (instigator or "").partition(":")
            if kind not in ("schedule", "sensor") or not name:
                return _("Choose a schedule or sensor first."), dash.no_update
            dagster_api.set_running(kind, name, action == "on")
            console.record(who, action, f"{kind} {name}")
            state = _("on") if action == "on" else _("off")
            return _("Turned {state}: {instigator}").format(state=state, instigator=label('instigator', name)), dash.no_update
        if action == "schedule_time":
            at = (at or "").strip()
            if not settings.valid_time(at):
                return _("Give the time as HH:MM, for example 06:30."), dash.no_update
            # Kept in the platform's settings, which the pipelines read when Dagster loads them:
            # the new time holds from now on and after any restart.
            settings.set_daily_refresh_at(ctx().home.root, at)
            dagster_api.reload_code_location()
            console.record(who, action, f"schedule daily_after_deadline at {at}")
            return _("The daily refresh now runs daily at {at}").format(at=at), dash.no_update
        if not backfill_id:
            return _("Choose a backfill first."), dash.no_update
        dagster_api.cancel_backfill(backfill_id)
        console.record(who, action, f"backfill {backfill_id}")
        return _("Asked backfill {backfill_id} to stop").format(backfill_id=backfill_id), dash.no_update
    except (dagster_api.DagsterUnavailable, ValueError) as e:
        return _("Not done: {error}").format(error=e), dash.no_update
