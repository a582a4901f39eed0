"""Indicator explorer (analysts, managers): pick indicators, districts and dates; compare; download."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from cockpit import data
from cockpit.components import page, send_csv
from cockpit.context import guard
from cockpit.fan import fan_traces, threshold_lines, today_marker
from cockpit.i18n import date_picker_text, figure_layout, graph_config, label, lang, t

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
        dcc.DatePickerRange(id="ex-dates", **date_picker_text()),
        html.Div(t("实线为实际值；虚线为预测均值，深色与浅色带为 80% 与 95% 预测区间；虚横线为预警线与警戒线。",
                   "Solid: what happened; dashed: the forecast mean, with its 80% (darker) and 95% (lighter) intervals; "
                   "dashed levels: the warning and critical thresholds."), className="delta"),
        dcc.Graph(id="ex-graph", config=graph_config()),
        html.Div(id="ex-defs", className="card"),
        html.Button(t("下载 CSV", "Download CSV"), id="ex-download-btn"),
        dcc.Download(id="ex-download"),
    ])


def _query(who, indicators, districts, start, end):
    city = data.info().get("city_code", "")
    areas = who.district_filter(districts or [], city)  # a forged request for another district gets nothing
    return data.series(indicators or [], areas, start, end)


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _figure(df, cat, names: dict[str, str], fc, today: str | None) -> dict:
    """One panel per indicator (stacked, own y axis), one line per area, same colour per area;
    where the indicator is forecast, each area's line fans out into the days ahead (mean, 80%
    and 95% bands), with the catalog's warning and critical levels and a line at today."""
    layout = figure_layout()
    if df.empty:
        layout["title"] = {"text": t("无数据", "No data")}
        return {"data": [], "layout": layout}
    indicators = list(dict.fromkeys(df.indicator_id))
    areas = list(dict.fromkeys(df.district_code))
    entries = {r.indicator_id: r for r in cat.itertuples()}
    labels = {i: f"{t(z, e)}{t('（', ' (')}{label('unit', u)}{t('）', ')')}"
              for i, z, e, u in zip(cat.indicator_id, cat.name_zh, cat.name_en, cat.unit)}
    gap, n = 0.08, len(indicators)
    height = (1 - gap * (n - 1)) / n
    traces, shapes, notes = [], [], []
    for i, indicator in enumerate(indicators):
        axis = "y" if i == 0 else f"y{i + 1}"
        top = 1 - i * (height + gap)
        entry = entries.get(indicator)
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = {
            **layout["yaxis"], "domain": [max(0.0, top - height), top], "anchor": "x",
            "title": {"text": labels.get(indicator, indicator), "font": {"size": 11}},
            **({"tickformat": ".0%"} if entry is not None and entry.unit == "%" else {})}
        part = df[df.indicator_id == indicator]
        ahead = fc[fc.indicator_id == indicator] if not fc.empty else fc
        for j, area in enumerate(areas):
            rows = part[part.district_code == area]
            traces += fan_traces(rows.date, rows.value, ahead[ahead.district_code == area] if not ahead.empty else None,
                                 colour=PALETTE[j % len(PALETTE)], name=names.get(area, area), axis=axis,
                                 legend=i == 0, group=area)
        if entry is not None and not ahead.empty:
            more_shapes, more_notes = threshold_lines(entry, axis)
            shapes += more_shapes
            notes += more_notes
    if today and not fc.empty:
        more_shapes, more_notes = today_marker(today)
        shapes += more_shapes
        notes += more_notes
    layout.update(height=200 + 220 * n, margin={"l": 70, "r": 10, "t": 30, "b": 40}, legend={"orientation": "h"},
                  shapes=shapes, annotations=notes)
    return {"data": traces, "layout": layout}


@callback(Output("ex-graph", "figure"), Output("ex-defs", "children"),
          Input("ex-ind", "value"), Input("ex-dist", "value"), Input("ex-dates", "start_date"), Input("ex-dates", "end_date"))
def render(indicators, districts, start, end):
    who = guard(PATH)
    df = _query(who, indicators, districts, start, end)
    cat = data.catalog()
    ds = data.districts()
    today = str(data.info().get("as_of", ""))[:10] or None
    # Forecasts start after the last day of data: shown unless the chosen dates end before it.
    fc = data.forecasts(indicators or [], list(dict.fromkeys(df.district_code))) if not df.empty else df
    if not fc.empty and end and str(end)[:10] < str(fc.date.min())[:10]:
        fc = fc.iloc[0:0]
    names = {data.info().get("city_code", ""): t("全市", "Whole city"),
             **{c: t(n, e) for c, n, e in zip(ds.district_code, ds.name, ds.name_en)}}
    chosen = cat[cat.indicator_id.isin(indicators or [])]
    defs = [html.P([html.B(f"{t(r.name_zh, r.name_en)}{t('（', ' (')}{label('unit', r.unit)}{t('）', ')')} — "
                           f"{t('责任部门：', 'owner: ')}{label('department', r.owner)}{t('。', '. ')}"),
                    t(getattr(r, "definition_zh", None) or "", r.definition)])
            for r in chosen.itertuples()]
    return _figure(df, cat, names, fc, today), defs


@callback(Output("ex-download", "data"), Input("ex-download-btn", "n_clicks"),
          State("ex-ind", "value"), State("ex-dist", "value"), State("ex-dates", "start_date"), State("ex-dates", "end_date"),
          prevent_initial_call=True)
def download(_, indicators, districts, start, end):
    who = guard(PATH)
    df = _query(who, indicators, districts, start, end)
    # Names in the reader's language beside the ids, so a person can read it and a machine join it.
    df.insert(1, t("指标", "indicator"), [label("indicator", i) for i in df.indicator_id])
    df.insert(4, t("区县", "district"), [label("district", d) for d in df.district_code])
    return send_csv(df, "indicators.csv")
