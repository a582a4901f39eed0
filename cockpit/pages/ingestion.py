"""Ingestion health: stewards see their department (and its rejected rows, audited); auditors all, without rows."""

from __future__ import annotations

import json

import dash
import plotly.express as px
from dash import Input, Output, State, callback, dash_table, dcc, html

from cockpit import data
from cockpit.components import page
from cockpit.context import ctx, guard

PATH = "/ingestion"
dash.register_page(__name__, path=PATH, name="数据质量 Ingestion", order=3)
DELIVERY_COLUMNS = ["delivery_id", "department", "feed", "business_date", "file_name", "status", "rows_read",
                    "rows_accepted", "rows_rejected", "reason", "error", "arrived_at"]


@page(PATH)
def layout(who) -> html.Div:
    deliveries = data.deliveries_for(who)
    reasons = data.rejection_reasons_for(who)
    fig = px.bar(reasons, x="business_date", y="n", color="reason", title="拒收原因 Rejection reasons") if not reasons.empty else {}
    parts = [
        html.H3("报送记录 Deliveries" + (f" — {who.scope}" if who.scope else "")),
        dash_table.DataTable(data=deliveries[DELIVERY_COLUMNS].astype(str).to_dict("records") if not deliveries.empty else [],
                             columns=[{"name": c, "id": c} for c in DELIVERY_COLUMNS], page_size=15, sort_action="native",
                             filter_action="native", style_cell={"textAlign": "left"}),
        dcc.Graph(figure=fig) if fig else html.Div(),
    ]
    if who.role == "steward":
        parts += [
            html.H3("被拒数据行 Rejected rows (访问将被审计 every view is audited)"),
            dcc.Input(id="in-delivery", type="number", placeholder="delivery_id"),
            dcc.Input(id="in-purpose", placeholder="用途 purpose (required)", style={"width": "40%"}),
            html.Button("查看 View", id="in-view"), html.Button("下载 Download", id="in-download-btn"),
            dcc.Download(id="in-download"),
            html.Div(id="in-rows"),
        ]
    return html.Div(parts)


def _rejected(who, delivery_id, purpose, action):
    """Rejected rows of one delivery for its own department's steward; each access is audited."""
    if who.role != "steward" or delivery_id is None or not (purpose or "").strip():
        return None
    rows = data.rejected_rows_for(who, int(delivery_id))
    if rows.empty:
        return rows
    ctx().store.log_access(who.username, who.role, action, delivery_id=int(delivery_id), rows=len(rows),
                           id_numbers=data.id_numbers_in(rows.raw), purpose=purpose.strip()[:200])
    return rows


@callback(Output("in-rows", "children"), Input("in-view", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), prevent_initial_call=True)
def view(_, delivery_id, purpose):
    who = guard(PATH)
    rows = _rejected(who, delivery_id, purpose, "view_rejected_rows")
    if rows is None:
        return "请填写批次号和用途 (enter a delivery id and a purpose)"
    if rows.empty:
        return "该批次没有属于本部门的被拒数据 (no rejected rows of your department in that delivery)"
    table = [{"line": r.line_number, "reasons": r.reasons, "row": r.raw} for r in rows.itertuples()]
    return dash_table.DataTable(data=table, columns=[{"name": c, "id": c} for c in ("line", "reasons", "row")],
                                page_size=20, style_cell={"textAlign": "left", "whiteSpace": "normal"})


@callback(Output("in-download", "data"), Input("in-download-btn", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), prevent_initial_call=True)
def download(_, delivery_id, purpose):
    who = guard(PATH)
    rows = _rejected(who, delivery_id, purpose, "download_rejected_rows")
    if rows is None or rows.empty:
        raise dash.exceptions.PreventUpdate
    lines = []
    for r in rows.itertuples():
        try:
            obj = json.loads(r.raw)
        except ValueError:
            obj = {"raw_line": r.raw}
        lines.append({"line_number": r.line_number, "reasons": r.reasons, **(obj if isinstance(obj, dict) else {"raw_line": r.raw})})
    import pandas as pd

    return dcc.send_data_frame(pd.DataFrame(lines).to_csv, f"rejected_rows_{int(delivery_id)}.csv", index=False, encoding="utf-8-sig")
