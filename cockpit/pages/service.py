"""Citizens' requests (12345): overdue open tickets in the caller's scope, and how each handler closes on time."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from cockpit.components import data_grid, page
from cockpit.context import guard
from cockpit.data import reference, service
from cockpit.data.scope import row_filter
from cockpit.i18n import N_, _, columns, label, pct, time_text

PATH = "/service"
dash.register_page(__name__, path=PATH, name=N_("Citizens' requests"), order=1,
                   allowed="see_requests")
OVERDUE = ["ticket_no", "district", "category", "handler", "created_at", "due_at", "days_overdue"]
HANDLERS = ["handler", "on_time_rate", "overdue"]


@page(PATH)
def layout(who) -> html.Div:
    return html.Div([
        html.H3(id="sv-scope"),
        html.H4(_("Overdue open requests")),
        data_grid("sv-overdue", columns(OVERDUE), page_size=15, sort=True, wrap=("category",)),
        html.H4(_("On-time closure by handler (last 30 days)")),
        data_grid("sv-handlers", columns(HANDLERS), sort=True),
        dcc.Store(id="sv-load", data=1),
    ])


@callback(Output("sv-scope", "children"), Output("sv-overdue", "rowData"), Output("sv-handlers", "rowData"), Input("sv-load", "data"))
def render(_unused):
    who = guard(PATH)
    tickets = service.overdue_tickets_for(who)
    rows = row_filter(who)
    if rows.district:
        scope = _("Requests in {district}").format(district=label('district', rows.district))
    elif rows.department:
        scope = _("Requests handled by {owner}").format(owner=label('owner', rows.department))
    else:
        scope = _("Requests across the city")
    as_of = time_text(reference.info().get("as_of")) or "?"
    # Counted now, at the refresh: the overview's cards count at the end of the day before.
    scope += _(" · overdue and still open at {as_of}: {count}").format(as_of=as_of, count=len(tickets))
    overdue = [{
        "ticket_no": r.ticket_no, "district": label("district", r.district_code) or "—",
        "category": label("category", r.category) or "—",
        "handler": label("owner", r.handler), "created_at": time_text(r.created_at), "due_at": time_text(r.due_at),
        "days_overdue": int(r.days_overdue)} for r in tickets.itertuples()]
    handlers = [{
        "handler": label("owner", r.handler),
        "on_time_rate": pct(r.on_time_rate),
        "overdue": int(r.overdue)} for r in service.handler_performance(who).itertuples()]
    return scope, overdue, handlers
