"""Ingestion health: stewards see their department (and its rejected rows, audited); auditors all, without rows."""

from __future__ import annotations

import json

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from cockpit.components import button, data_grid, page, scope_name, select, send_csv, text_input
from cockpit.context import ctx, guard
from cockpit.data import ingestion
from cockpit.i18n import N_, _, columns, figure_layout, graph_config, label, lang, message, named, pgettext, time_text
from warehouse.contract.labels import LEGAL_BASES, REASONS
from warehouse.ops.access_log import id_numbers_in

PATH = "/ingestion"
dash.register_page(__name__, path=PATH, name=N_("Ingestion"), order=3,
                   allowed="see_feed_health")
DELIVERY_COLUMNS = ["delivery_id", "department", "feed", "business_date", "file_name", "status", "rows_read",
                    "rows_accepted", "rows_rejected", "reason", "fix", "error", "arrived_at"]


# Timeliness codes in the order of their colours.
TIMELINESS = {code: i for i, code in enumerate(("on_time", "late", "rejected", "missing"))}
TIMELINESS_COLOURS = ["#2da44e", "#d29922", "#bc4c00", "#cf222e"]
# The ledger's statuses, in the order the tally shows them.
FILE_STATUSES = ("accepted", "partial", "rejected", "superseded")


def _feed_name(department: str, feed: str, *, with_department: bool) -> str:
    """A feed by its name; prefixed with its department where several departments are shown."""
    name = label("feed", f"{department}/{feed}")
    return f"{label('department', department)} · {name}" if with_department else name


def _timeliness_grid(days: pd.DataFrame, with_department: bool) -> dict:
    """Feeds down (by name), business dates across (dated ticks in the reader's language), each
    cell coloured on time / late / rejected / missing, with a legend of the four colours."""
    days = days.assign(feed_id=[_feed_name(d, f, with_department=with_department) for d, f in zip(days.department, days.feed)],
                       code=days.timeliness.map(TIMELINESS), business_date=[str(d)[:10] for d in days.business_date])
    grid = days.pivot(index="feed_id", columns="business_date", values="code")
    text = days.assign(text=[label("timeliness", s) for s in days.timeliness]).pivot(
        index="feed_id", columns="business_date", values="text")
    n = len(TIMELINESS_COLOURS)
    scale = [[edge / n, c] for i, c in enumerate(TIMELINESS_COLOURS) for edge in (i, i + 1)]
    layout = figure_layout()
    layout.update(title={"text": _("Each feed by business date")},
                  height=190 + 24 * len(grid.index), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                  yaxis={**layout["yaxis"], "automargin": True, "autorange": "reversed"},
                  xaxis={**layout["xaxis"], "type": "date", "automargin": True, "tickformat": _("%b %-d"),
                         "showgrid": False},
                  legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    heat = {"type": "heatmap", "z": grid.values.tolist(), "x": list(grid.columns), "y": list(grid.index),
            "text": text.values.tolist(), "zmin": -0.5, "zmax": n - 0.5, "colorscale": scale, "showscale": False,
            "xgap": 1, "ygap": 1, "hovertemplate": "%{y}<br>%{x|%Y-%m-%d}: %{text}<extra></extra>"}
    # The legend: one square per state (a heatmap has no legend of its own).
    keys = [{"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": label("timeliness", code),
             "marker": {"symbol": "square", "size": 12, "color": colour}, "hoverinfo": "skip", "showlegend": True}
            for code, colour in zip(TIMELINESS, TIMELINESS_COLOURS)]
    return {"data": [heat, *keys], "layout": layout}


def _reasons_chart(reasons: pd.DataFrame) -> dict:
    """Rejected rows per business date, stacked by reason. A day far above the others (the first
    load) would flatten the rest: the axis stops above the next highest day and that bar is
    labelled with its real total."""
    layout = figure_layout()
    by_day = reasons.groupby("business_date").n.sum()
    layout.update(title={"text": _("Rejected rows per business date, by reason")},
                  barmode="stack", height=380, legend={"orientation": "h", "y": -0.15, "yanchor": "top"},
                  xaxis={**layout["xaxis"], "type": "date", "tickformat": _("%b %-d")},
                  yaxis={**layout["yaxis"], "title": {"text": _("rows")}})
    ordered = by_day.sort_values(ascending=False)
    if len(ordered) > 1 and ordered.iloc[0] > 3 * max(ordered.iloc[1], 1):
        top = 1.25 * max(ordered.iloc[1], 1)
        layout["yaxis"]["range"] = [0, top]
        day = str(ordered.index[0])[:10]
        layout["annotations"] = [{"x": day, "y": top, "yref": "y", "text": _("{rows} rows ↑").format(rows=int(ordered.iloc[0])),
                                  "showarrow": False, "yanchor": "bottom", "xanchor": "left", "font": {"size": 11}}]
    traces = [{"type": "bar", "name": label("reason", reason), "x": [str(d)[:10] for d in part.business_date], "y": part.n.tolist(),
               "hovertemplate": "%{fullData.name} %{x|%Y-%m-%d}: %{y}<extra></extra>"}
              for reason, part in reasons.groupby("reason", sort=True)]
    return {"data": traces, "layout": layout}


def _fix(reason, rows_rejected) -> str:
    """What the department does about a file: the whole-file reason's fix, or for rows rejected
    one by one, correcting them by their reasons (listed under the chart)."""
    if isinstance(reason, str) and reason in REASONS:
        return REASONS[reason].fix_in(lang())
    if rows_rejected and rows_rejected == rows_rejected:
        return _("Correct the rows by their reasons and deliver them again")
    return ""


def _deliveries(deliveries: pd.DataFrame) -> list[dict]:
    """The ledger's rows with names for codes, the error rendered in the reader's language, what
    the department does about a whole-file rejection, and times to the second."""
    if deliveries.empty:
        return []
    df = deliveries.assign(
        error=[message(k, p, e) if k else (e or "") for k, p, e in zip(
            deliveries.get("error_key", [None] * len(deliveries)), deliveries.get("error_params", [None] * len(deliveries)),
            deliveries.error)],
        fix=[_fix(r, n) for r, n in zip(deliveries.reason, deliveries.rows_rejected)],
        arrived_at=[time_text(v, seconds=True) for v in deliveries.arrived_at],
        business_date=[str(v)[:10] for v in deliveries.business_date])
    df = named(df, {"department": "department", "feed": "feed", "status": "delivery_status", "reason": "reason"})
    return df[DELIVERY_COLUMNS].fillna("").astype(str).to_dict("records")


def tallies(deliveries: pd.DataFrame, days: pd.DataFrame) -> dict[str, dict[str, int]]:
    """What the page counts, from the same rows the ledger lists: files by status (a whole-file
    rejection is a rejected file), rows read, accepted and rejected; and feed-days by timeliness."""
    files = {s: int((deliveries.status == s).sum()) if not deliveries.empty else 0 for s in FILE_STATUSES}
    rows = {c: int(deliveries[c].sum()) if not deliveries.empty else 0 for c in ("rows_read", "rows_accepted", "rows_rejected")}
    feed_days = {k: int((days.timeliness == k).sum()) if not days.empty else 0 for k in TIMELINESS}
    return {"files": files, "rows": rows, "feed_days": feed_days}


def _tally_bar(counts: dict[str, dict[str, int]]) -> html.Div:
    files, rows, feed_days = counts["files"], counts["rows"], counts["feed_days"]
    return html.Div([
        html.Div([html.B(_("Files (as in the ledger below): "))] +
                 [html.Span(f"{label('delivery_status', s)} {files[s]}", className=f"sev file-{s}", id=f"in-files-{s}")
                  for s in FILE_STATUSES] +
                 [html.Span(_("{read} rows read · {accepted} accepted · {rejected} rejected").format(read=rows['rows_read'], accepted=rows['rows_accepted'], rejected=rows['rows_rejected']),
                            id="in-row-counts")], className="tally"),
        html.Div([html.B(_("Feed-days: "))] +
                 [html.Span(f"{label('timeliness', k)} {feed_days[k]}", className=f"sev {k}", id=f"in-days-{k}")
                  for k in TIMELINESS], className="tally"),
    ])


def _reason_names(reasons: str) -> str:
    """'bad_date:due_at, duplicate:event_id' as names: each reason, and in brackets its column."""
    named_ = []
    for part in (reasons or "").split(", "):
        reason, _rest, column = part.partition(":")
        named_.append(label("reason", reason) + (_(" ({column})").format(column=column) if column else ""))
    return _("; ").join(named_)


def _reasons_explained(reasons: list[str]) -> html.Div:
    """What each reason on this page means and how the department fixes it."""
    items = []
    for code in dict.fromkeys(sorted(reasons)):
        reason = REASONS.get(code)
        if reason is not None:
            items.append(html.Li([html.B(label("reason", code) + _(": ")), reason.means_in(lang()) + _(". "),
                                  _("To fix: ") + reason.fix_in(lang()) + _(".")]))
    return html.Div([html.B(_("What the reasons mean")), html.Ul(items)], className="card")


@page(PATH)
def layout(who) -> html.Div:
    deliveries = ingestion.deliveries_for(who)
    reasons = ingestion.rejection_reasons_for(who)
    days = ingestion.feed_days_for(who)
    findings = ingestion.findings_for(who)
    parts = [html.H3(_("Deliveries") + (f" — {scope_name(who.scope)}" if who.scope else ""))]
    if deliveries.empty and days.empty:
        parts.append(html.Div(_("No deliveries yet: once your department's files arrive and a refresh has run, each file and what became of it is listed here."), className="notice", id="in-empty"))
    else:
        parts.append(_tally_bar(tallies(deliveries, days)))
    if not days.empty:
        parts.append(dcc.Graph(id="in-timeliness", figure=_timeliness_grid(days, with_department=who.scope_kind != "department"),
                               config=graph_config(displayModeBar=False)))
        drift = days[days.schema_drift.map(lambda c: hasattr(c, '__len__') and len(c) > 0)]
        if not drift.empty:
            # One line per feed and set of extra columns, with the days they came (not one per day).
            seen: dict[tuple[str, str], list[str]] = {}
            for r in drift.itertuples():
                what = (_feed_name(r.department, r.feed, with_department=who.scope_kind != "department"), ", ".join(sorted(r.schema_drift)))
                seen.setdefault(what, []).append(str(r.business_date)[:10])
            parts.append(html.Div([html.B(_("Schema drift (columns outside the contract)") + _(": "))] + [
                html.Div(_("{feed}: {columns} ({dates})").format(feed=feed, columns=cols, dates=pgettext("list separator", ", ").join(dates)))
                for (feed, cols), dates in seen.items()],
                className="card"))
    if not deliveries.empty:
        # A steward's ledger is all their own department's: no department column.
        shown_columns = [c for c in DELIVERY_COLUMNS if c != "department" or who.scope_kind != "department"]
        # Words (names, why, what to do) are shown whole, on several lines: the ledger fits the screen.
        parts.append(data_grid("in-deliveries", columns(shown_columns), _deliveries(deliveries), page_size=15,
                               sort=True, filter=("department", "feed", "business_date", "file_name", "status", "reason"),
                               wrap=("department", "feed", "file_name", "status", "reason", "fix", "error"),
                               wrap_width=120))
    if not reasons.empty:
        parts.append(dcc.Graph(id="in-reasons", figure=_reasons_chart(reasons), config=graph_config()))
    elif not deliveries.empty:
        parts.append(html.Div(_("No rows were rejected."), className="notice"))
    shown = [*reasons.get("reason", []), *deliveries.get("reason", pd.Series(dtype=str)).dropna()]
    if shown:
        parts.append(_reasons_explained(shown))
    parts.append(html.H3(_("Cross-department findings")))
    findings = named(findings, {"rule": "finding", "owner_department": "department"})
    parts.append(data_grid(None, columns(["rule", "owner_department", "findings", "since"]),
                           findings.astype(str).to_dict("records") if not findings.empty else [], page_size=10))
    if who.can("see_rejected_rows") and not deliveries.empty:
        parts += [
            html.H3(_("Rejected rows (every view is audited)")),
            html.Div([
                text_input("in-delivery", _("Delivery id"), kind="number"),
                text_input("in-purpose", _("Purpose (required)"), style={"width": "30%"}),
                select("in-basis", [{"label": label("legal_basis", b), "value": b} for b in ("statutory_duty", "data_correction")],
                       placeholder=_("Legal basis (required)"), style={"minWidth": "22rem"}),
                button(_("View"), "in-view", kind="primary"), button(_("Download"), "in-download-btn"),
            ], className="toolbar"),
            dcc.Download(id="in-download"),
            html.Div(id="in-rows"),
        ]
    return html.Div(parts)


def _rejected(who, delivery_id, purpose, basis, action):
    """Rejected rows of one delivery for its own department's steward, who must say why and on
    which legal basis; each access is audited (and shown to the people whose rows they are)."""
    try:  # the field sends a number, or "" while empty; a forged request may send anything
        delivery_id = int(delivery_id)
    except (TypeError, ValueError):
        return None
    if not who.can("see_rejected_rows") or not (purpose or "").strip() or basis not in LEGAL_BASES:
        return None
    rows = ingestion.rejected_rows_for(who, delivery_id)
    if rows.empty:
        return rows
    ctx().store.log_access(who.username, who.role, action, delivery_id=delivery_id, rows=len(rows),
                           id_numbers=id_numbers_in(rows.raw), purpose=purpose.strip()[:200], scope=who.scope, legal_basis=basis)
    return rows


@callback(Output("in-rows", "children"), Input("in-view", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), State("in-basis", "value"), prevent_initial_call=True)
def view(_unused, delivery_id, purpose, basis):
    who = guard(PATH)
    rows = _rejected(who, delivery_id, purpose, basis, "view_rejected_rows")
    if rows is None:
        return _("Enter a delivery id, a purpose and the legal basis.")
    if rows.empty:
        return _("No rejected rows of your department in that delivery.")
    table = [{"line": r.line_number, "reasons": _reason_names(r.reasons), "row": r.raw} for r in rows.itertuples()]
    return data_grid("in-rows-table", columns(["line", "reasons", "row"]), table, page_size=20, wrap=("row",))


@callback(Output("in-download", "data"), Input("in-download-btn", "n_clicks"), State("in-delivery", "value"),
          State("in-purpose", "value"), State("in-basis", "value"), prevent_initial_call=True)
def download(_unused, delivery_id, purpose, basis):
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
        lines.append({"line_number": r.line_number, _("reasons"): _reason_names(r.reasons), "reason_ids": r.reasons,
                      **(obj if isinstance(obj, dict) else {"raw_line": r.raw})})
    return send_csv(pd.DataFrame(lines), f"rejected_rows_{int(delivery_id)}.csv")
