"""Ingestion health: stewards see their department (and its rejected rows, audited); auditors all, without rows."""

from __future__ import annotations

import json

import dash
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html

from cockpit import data
from cockpit.components import page, scope_name, send_csv
from cockpit.context import ctx, guard
from cockpit.i18n import columns, figure_layout, graph_config, label, message, named, t
from warehouse.contract.labels import REASONS
from warehouse.ops.store import LEGAL_BASES, id_numbers_in

PATH = "/ingestion"
dash.register_page(__name__, path=PATH, name="数据质量", name_en="Ingestion", order=3)
DELIVERY_COLUMNS = ["delivery_id", "department", "feed", "business_date", "file_name", "status", "rows_read",
                    "rows_accepted", "rows_rejected", "reason", "error", "arrived_at"]


# Timeliness codes in the order of their colours.
TIMELINESS = {code: i for i, code in enumerate(("on_time", "late", "rejected", "missing"))}
TIMELINESS_COLOURS = ["#2da44e", "#d29922", "#bc4c00", "#cf222e"]


def _timeliness_grid(days: pd.DataFrame) -> dict:
    """Feeds down, business dates across, each cell coloured on time / late / rejected / missing."""
    days = days.assign(feed_id=[label("feed", f"{d}/{f}") for d, f in zip(days.department, days.feed)],
                       code=days.timeliness.map(TIMELINESS))
    grid = days.pivot(index="feed_id", columns="business_date", values="code")
    text = days.assign(text=[label("timeliness", s) for s in days.timeliness]).pivot(
        index="feed_id", columns="business_date", values="text")
    n = len(TIMELINESS_COLOURS)
    scale = [[edge / n, c] for i, c in enumerate(TIMELINESS_COLOURS) for edge in (i, i + 1)]
    legend = " · ".join(label("timeliness", s) for s in TIMELINESS)
    layout = figure_layout()
    layout.update(title={"text": f"{t('按时报送', 'Timeliness')} ({legend})"}, height=160 + 22 * len(grid.index),
                  margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis={**layout["yaxis"], "automargin": True})
    return {"data": [{"type": "heatmap", "z": grid.values.tolist(), "x": [str(d)[:10] for d in grid.columns],
                      "y": list(grid.index), "text": text.values.tolist(), "zmin": -0.5, "zmax": n - 0.5,
                      "colorscale": scale, "showscale": False, "xgap": 1, "ygap": 1,
                      "hovertemplate": "%{y} %{x}: %{text}<extra></extra>"}], "layout": layout}


def _reasons_chart(reasons: pd.DataFrame) -> dict:
    """Rejected rows per business date, stacked by reason."""
    layout = figure_layout()
    layout.update(title={"text": t("拒收原因", "Rejection reasons")}, barmode="stack", height=360)
    traces = [{"type": "bar", "name": label("reason", reason), "x": part.business_date.astype(str).tolist(), "y": part.n.tolist()}
              for reason, part in reasons.groupby("reason", sort=True)]
    return {"data": traces, "layout": layout}


def _deliveries(deliveries: pd.DataFrame) -> list[dict]:
    """The ledger's rows with names for codes and the error rendered in the reader's language."""
    if deliveries.empty:
        return []
    df = deliveries.assign(error=[message(k, p, e) if k else (e or "") for k, p, e in zip(
        deliveries.get("error_key", [None] * len(deliveries)), deliveries.get("error_params", [None] * len(deliveries)),
        deliveries.error)])
    df = named(df, {"department": "department", "feed": "feed", "status": "delivery_status", "reason": "reason"})
    return df[DELIVERY_COLUMNS].fillna("").astype(str).to_dict("records")


def _reason_names(reasons: str) -> str:
    """'bad_date:due_at, duplicate:event_id' as names: each reason, and in brackets its column."""
    named_ = []
    for part in (reasons or "").split(", "):
        reason, _, column = part.partition(":")
        named_.append(label("reason", reason) + (t(f"（{column}）", f" ({column})") if column else ""))
    return t("；", "; ").join(named_)


def _reasons_explained(reasons: list[str]) -> html.Div:
    """What each reason on this page means and how the department fixes it."""
    items = []
    for code in dict.fromkeys(sorted(reasons)):
        reason = REASONS.get(code)
        if reason is not None:
            items.append(html.Li([html.B(label("reason", code) + t("：", ": ")), t(*reason.means) + t("。", ". "),
                                  t("处理：", "To fix: ") + t(*reason.fix) + t("。", ".")]))
    return html.Div([html.B(t("原因说明", "What the reasons mean")), html.Ul(items)], className="card")


@page(PATH)
def layout(who) -> html.Div:
    deliveries = data.deliveries_for(who)
    reasons = data.rejection_reasons_for(who)
    days = data.feed_days_for(who)
    findings = data.findings_for(who)
    parts = [html.H3(t("报送记录", "Deliveries") + (f" — {scope_name(who.scope)}" if who.scope else ""))]
    if not days.empty:
        counts = days.timeliness.value_counts().to_dict()
        parts.append(html.Div([html.Span(f"{label('timeliness', k)} {counts.get(k, 0)}", className=f"sev {k}")
                               for k in TIMELINESS], className="tally"))
        parts.append(dcc.Graph(id="in-timeliness", figure=_timeliness_grid(days), config=graph_config(displayModeBar=False)))
        drift = days[days.schema_drift.map(lambda c: hasattr(c, '__len__') and len(c) > 0)]
        if not drift.empty:
            parts.append(html.Div([html.B(t("结构变化（合同外的列）", "Schema drift (columns outside the contract)") + ": ")] + [
                html.Div(f"{label('feed', f'{r.department}/{r.feed}')} {str(r.business_date)[:10]}: {', '.join(r.schema_drift)}")
                for r in drift.itertuples()],
                className="card"))
    parts.append(dash_table.DataTable(
        id="in-deliveries", data=_deliveries(deliveries),
        columns=columns(DELIVERY_COLUMNS), page_size=15, sort_action="native", filter_action="native",
        style_cell={"textAlign": "left"}, style_table={"overflowX": "auto"}))
    if not reasons.empty:
        parts.append(dcc.Graph(figure=_reasons_chart(reasons), config=graph_config()))
    shown = [*reasons.get("reason", []), *deliveries.get("reason", pd.Series(dtype=str)).dropna()]
    if shown:
        parts.append(_reasons_explained(shown))
    parts.append(html.H3(t("跨部门一致性问题", "Cross-department findings")))
    findings = named(findings, {"rule": "finding", "owner_department": "department"})
    parts.append(dash_table.DataTable(data=findings.astype(str).to_dict("records") if not findings.empty else [],
                                      columns=columns(["rule", "owner_department", "findings", "since"]), page_size=10,
                                      style_cell={"textAlign": "left"}))
    if who.role == "steward":
        parts += [
            html.H3(t("被拒数据行（每次查看都将被审计）", "Rejected rows (every view is audited)")),
            dcc.Input(id="in-delivery", type="number", placeholder=t("批次号", "Delivery id")),
            dcc.Input(id="in-purpose", placeholder=t("用途（必填）", "Purpose (required)"), style={"width": "30%"}),
            dcc.Dropdown(id="in-basis", options=[{"label": t(*LEGAL_BASES[b]), "value": b} for b in ("statutory_duty", "data_correction")],
                         placeholder=t("法律依据（必填）", "Legal basis (required)"), style={"minWidth": "22rem"}),
            html.Button(t("查看", "View"), id="in-view"), html.Button(t("下载", "Download"), id="in-download-btn"),
            dcc.Download(id="in-download"),
            html.Div(id="in-rows"),
        ]
    return html.Div(parts)


def _rejected(who, delivery_id, purpose, basis, action):
    """Rejected rows of one delivery for its own department's steward, who must say why and on
    which legal basis; each access is audited (and shown to the people whose rows they are)."""
    if who.role != "steward" or delivery_id is None or not (purpose or "").strip() or basis not in LEGAL_BASES:
        return None
    rows = data.rejected_rows_for(who, int(delivery_id))
    if rows.empty:
        return rows
    ctx().store.log_access(who.username, who.role, action, delivery_id=int(delivery_id), rows=len(rows),
                           id_numbers=id_numbers_in(rows.raw), purpose=purpose.strip()[:200], scope=who.scope, legal_basis=basis)
    return rows


@callback(Output("in-rows", "children"), Input("in-view", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), State("in-basis", "value"), prevent_initial_call=True)
def view(_, delivery_id, purpose, basis):
    who = guard(PATH)
    rows = _rejected(who, delivery_id, purpose, basis, "view_rejected_rows")
    if rows is None:
        return t("请填写批次号、用途和法律依据", "Enter a delivery id, a purpose and the legal basis.")
    if rows.empty:
        return t("该批次没有属于本部门的被拒数据", "No rejected rows of your department in that delivery.")
    table = [{"line": r.line_number, "reasons": _reason_names(r.reasons), "row": r.raw} for r in rows.itertuples()]
    return dash_table.DataTable(id="in-rows-table", data=table, columns=columns(["line", "reasons", "row"]),
                                page_size=20, style_cell={"textAlign": "left", "whiteSpace": "normal"})


@callback(Output("in-download", "data"), Input("in-download-btn", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), State("in-basis", "value"), prevent_initial_call=True)
def download(_, delivery_id, purpose, basis):
    who = guard(PATH)
    rows = _rejected(who, delivery_id, purpose, basis, "download_rejected_rows")
    if rows is None or rows.empty:
        raise dash.exceptions.PreventUpdate
    lines = []
    for r in rows.itertuples():
        try:
            obj = json.loads(r.raw)
        except ValueError:
            obj = {"raw_line": r.raw}
        lines.append({"line_number": r.line_number, t("原因", "reasons"): _reason_names(r.reasons), "reason_ids": r.reasons,
                      **(obj if isinstance(obj, dict) else {"raw_line": r.raw})})
    return send_csv(pd.DataFrame(lines), f"rejected_rows_{int(delivery_id)}.csv")
