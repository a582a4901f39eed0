"""Drill-down to the source (可追溯): city → district → indicator → its definition, target,
history and the deliveries behind a value (department, file, rows, when it arrived).

Reached from the overview's cards (the area the overview shows, so also after drilling down
on the map or the list) and the explorer's definitions; the address names the area, the
indicator and the day (``/trace?area=330106&indicator=pop.births&day=2026-11-20``), which
the server checks like any other input. Only files and counts are shown: no person-level
row, so no personal data leaves the warehouse through this page.
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from cockpit.components import TRACE_PATH, data_grid, page, select
from cockpit.context import guard
from cockpit.data import indicators, lineage, reference
from cockpit.data.scope import areas_for
from cockpit.fan import threshold_lines
from cockpit.i18n import N_, _, columns, date_picker_text, either, figure_layout, graph_config, label, pct
from cockpit.timetravel import parse_day

PATH = TRACE_PATH
dash.register_page(__name__, path=PATH, name=N_("Trace"), order=2, allowed="explore_indicators")
SOURCE_COLUMNS = ["department", "feed", "file_name", "business_date", "arrived_at", "status", "rows_that_day",
                  "rows_read", "rows_accepted", "rows_rejected"]


def _areas(who) -> list[dict]:
    """The city and the districts ``who`` may see, named in the reader's language."""
    info = reference.info()
    city = info.get("city_code", "")
    ds = reference.districts()
    options = [{"label": _("{city} (whole city)").format(city=label("district", city)), "value": city}] + [
        {"label": label("district", c), "value": c} for c in ds.district_code]
    return [o for o in options if areas_for(who, city).allows(o["value"])]


def _checked(who, area, indicator) -> tuple[str, str]:
    """The area and indicator if ``who`` may see them and they exist; else nothing happens."""
    cat = reference.catalog()
    if not isinstance(indicator, str) or cat.empty or indicator not in set(cat.indicator_id):
        raise PreventUpdate
    if area not in {o["value"] for o in _areas(who)}:
        raise PreventUpdate  # another district than one's own, or no district at all
    return area, indicator


@page(PATH, query=True)
def layout(who, area: str | None = None, indicator: str | None = None, day: str | None = None, **_unused) -> html.Div:
    areas = _areas(who)
    cat = reference.catalog()
    allowed = {o["value"] for o in areas}
    area = area if area in allowed else areas_for(who, reference.info().get("city_code", "")).first
    indicator = indicator if indicator in set(cat.indicator_id) else "svc.requests"
    day = _day(indicators.history(indicator, area), day)
    return html.Div([
        html.H3(id="tr-path", className="trace-path"),
        html.Div([
            select("tr-area", areas, value=area, className="picker"),
            select("tr-ind", [{"label": label("indicator", r.indicator_id), "value": r.indicator_id} for r in cat.itertuples()],
                   value=indicator, className="picker"),
            dcc.DatePickerSingle(id="tr-day", date=day, className="trace-day", clearable=False,
                                 **date_picker_text(_("Day of the value"))),
        ], className="trace-bar"),
        html.Div(id="tr-def", className="card trace-def"),
        dcc.Graph(id="tr-history", config=graph_config(displayModeBar=False)),
        html.Div(id="tr-value", className="card trace-value"),
        data_grid("tr-sources", columns(SOURCE_COLUMNS), page_size=20),
        html.P(_("Only deliveries and row counts are listed, never a person's data; a department's steward sees its own rejected rows on the Ingestion page (with a stated purpose, written to the audit log)."), className="delta"),
    ], className="trace")


def _day(hist, asked) -> str | None:
    """The day asked for if the indicator has it, else its latest day with a value (a day
    whose feed never arrived has none), else its latest day."""
    dates = [str(d)[:10] for d in hist.date]
    chosen = parse_day(asked)
    if chosen and str(chosen) in dates:
        return str(chosen)
    valued = [d for d, v in zip(dates, hist.value) if v == v and v is not None]
    return (valued or dates or [None])[-1]


def _number(value, unit: str | None) -> str:
    """A value as the cards show it (the unit is in the indicator's name above it)."""
    if value is None or value != value:
        return _("no value")
    if unit == "%":
        return pct(value)
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"


def _definition(entry) -> list:
    """What the indicator means, who owns it, its target and thresholds."""
    better = _("higher is better") if entry.direction == "higher" else _("lower is better")
    facts = [_("Owner: {department}").format(department=label('department', entry.owner)), better]
    for key, words in (("target", N_("target")), ("warn", N_("warning at")), ("critical", N_("critical at"))):
        value = getattr(entry, key)
        if value is not None and value == value:
            facts.append(f"{_(words)} {_number(value, entry.unit)}")
    return [html.B(_("{name} ({unit})").format(name=label("indicator", entry.indicator_id), unit=label("unit", entry.unit))),
            html.P(either(getattr(entry, "definition_zh", None), entry.definition)),
            html.Div(_(" · ").join(facts), className="delta")]


def _history(hist, entry, day: str, name: str) -> dict:
    """The indicator's days in the area, the chosen day marked; a click picks a day."""
    layout = figure_layout()
    layout.update(height=260, margin={"l": 60, "r": 10, "t": 30, "b": 30}, showlegend=False,
                  title={"text": _("{name}: day by day (click a day for its sources)").format(name=name),
                         "font": {"size": 13}})
    if entry.unit == "%":
        layout["yaxis"] = {**layout["yaxis"], "tickformat": ".0%"}
    dates = [str(d)[:10] for d in hist.date]
    values = [None if v != v else v for v in hist.value]
    picked = [(d, v) for d, v in zip(dates, values) if d == day]
    layout["shapes"], layout["annotations"] = threshold_lines(entry)  # the levels its definition quotes
    return {"data": [
        {"type": "scatter", "mode": "lines+markers", "x": dates, "y": values, "marker": {"size": 4}, "line": {"width": 1.5},
         "hovertemplate": "%{x}: %{y}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": [d for d, _ in picked], "y": [v for _, v in picked],
         "marker": {"size": 12, "color": "#d62728"}, "hoverinfo": "skip"}], "layout": layout}


def _rows(df, area_is_city: bool) -> list[dict]:
    out = []
    for r in df.itertuples():
        that_day = f"{int(r.rows_that_day):,}" + (_(" (whole city)") if r.city_wide and not area_is_city else "")
        out.append({"department": label("department", r.department), "feed": label("feed", f"{r.department}/{r.feed}"),
                    "file_name": r.file_name, "business_date": str(r.business_date)[:10],
                    "arrived_at": "" if r.arrived_at is None or r.arrived_at != r.arrived_at else str(r.arrived_at)[:19],
                    "status": label("delivery_status", r.status), "rows_that_day": that_day,
                    "rows_read": int(r.rows_read), "rows_accepted": int(r.rows_accepted), "rows_rejected": int(r.rows_rejected)})
    return out


@callback(Output("tr-path", "children"), Output("tr-def", "children"), Output("tr-history", "figure"),
          Output("tr-value", "children"), Output("tr-sources", "rowData"),
          Input("tr-area", "value"), Input("tr-ind", "value"), Input("tr-day", "date"))
def render(area, indicator, day):
    who = guard(PATH)
    area, indicator = _checked(who, area, indicator)
    entry = next(reference.catalog().pipe(lambda c: c[c.indicator_id == indicator]).itertuples())
    hist = indicators.history(indicator, area)
    day = _day(hist, day)
    info = reference.info()
    city = info.get("city_code", "")
    area_name = next((o["label"] for o in _areas(who) if o["value"] == area), "")
    city_name = label("district", city)
    crumbs = [city_name] + ([area_name] if area != city else []) + [label("indicator", entry.indicator_id)] + ([day] if day else [])
    if day is None:
        return " › ".join(crumbs), _definition(entry), _history(hist, entry, "", area_name), \
            _("No records: this indicator has no values here yet"), []
    value = hist.value[hist.date.astype(str).str[:10] == day].iloc[0]
    src = lineage.sources(indicator, area, day)
    basis = lineage.basis(indicator)
    how = {"business_date": _("Sources: every delivery for that business date."),
           "change": _("Sources: the deliveries holding rows dated that day. A stock or a rate builds on every earlier day; these are the ones that changed it that day.")}.get(
        basis, _("Sources: the deliveries holding rows dated that day."))
    value_box = [html.Div(_("Value on {day}").format(day=day)), html.Div(_number(value, entry.unit), className="value"),
                 html.Div(how, className="delta")]
    if src.empty:
        value_box.append(html.Div(_("No records: no delivery holds rows of that day"), className="empty"))
    return (" › ".join(crumbs), _definition(entry), _history(hist, entry, day, area_name), value_box,
            _rows(src, area == city))


@callback(Output("tr-day", "date"), Input("tr-history", "clickData"), prevent_initial_call=True)
def pick_day(click):
    """A click on the history picks that day."""
    guard(PATH)
    point = (click or {}).get("points") or [{}]
    day = parse_day(point[0].get("x"))
    if day is None:
        raise PreventUpdate
    return str(day)
