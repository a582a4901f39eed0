"""Pipeline runs (analysts): recent Dagster runs, launching a refresh or an indicator backfill
through Dagster's GraphQL API, and a plain message when Dagster is not running."""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from cockpit import dagster_api
from cockpit.components import page
from cockpit.context import guard
from cockpit.i18n import columns, date_picker_text, label, t

PATH = "/runs"
dash.register_page(__name__, path=PATH, name="运行管理", name_en="Pipeline runs", order=5)
COLUMNS = ["run_id", "job", "status", "started", "ended"]


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        html.Div([
            html.Button(t("立即刷新", "Run the daily refresh"), id="ru-refresh"),
            html.Span(t("补算指标：", "Backfill indicators: "), className="delta"),
            dcc.DatePickerRange(id="ru-range", **date_picker_text()),
            html.Button(t("补算", "Backfill"), id="ru-backfill"),
        ], className="toolbar"),
        html.Div(id="ru-result", className="notice"),
        html.Div(id="ru-status", className="notice"),
        dash_table.DataTable(id="ru-table", columns=columns(COLUMNS), page_size=25, style_cell={"textAlign": "left"}),
        dcc.Interval(id="ru-tick", interval=10_000),
    ])


def _when(ts: float | None) -> str:
    return "" if not ts else dt.datetime.fromtimestamp(ts).isoformat(sep=" ", timespec="seconds")


@callback(Output("ru-table", "data"), Output("ru-status", "children"), Input("ru-tick", "n_intervals"),
          Input("ru-result", "children"))
def render(_, __):
    guard(PATH)
    try:
        runs = dagster_api.recent_runs()
    except dagster_api.DagsterUnavailable as e:
        return [], t("无法连接调度服务，请确认其已启动", f"Cannot reach Dagster: {e}")
    rows = [{"run_id": r.run_id[:8], "job": label("job", r.job), "status": label("run_state", r.status),
             "started": _when(r.started), "ended": _when(r.ended)} for r in runs]
    return rows, t("调度服务在线", "Dagster is up")


@callback(Output("ru-result", "children"), Input("ru-refresh", "n_clicks"), Input("ru-backfill", "n_clicks"),
          State("ru-range", "start_date"), State("ru-range", "end_date"), prevent_initial_call=True)
def launch(_, __, first, last):
    who = guard(PATH)
    try:
        if dash.ctx.triggered_id == "ru-refresh":
            run_id = dagster_api.launch_refresh(who.username)
            return t(f"已提交刷新，运行编号 {run_id[:8]}", f"Refresh launched: run {run_id[:8]}")
        if not first or not last:
            return t("请先选择补算的起止日期", "Choose the first and last day to backfill.")
        first, last = sorted([first[:10], last[:10]])
        backfill_id = dagster_api.launch_backfill(first, last, who.username)
        return t(f"已提交补算 {first}～{last}，编号 {backfill_id}", f"Backfill {first}..{last} launched: {backfill_id}")
    except dagster_api.DagsterUnavailable as e:
        return t("提交失败：调度服务无法连接或未接受请求", f"Not launched: {e}")
