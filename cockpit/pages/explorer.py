"""Indicator explorer (analysts, managers): pick indicators, districts and dates; compare; download."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from cockpit.components import button, page, select, send_csv
from cockpit.context import guard
from cockpit.data import lineage, reference
from cockpit.data.indicators import forecasts, series
from cockpit.data.scope import areas_for
from cockpit.fan import fan_traces, threshold_lines, today_marker
from cockpit.i18n import N_, _, date_picker_text, either, figure_layout, graph_config, label, pgettext
from warehouse.contract.feeds import FEEDS

PATH = "/explorer"
dash.register_page(__name__, path=PATH, name=N_("Explorer"), order=1,
                   allowed="explore_indicators")


@page(PATH)
def layout(who) -> html.Div:
    cat = reference.catalog()
    city = reference.info().get("city_code", "")
    ds = reference.districts()
    options = [{"label": _("{city} (whole city)").format(city=label("district", city)), "value": city}] + [
        {"label": label("district", c), "value": c} for c in ds.district_code]
    options = [o for o in options if areas_for(who, city).allows(o["value"])]
    return html.Div([
        select("ex-ind", [{"label": label("indicator", r.indicator_id), "value": r.indicator_id} for r in cat.itertuples()], multi=True,
               value=[who.default_indicator], placeholder=_("Choose indicators")),
        select("ex-dist", options, multi=True, value=[options[0]["value"]] if options else [],
               placeholder=_("Choose the city or districts")),
        dcc.DatePickerRange(id="ex-dates", **date_picker_text()),
        html.Div(_("Solid: what happened; dashed: the forecast mean, with its 80% (darker) and 95% (lighter) intervals; dashed levels: the warning and critical thresholds, where an indicator has them."), className="delta"),
        dcc.Graph(id="ex-graph", config=graph_config()),
        html.Div(id="ex-defs", className="card"),
        button(_("Download CSV"), "ex-download-btn"),
        dcc.Download(id="ex-download"),
    ])


def _query(who, indicators, districts, start, end):
    city = reference.info().get("city_code", "")
    areas = areas_for(who, city).among(districts or [])  # a forged request for another district gets nothing
    return series(indicators or [], areas, start, end)


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
           "#393b79", "#637939", "#8c6d31", "#843c39"]
GAP_FILL = "rgba(110,119,129,0.16)"
PANEL_PX = 230


def _unit(entry) -> str:
    return label("unit", entry.unit) if entry is not None else ""


def _is_percent(entry) -> bool:
    """Shares are stored as fractions (0.02) and shown as percentages (2%)."""
    return entry is not None and entry.unit == "%"


def _feeds_of(entry) -> list[str]:
    """The feeds an indicator is made from: the catalog's ``feeds`` for a flow; for a rate or a
    stock (no ``feeds``), those of the department that owns it, whose data it is computed from."""
    if entry is None:
        return []
    feeds = getattr(entry, "feeds", None)
    if feeds is not None and hasattr(feeds, "__len__") and len(feeds):
        return [str(f) for f in feeds]
    return [f.id for f in FEEDS if f.department == entry.owner]


def gap_reasons(entry, days: list[str]) -> dict[str, str]:
    """Why each of ``days`` has no value of the indicator ``entry``, in the reader's language: the
    feed it counts from never arrived, or every file of it was rejected; otherwise (nothing
    delivered that day could make the value) said as such. Never drawn as 0."""
    not_delivered = lineage.feeds_not_delivered(_feeds_of(entry))
    why: dict[str, list[str]] = {}
    for r in not_delivered.itertuples():
        what = _("not delivered") if r.timeliness == "missing" else _("rejected")
        why.setdefault(str(r.business_date)[:10], []).append(
            _("{feed} from {department} {what}").format(department=label('department', r.department), feed=label('feed', r.feed), what=what))
    fallback = _("nothing to compute it from that day")
    return {d: _("; ").join(why[d]) if d in why else fallback for d in days}


def _ranges(days: list[str]) -> list[tuple[str, str]]:
    """Consecutive days folded into (first, last) ranges."""
    out: list[tuple[str, str]] = []
    for d in sorted(days):
        if out and (pd.Timestamp(d) - pd.Timestamp(out[-1][1])).days == 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _gap_note(reasons: dict[str, str]) -> str:
    """The panel's missing days and why, shortest first: '11-20: … not delivered'."""
    by_reason: dict[str, list[str]] = {}
    for day, why in reasons.items():
        by_reason.setdefault(why, []).append(day)
    parts = []
    for why, days in by_reason.items():
        spans = [a[5:] if a == b else f"{a[5:]}–{b[5:]}" for a, b in _ranges(days)]
        parts.append(pgettext("list separator", ", ").join(spans[:4]) + (_(" and more") if len(spans) > 4 else "") + _(": ") + why)
    return _("No data ") + _("; ").join(parts[:3])


def _series(df: pd.DataFrame) -> dict[tuple[str, str], tuple[list[str], list[float | None]]]:
    """(indicator, area) -> (dates, values), read once in plain Python (filtering a data frame per
    panel and area cost more than the figure itself); a missing value is None: a gap, never 0."""
    out: dict[tuple[str, str], tuple[list[str], list[float | None]]] = {}
    for indicator, area, day, value in zip(df.indicator_id, df.district_code, df.date.astype(str), df.value.tolist()):
        dates, values = out.setdefault((indicator, area), ([], []))
        dates.append(day[:10])
        values.append(None if value != value else value)
    return out


def _panels(series: dict, city: str) -> list[tuple[str, list[str]]]:
    """(indicator, areas) per panel: each indicator's city-wide line apart from its districts'
    (they differ by an order of magnitude), in the order the indicators were chosen; the
    districts ranked, highest latest value first (those with no value last)."""
    panels = []
    for indicator in dict.fromkeys(i for i, _area in series):
        areas = [a for i, a in series if i == indicator]
        if city in areas:
            panels.append((indicator, [city]))
        last = {a: next((v for v in reversed(series[(indicator, a)][1]) if v is not None), None) for a in areas if a != city}
        if last:
            panels.append((indicator, sorted(last, key=lambda a: (last[a] is None, -(last[a] or 0)))))
    return panels


def _figure(df, cat, names: dict[str, str], fc, today: str | None, city: str) -> dict:
    """One panel per indicator and kind of area (the city; its districts, ranked by their latest
    value), stacked, each with its own axis and heading; every line named in the legend (once,
    same colour everywhere), percentages as percentages, days without data left as gaps, shaded
    and explained in the heading. Where the indicator is forecast, each line fans out into the
    days ahead (mean, 80% and 95% bands), with the catalog's warning and critical levels."""
    layout = figure_layout()
    if df.empty:
        layout["title"] = {"text": _("No data")}
        return {"data": [], "layout": layout}
    entries = {r.indicator_id: r for r in cat.itertuples()}
    series = _series(df)
    ahead = {key: part for key, part in fc.groupby(["indicator_id", "district_code"])} if not fc.empty else {}
    panels = _panels(series, city)
    colours = {a: PALETTE[j % len(PALETTE)] for j, a in enumerate(dict.fromkeys([city, *sorted(set(df.district_code) - {city})]))}
    n = len(panels)
    gap = 70 / (PANEL_PX * n)  # room (in the plot area's height) for each panel's dates and the next one's heading
    height = (1 - gap * (n - 1)) / n
    traces, shapes, notes, named = [], [], [], set()
    base_y, base_x = dict(layout["yaxis"]), dict(layout["xaxis"])
    for i, (indicator, areas) in enumerate(panels):
        k = "" if i == 0 else str(i + 1)
        axis, xaxis = f"y{k}", f"x{k}"
        top = 1 - i * (height + gap)
        entry = entries.get(indicator)
        percent = _is_percent(entry)
        layout[f"yaxis{k}"] = {**base_y, "domain": [max(0.0, top - height), top], "anchor": xaxis, "automargin": True,
                               "title": {"text": _unit(entry), "font": {"size": 11}},
                               # Counts from zero, so a small change does not look like a collapse;
                               # shares zoom in on their range.
                               **({"tickformat": ".0%"} if percent else {"rangemode": "tozero"})}
        layout[f"xaxis{k}"] = {**base_x, "anchor": axis, "type": "date", **({} if i == 0 else {"matches": "x"})}
        hover = "%{fullData.name} %{x|%Y-%m-%d}: " + ("%{y:.1%}" if percent else "%{y:,.4~g}" + f" {_unit(entry)}") + "<extra></extra>"
        missing: set[str] = set()
        forecast = False
        for rank, area in enumerate(areas):
            dates, values = series[(indicator, area)]
            missing.update(d for d, v in zip(dates, values) if v is None)
            fan = ahead.get((indicator, area))
            forecast = forecast or fan is not None
            for trace in fan_traces(dates, values, fan, colour=colours[area], name=names.get(area, area), axis=axis,
                                    legend=area not in named, group=area):
                trace.update(xaxis=xaxis, legendrank=(0 if area == city else 10 + rank))
                if trace.get("hoverinfo") != "skip":
                    trace["hovertemplate"] = hover
                traces.append(trace)
            named.add(area)
        heading = _("{name} ({unit})").format(name=label("indicator", indicator), unit=_unit(entry)) + " · " + \
            (_("whole city") if areas == [city] else _("districts (ranked by latest value)"))
        if missing:
            heading += _(" — ") + _gap_note(gap_reasons(entry, sorted(missing)))
            shapes += [{"type": "rect", "xref": xaxis, "yref": f"{axis} domain", "x0": f"{a} 00:00", "x1": f"{b} 23:59",
                        "y0": 0, "y1": 1, "fillcolor": GAP_FILL, "line": {"width": 0}, "layer": "below"}
                       for a, b in _ranges(sorted(missing))]
        notes.append({"text": heading, "xref": "paper", "yref": "paper", "x": 0, "y": top, "xanchor": "left",
                      "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
        if entry is not None and forecast:
            more_shapes, more_notes = threshold_lines(entry, axis)
            shapes += more_shapes
            notes += more_notes
    if today and not fc.empty:
        more_shapes, more_notes = today_marker(today)
        shapes += more_shapes
        notes += more_notes
    # The plot area is PANEL_PX per panel; below it the last dates (and year), then the legend.
    layout.update(height=120 + PANEL_PX * n, margin={"l": 70, "r": 10, "t": 40, "b": 80},
                  legend={"orientation": "h", "y": -45 / (PANEL_PX * n), "yanchor": "top"},
                  shapes=shapes, annotations=notes, hovermode="closest")
    return {"data": traces, "layout": layout}


@callback(Output("ex-graph", "figure"), Output("ex-defs", "children"),
          Input("ex-ind", "value"), Input("ex-dist", "value"), Input("ex-dates", "start_date"), Input("ex-dates", "end_date"))
def render(indicators, districts, start, end):
    who = guard(PATH)
    df = _query(who, indicators, districts, start, end)
    cat = reference.catalog()
    ds = reference.districts()
    today = str(reference.info().get("as_of", ""))[:10] or None
    # Forecasts start after the last day of data: shown unless the chosen dates end before it.
    fc = forecasts(indicators or [], list(dict.fromkeys(df.district_code))) if not df.empty else df
    if not fc.empty and end and str(end)[:10] < str(fc.date.min())[:10]:
        fc = fc.iloc[0:0]
    names = {reference.info().get("city_code", ""): _("Whole city"),
             **{c: label("district", c) for c in ds.district_code}}
    chosen = cat[cat.indicator_id.isin(indicators or [])]
    defs = [html.P([html.B(_("{name} ({unit})").format(name=label("indicator", r.indicator_id), unit=label("unit", r.unit)) + " — "
                           + _("owner: {department}. ").format(department=label("department", r.owner))),
                    either(getattr(r, "definition_zh", None), r.definition)])
            for r in chosen.itertuples()]
    return _figure(df, cat, names, fc, today, reference.info().get("city_code", "")), defs


@callback(Output("ex-download", "data"), Input("ex-download-btn", "n_clicks"),
          State("ex-ind", "value"), State("ex-dist", "value"), State("ex-dates", "start_date"), State("ex-dates", "end_date"),
          prevent_initial_call=True)
def download(_, indicators, districts, start, end):
    who = guard(PATH)
    return send_csv(table(_query(who, indicators, districts, start, end), reference.catalog()), "indicators.csv")


def table(df: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    """The chosen series as a person reads them and a machine joins them: date, names in the
    reader's language, the unit, the value as shown (percentages as percentages, rounded), why
    a value is missing, then the ids."""
    entries = {r.indicator_id: r for r in cat.itertuples()}
    reasons = {i: gap_reasons(entries.get(i), sorted({str(d)[:10] for d in part[part.value.isna()].date}))
               for i, part in df.groupby("indicator_id")}

    def shown(indicator: str, value) -> float | None:
        if value is None or value != value:
            return None
        return round(value * 100, 2) if _is_percent(entries.get(indicator)) else round(float(value), 4)

    return pd.DataFrame({
        _("date"): [str(d)[:10] for d in df.date],
        _("indicator"): [label("indicator", i) for i in df.indicator_id],
        _("area"): [label("district", d) for d in df.district_code],
        _("value"): [shown(i, v) for i, v in zip(df.indicator_id, df.value)],
        _("unit"): [_unit(entries.get(i)) for i in df.indicator_id],
        _("why missing"): ["" if v == v and v is not None else reasons[i].get(str(d)[:10], "")
                                       for i, d, v in zip(df.indicator_id, df.date, df.value)],
        "indicator_id": list(df.indicator_id),
        "district_code": list(df.district_code),
    })
