"""Overview (city and district managers): the city score, key indicators, the districts, alerts."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from cockpit import data
from cockpit.components import page
from cockpit.context import guard

PATH = "/"
dash.register_page(__name__, path=PATH, name="总览 Overview", order=0)


def _area_of(who, clicked: str | None) -> str:
    city = data.info().get("city_code", "")
    if who.role == "district_manager":
        return who.scope  # a district manager drills into nothing but their own district
    return clicked or city


@page(PATH)
def layout(who) -> html.Div:
    return html.Div([
        html.Div(id="ov-asof", className="notice"),
        dcc.Store(id="ov-district"),
        html.Div(id="ov-score", className="card"),
        html.Div(id="ov-kpis", className="cards"),
        dcc.Graph(id="ov-map", config={"displayModeBar": False}),
        html.Div(id="ov-alerts", className="card"),
    ])


@callback(Output("ov-district", "data"), Input("ov-map", "clickData"), prevent_initial_call=True)
def pick_district(click):
    who = guard(PATH)
    if not click:
        raise dash.exceptions.PreventUpdate
    return _area_of(who, click["points"][0].get("customdata"))


@callback(Output("ov-asof", "children"), Output("ov-score", "children"), Output("ov-kpis", "children"),
          Output("ov-map", "figure"), Output("ov-alerts", "children"), Input("ov-district", "data"))
def render(selected):
    who = guard(PATH)
    area = _area_of(who, selected)
    info = data.info()
    names = dict(zip(data.districts().district_code, data.districts().name))
    title = names.get(area, info.get("city_name", ""))
    scores = data.scores(area)
    score_box = [html.Div(f"{title} 城市体征评分 City score")]
    for _, s in scores.iterrows():
        score_box.append(html.Span(f" {s.period}: ", className="delta"))
        score_box.append(html.Span(f"{s.score:.2f}", className="score" if s.period == "day" else ""))
    if not scores.empty:
        weakest = scores[scores.period == "day"].weakest_indicator
        if len(weakest):
            score_box.append(html.Div(f"拖累最大 weakest: {weakest.iloc[0]}", className="delta"))
    cards = []
    for _, k in data.kpis(area).iterrows():
        pct = k.unit == "%"
        fmt = (lambda v: "—" if v is None or v != v else (f"{v * 100:.1f}%" if pct else f"{v:,.0f}"))  # noqa: E731
        delta = "" if k.week_before is None or k.week_before != k.week_before or k.value is None else \
            f"较上周 vs last week: {fmt(k.value - k.week_before) if not pct else f'{(k.value - k.week_before) * 100:+.1f} pt'}"
        history = [] if k.history is None else [v for v in k.history if v == v]
        spark = go.Figure(go.Scatter(y=history, mode="lines", line={"width": 1}))
        spark.update_layout(height=40, margin=dict(l=0, r=0, t=0, b=0), xaxis_visible=False, yaxis_visible=False,
                            paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
        label = f"{k.name_zh} {k.name_en}" + (" (全市 city)" if k.area != area else "")
        cards.append(html.Div([html.Div(label), html.Div(fmt(k.value), className="value"),
                               html.Div(delta, className="delta"),
                               dcc.Graph(figure=spark, config={"staticPlot": True}, style={"height": "40px"})], className="card"))
    ds = data.district_scores()
    fig = go.Figure(go.Scatter(
        x=ds.lon, y=ds.lat, mode="markers+text", text=ds.name, customdata=ds.district_code, textposition="top center",
        marker=dict(size=28, color=ds.score, colorscale="RdYlGn", cmin=0.6, cmax=1.2, showscale=True,
                    line=dict(width=[3 if c == area else 0 for c in ds.district_code], color="#1f6feb")),
        hovertemplate="%{text}<br>score %{marker.color:.2f}<extra></extra>"))
    fig.update_layout(title="各区评分（点击下钻） District scores — click to drill down", height=420,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_visible=False, yaxis_visible=False)
    alerts = data.alerts_for(who)
    open_ = alerts[alerts.status == "open"] if not alerts.empty else alerts
    counts = open_.severity.value_counts().to_dict() if not open_.empty else {}
    alert_box = [html.Div(f"未处理预警 Open alerts: 严重 critical {counts.get('critical', 0)} · 警告 warning {counts.get('warning', 0)}"),
                 html.Ul([html.Li(m) for m in open_.message.head(8)]) if not open_.empty else html.Div("无 none")]
    asof = f"数据截至 As of {info.get('as_of', '?')} · 发布 published {info.get('published_at', '?')[:19]}"
    return asof, score_box, cards, fig, alert_box
