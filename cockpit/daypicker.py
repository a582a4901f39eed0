"""The header's day picker and the "historical view" banner (time travel, cockpit/timetravel.py).

Choosing a day asks the server, which checks that the day has a snapshot, keeps it in the
``cb_day`` cookie and reloads the page: from then on every page and callback of that browser
reads the snapshot that stood at the end of that day, until "back to today".
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from cockpit import timetravel
from cockpit.components import button
from cockpit.context import caller, ctx
from cockpit.i18n import _, date_picker_text, day_text
from cockpit.roles import Principal


def picker(who: Principal | None) -> list:
    """The picker for roles whose pages read the snapshot (nothing for the others)."""
    if not timetravel.travels(who):
        return []
    days = timetravel.days()
    if not days:
        return []
    shown = timetravel.chosen_day() or timetravel.live_day() or days[-1]
    # The calendar offers only the days that have a snapshot.
    gaps = [str(days[0] + dt.timedelta(n)) for n in range((days[-1] - days[0]).days + 1)
            if days[0] + dt.timedelta(n) not in set(days)]
    return [html.Div([
        html.Span(_("Day shown"), className="tt-label"),
        dcc.DatePickerSingle(id="tt-day", date=str(shown), min_date_allowed=str(days[0]), max_date_allowed=str(days[-1]),
                             disabled_days=gaps, clearable=False, **date_picker_text(_("Pick a day"))),
        dcc.Location(id="tt-go", refresh=True),
    ], className="tt-picker")]


def banner(who: Principal | None) -> list:
    """The "historical view" banner while a past day is shown (with the way back)."""
    day = timetravel.chosen_day() if timetravel.travels(who) else None
    back = button(_("Back to today"), "tt-latest", kind="subtle")
    if day is None:
        return [html.Div(back, hidden=True)]  # present, so the callback's inputs always exist
    return [html.Div([
        html.B(_("Historical view")),
        html.Span(_(": the cockpit as it stood at the end of {day}. Figures, scores and alerts are as they were then; actions are switched off.").format(day=day_text(day))),
        back,
    ], className="tt-banner", role="status")]


def register(app: dash.Dash) -> None:
    """Wire the picker into ``app``. Per app, not at import: Dash hands a module's callbacks to
    the first app set up in the process only."""
    app.callback(Output("tt-go", "href"), Input("tt-day", "date"), Input("tt-latest", "n_clicks"),
                 State("_pages_location", "pathname"), State("_pages_location", "search"), prevent_initial_call=True)(travel)


def travel(date, _, path, search):
    """Keep the chosen day (checked: only days with a snapshot) and reload the page on it."""
    who = caller()
    if not timetravel.travels(who):
        raise PreventUpdate
    if dash.ctx.triggered_id == "tt-latest":
        day = None
    else:
        day = timetravel.parse_day(date)
        if not timetravel.valid(day):
            raise PreventUpdate  # a day without a snapshot (forged, or pruned meanwhile): nothing changes
        if day == timetravel.live_day():
            day = None
    # Dash's response offers set_cookie only: "back to today" expires the cookie.
    dash.ctx.response.set_cookie(timetravel.DAY_COOKIE, day.isoformat() if day else "", max_age=None if day else 0,
                                 samesite="Lax", httponly=True, secure=ctx().settings.secure_cookies)
    # The day in the address too: the page reloads (a new address) and says what it shows.
    query = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "day"]
    query.append(("day", day.isoformat() if day else "today"))
    return f"{path or '/'}?{urlencode(query)}"
