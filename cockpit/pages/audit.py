"""Audit (auditors): who looked at whose personal data, when and why; search by identity number."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dash_table, dcc, html

from cockpit.components import page
from cockpit.context import ctx, guard
from cockpit.i18n import columns, t

PATH = "/audit"
dash.register_page(__name__, path=PATH, name="访问审计", name_en="Audit", order=4)
COLUMNS = ["at", "username", "role", "action", "delivery_id", "rows", "subjects", "purpose"]


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        dcc.Input(id="au-id", placeholder=t("按身份证号查询", "Search by identity number"), debounce=True, style={"width": "40%"}),
        dash_table.DataTable(id="au-table", columns=columns(COLUMNS), page_size=25,
                             style_cell={"textAlign": "left"}),
    ])


@callback(Output("au-table", "data"), Input("au-id", "value"))
def render(id_number):
    guard(PATH)
    # The number is matched through its keyed hash; it is never stored or shown in clear.
    return ctx().store.access_log((id_number or "").strip() or None)
