"""Alerts: list, filter, acknowledge with a comment — each role sees and acts on its own scope."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from cockpit import data
from cockpit.components import page
from cockpit.context import ctx, guard
from cockpit.i18n import columns, label, message, named, t
from warehouse.contract.labels import ALERT_STATUSES

PATH = "/alerts"
dash.register_page(__name__, path=PATH, name="预警", name_en="Alerts", order=2)
COLUMNS = ["alert_id", "severity", "status", "date", "district_code", "rule_id", "message", "owner_scope", "acknowledged_by"]


@page(PATH)
def layout(who) -> html.Div:
    return html.Div([
        dcc.Dropdown(id="al-status", value="open", clearable=False, options=[
            *({"label": label("alert_status", v), "value": v} for v in ALERT_STATUSES), {"label": t("全部", "All"), "value": "all"}]),
        dash_table.DataTable(id="al-table", columns=columns(COLUMNS), row_selectable="single",
                             page_size=20, style_cell={"textAlign": "left", "whiteSpace": "normal"}),
        dcc.Input(id="al-comment", placeholder=t("处理说明", "Comment"), style={"width": "60%"}),
        html.Button(t("确认", "Acknowledge"), id="al-ack"),
        html.Div(id="al-result", className="notice"),
    ])


def _rows(who, status):
    df = data.alerts_for(who)
    if df.empty:
        return []
    pending = ctx().store.acknowledged_ids()
    df = df.assign(status=[("acknowledged" if a in pending and s == "open" else s) for a, s in zip(df.alert_id, df.status)])
    if status != "all":
        df = df[df.status == status]
    df = df.assign(message=[message(k, p, m) for k, p, m in zip(df.get("message_key", [None] * len(df)),
                                                                 df.get("message_params", [None] * len(df)), df.message)])
    df = named(df, {"severity": "severity", "status": "alert_status", "district_code": "district", "rule_id": "rule",
                    "owner_scope": "owner"})
    return df[COLUMNS].fillna("").astype(str).to_dict("records")


@callback(Output("al-table", "data"), Input("al-status", "value"), Input("al-result", "children"))
def render(status, _):
    return _rows(guard(PATH), status)


@callback(Output("al-result", "children"), Input("al-ack", "n_clicks"), State("al-table", "data"),
          State("al-table", "selected_rows"), State("al-comment", "value"), prevent_initial_call=True)
def acknowledge(_, rows, selected, comment):
    who = guard(PATH)
    if not rows or not selected:
        return t("请先选择一条预警", "Select an alert first.")
    alert_id = rows[selected[0]]["alert_id"]
    # Judge the alert as stored in the snapshot, never as the browser describes it.
    alert = data.alerts_for(who)
    alert = alert[alert.alert_id == alert_id]
    if alert.empty or not who.may_acknowledge(alert.iloc[0].to_dict()):
        return t("无权确认此预警", "You may not acknowledge this alert.")
    ctx().store.acknowledge(alert_id, who.username, (comment or "").strip()[:500])
    return t(f"已确认 {alert_id}（下次刷新后生效）", f"Acknowledged {alert_id} (applied at the next refresh).")
