"""Overview (city and district managers): the city score, key indicators, the districts, alerts."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from cockpit import data
from cockpit.components import page
from cockpit.context import guard
from cockpit.fan import sparkline_fan
from cockpit.i18n import figure_layout, graph_config, label, lang, message, t
from warehouse.contract.labels import SEVERITIES

PATH = "/"
dash.register_page(__name__, path=PATH, name="总览", name_en="Overview", order=0)


def _area_of(who, clicked: str | None) -> str:
    city = data.info().get("city_code", "")
    if who.role == "district_manager":
        return who.scope  # a district manager drills into nothing but their own district
    return clicked or city


@page(PATH)
def layout(who) -> html.Div:
    ds = data.districts()
    city = data.info().get("city_code", "")
    choices = [{"label": t("全市", "Whole city"), "value": city}] + [
        {"label": t(n, e), "value": c} for c, n, e in zip(ds.district_code, ds.name, ds.name_en)]
    if who.role == "district_manager":
        choices = [c for c in choices if c["value"] == who.scope]
    return html.Div([
        html.Div(id="ov-asof", className="notice"),
        dcc.Dropdown(id="ov-pick", options=choices, value=choices[0]["value"] if choices else None, clearable=False,
                     className="picker"),
        dcc.Store(id="ov-district"),
        html.Div(id="ov-score", className="card"),
        html.Div(id="ov-kpis", className="cards"),
        dcc.Graph(id="ov-categories", config=graph_config(displayModeBar=False)),
        html.Div([dcc.Graph(id="ov-map", config=graph_config(displayModeBar=False)),
                  html.Div([html.Div(id="ov-outlook", className="card outlook"), html.Div(id="ov-alerts", className="card")])],
                 className="split"),
    ])


@callback(Output("ov-district", "data"), Input("ov-map", "clickData"), Input("ov-pick", "value"), prevent_initial_call=True)
def pick_district(click, picked):
    """Drill down by clicking a district's tile or choosing it in the list."""
    who = guard(PATH)
    if dash.ctx.triggered_id == "ov-map":
        if not click:
            raise dash.exceptions.PreventUpdate
        return _area_of(who, click["points"][0].get("customdata"))
    return _area_of(who, picked)


def _fmt(value, pct: bool) -> str:
    if value is None or value != value:
        return "—"
    if pct:
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"  # e.g. satisfaction 4.62


def _kpi_card(k, area: str, ahead, today: str | None) -> html.Div:
    """One key indicator: its latest value, the change in a week, and a small fan of the last
    30 days and the forecast (``ahead``: the forecast rows of this indicator and area)."""
    pct = k.unit == "%"
    delta = ""
    if not (k.week_before is None or k.week_before != k.week_before or k.value is None or k.value != k.value):
        change = f"{(k.value - k.week_before) * 100:+.1f}{t('个百分点', ' pt')}" if pct else f"{k.value - k.week_before:+,.0f}"
        delta = f"{t('较上周', 'vs last week')} {change}"
    days = [] if k.history is None else [(d, v) for d, v in zip(k.history_dates, k.history) if v == v and v is not None]
    spark = sparkline_fan([d for d, _ in days], [v for _, v in days], ahead, today)
    label = t(k.name_zh, k.name_en) + (t("（全市）", " (city)") if k.area != area else "")
    return html.Div([html.Div(label), html.Div(_fmt(k.value, pct), className="value"), html.Div(delta, className="delta"),
                     dcc.Graph(figure=spark, config=graph_config(staticPlot=True), style={"height": "40px"})],
                    className="card kpi", **{"data-indicator": k.indicator_id})


# Red (a weak score) through yellow to green; plotly.js has no built-in red-yellow-green scale.
SCORE_COLOURS = [[0.0, "#d73027"], [0.25, "#fc8d59"], [0.5, "#fee08b"], [0.75, "#91cf60"], [1.0, "#1a9850"]]


def _tile_map(area: str) -> dict:
    """The districts as equal tiles placed like the map (geometry from the city configuration)."""
    ds = data.district_scores()
    layout = figure_layout()
    layout.update(title={"text": t("各区评分（点击下钻）", "District scores (click to drill down)")}, height=460,
                  margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                  xaxis={"visible": False, "range": [-0.6, 5.6]}, yaxis={"visible": False, "range": [-4.6, 0.6], "scaleanchor": "x"})
    scores = [None if s != s else float(s) for s in ds.score]
    return {"data": [{
        "type": "scatter", "x": ds.tile_col.tolist(), "y": (-ds.tile_row).tolist(), "mode": "markers+text",
        "text": [t(n, e) for n, e in zip(ds.name, ds.name_en)], "customdata": ds.district_code.tolist(),
        "textfont": {"color": "#111", "size": 13},
        "marker": {"symbol": "square", "size": 72, "color": scores, "colorscale": SCORE_COLOURS, "cmin": 0.6, "cmax": 1.2,
                   "showscale": True, "line": {"width": [4 if c == area else 0 for c in ds.district_code], "color": "#1f6feb"}},
        "hovertemplate": "%{text}<br>" + t("评分", "score") + " %{marker.color:.2f}<extra></extra>"}], "layout": layout}


def _categories(area: str) -> dict:
    """The last week's citizens' requests by category (12345), most first."""
    by = data.requests_by_category(area)
    layout = figure_layout()
    layout.update(title={"text": t("近7天市民诉求 · 按类别", "Citizens' requests, last 7 days, by category")}, height=300,
                  margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis={"autorange": "reversed", "automargin": True},
                  xaxis={"automargin": True})
    if by.empty:
        layout.update(annotations=[{"text": t("暂无诉求数据", "No requests yet"), "showarrow": False, "xref": "paper",
                                    "yref": "paper", "x": 0.5, "y": 0.5}])
        return {"data": [], "layout": layout}
    names = [label("category", c) for c in by.category]
    return {"data": [{"type": "bar", "orientation": "h", "x": by.requests.tolist(), "y": names,
                      "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>"}], "layout": layout}


def _score_box(title: str, scores) -> list:
    """Each score family: day, week, month and quarter with the dates they cover, 1.0 = on target,
    and the indicators lifting and pulling it most today."""
    if scores.empty:
        return [html.Div(t("尚无评分", "No score yet"))]
    box = [html.Div([html.Strong(title), html.Span(t(" · 1.0 = 达到目标，越高越好（0–2）", " · 1.0 = on target, higher is better (0–2)"),
                                                   className="delta")])]
    for family, rows in scores.groupby("family", sort=False):
        periods = []
        for s in rows.itertuples():
            span = f"{s.first_day:%m-%d}" if s.first_day == s.last_day else f"{s.first_day:%m-%d}–{s.last_day:%m-%d}"
            periods.append(html.Span([f"{label('period', s.period)} ",
                                      html.Span(f"{s.score:.2f}", className="score" if s.period == "day" else ""),
                                      html.Small(f" ({span}) ")], className="period"))
        day = rows[rows.period == "day"]
        line = [html.Div([html.B(label("score_family", family) + t("：", ": ")), *periods])]
        if len(day):
            d = day.iloc[0]
            line.append(html.Div(f"{t('拉低最多：', 'Pulling down most: ')}{label('indicator', d.weakest_indicator)}"
                                 f" · {t('贡献最大：', 'Lifting most: ')}{label('indicator', d.strongest_indicator)}",
                                 className="delta"))
        box.append(html.Div(line, className=f"score-family {family}"))
    return box


def _outlook(open_alerts) -> list:
    """The next 7 days (预警): open forecast breaches in the viewer's scope, soonest first, each
    with its indicator, district, first predicted day, severity and where it stands in the loop."""
    head = html.H4(t("未来7天预警", "Next 7 days"))
    breaches = open_alerts[open_alerts.rule_id == "forecast_breach"] if not open_alerts.empty else open_alerts
    if breaches.empty:
        return [head, html.Div(t("预测未见越线", "No forecast crosses a threshold"), className="delta")]
    breaches = breaches.assign(rank=(breaches.severity != "critical").astype(int)).sort_values(["date", "rank"])
    rows = [html.Tr([html.Td(str(b.date)[:10]), html.Td(label("severity", b.severity), className=f"sev {b.severity}"),
                     html.Td(label("indicator", b.subject)), html.Td(label("district", b.district_code)),
                     html.Td(label("alert_state", b.state))]) for b in breaches.head(10).itertuples()]
    header = html.Tr([html.Th(h) for h in (t("越线日", "From"), t("级别", "Severity"), t("指标", "Indicator"),
                                           t("区县", "District"), t("处置", "Handling"))])
    return [head, html.Table([html.Thead(header), html.Tbody(rows)], className="outlook-table")]


@callback(Output("ov-asof", "children"), Output("ov-score", "children"), Output("ov-kpis", "children"),
          Output("ov-map", "figure"), Output("ov-alerts", "children"), Output("ov-categories", "figure"),
          Output("ov-outlook", "children"), Input("ov-district", "data"))
def render(selected):
    who = guard(PATH)
    area = _area_of(who, selected)
    info = data.info()
    ds = data.districts()
    names = dict(zip(ds.district_code, ds.name_en if lang() == "en" else ds.name))
    title = names.get(area, info.get("city_name_en" if lang() == "en" else "city_name", info.get("city_name", "")))
    score_box = _score_box(title, data.scores(area))
    kpis = data.kpis(area)
    ahead = data.forecasts(list(kpis.indicator_id), list({*kpis.area})) if not kpis.empty else None
    today = str(info.get("as_of", ""))[:10] or None
    cards = [_kpi_card(k, area, None if ahead is None or ahead.empty else
                       ahead[(ahead.indicator_id == k.indicator_id) & (ahead.district_code == k.area)], today)
             for k in kpis.itertuples()]
    alerts = data.alerts_for(who)
    # Open conditions not yet closed in the loop.
    open_ = alerts[(alerts.status == "open") & (alerts.state != "closed")] if not alerts.empty else alerts
    if who.role == "city_manager" and area != info.get("city_code") and not open_.empty:
        open_ = open_[open_.district_code == area]
    counts = open_.severity.value_counts().to_dict() if not open_.empty else {}
    alert_box = [
        html.H4(t("未解除预警", "Open alerts")),
        html.Div([html.Span(f"{label('severity', s)} {counts.get(s, 0)}", className=f"sev {s}") for s in SEVERITIES]),
        html.Ul([html.Li(message(a.get("message_key"), a.get("message_params"), a["message"]))
                 for a in open_.head(8).to_dict("records")]) if not open_.empty else html.Div(t("无", "None")),
    ]
    outlook = _outlook(open_)
    asof = f"{t('数据截至', 'Data as of')} {info.get('as_of', '?')} · {t('发布于', 'published')} {info.get('published_at', '?')[:19]}"
    return asof, score_box, cards, _tile_map(area), alert_box, _categories(area), outlook
