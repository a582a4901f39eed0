"""Indicator explorer (analysts, managers): pick indicators, districts and dates; compare; download."""

from __future__ import annotations

import dash
import plotly.express as px
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from cockpit import data
from cockpit.components import page
from cockpit.context import guard
from cockpit.i18n import figure_layout, lang, t

PATH = "/explorer"
dash.register_page(__name__, path=PATH, name="指标分析", name_en="Explorer", order=1)


@page(PATH)
def layout(who) -> html.Div:
    cat = data.catalog()
    city = data.info().get("city_code", "")
    ds = data.districts()
    info = data.info()
    city_name = info.get("city_name_en" if lang() == "en" else "city_name", info.get("city_name", ""))
    options = [{"label": f"{city_name} ({t('全市', 'whole city')})", "value": city}] + [
        {"label": t(n, e), "value": c} for c, n, e in zip(ds.district_code, ds.name, ds.name_en)]
    options = [o for o in options if o["value"] in who.district_filter([o["value"]], city)]
    return html.Div([
        dcc.Dropdown(id="ex-ind", multi=True, value=["cert.usage"],
                     options=[{"label": t(r.name_zh, r.name_en), "value": r.indicator_id} for r in cat.itertuples()]),
        dcc.Dropdown(id="ex-dist", multi=True, value=[options[0]["value"]] if options else [], options=options),
        dcc.DatePickerRange(id="ex-dates"),
        dcc.Graph(id="ex-graph"),
        html.Div(id="ex-defs", className="card"),
        html.Button(t("下载 CSV", "Download CSV"), id="ex-download-btn"),
        dcc.Download(id="ex-download"),
    ])


def _query(who, indicators, districts, start, end):
    city = data.info().get("city_code", "")
    areas = who.district_filter(districts or [], city)  # a forged request for another district gets nothing
    return data.series(indicators or [], areas, start, end)


@callback(Output("ex-graph", "figure"), Output("ex-defs", "children"),
          Input("ex-ind", "value"), Input("ex-dist", "value"), Input("ex-dates", "start_date"), Input("ex-dates", "end_date"))
def render(indicators, districts, start, end):
    who = guard(PATH)
    df = _query(who, indicators, districts, start, end)
    fig = px.line(df, x="date", y="value", color="district_code", facet_row="indicator_id", height=300 + 150 * len(indicators or [])) \
        if not df.empty else go.Figure(layout={"title": t("无数据", "No data")})
    fig.update_yaxes(matches=None)
    fig.update_layout(**figure_layout())
    cat = data.catalog()
    cat = cat[cat.indicator_id.isin(indicators or [])]
    defs = [html.P([html.B(f"{t(r.name_zh, r.name_en)} ({r.unit}) — {t('责任部门', 'owner')} {r.owner}: "), r.definition])
            for r in cat.itertuples()]
    return fig, defs


@callback(Output("ex-download", "data"), Input("ex-download-btn", "n_clicks"),
          State("ex-ind", "value"), State("ex-dist", "value"), State("ex-dates", "start_date"), State("ex-dates", "end_date"),
          prevent_initial_call=True)
def download(_, indicators, districts, start, end):
    who = guard(PATH)
    df = _query(who, indicators, districts, start, end)
    return dcc.send_data_frame(df.to_csv, "indicators.csv", index=False, encoding="utf-8-sig")
