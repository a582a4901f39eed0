"""Overview (city and district managers): the map of the districts, the two scores, key
indicators and open alerts; on a wall screen in the dark mode, all on one 16:9 screen."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from cockpit.components import page, select, trace_href
from cockpit.context import ctx, guard
from cockpit.data import indicators, reference, snapshot
from cockpit.data.alerts import alerts_for
from cockpit.data.scope import areas_for
from cockpit.fan import sparkline_fan
from cockpit.figures.city_map import DistrictOnMap, centre_view, city_view, map_config, score_range
from cockpit.i18n import N_, _, dark, day_text, figure_layout, graph_config, label, lang, message, ngettext, pct, time_text
from cockpit.scorecard import score_cards
from warehouse.contract.geo import district_shapes
from warehouse.contract.labels import SEVERITIES
from warehouse.sharing.measures import answers_due_in

PATH = "/"
dash.register_page(__name__, path=PATH, name=N_("Overview"), order=0, allowed="see_overview")


def _area_of(who, clicked: str | None) -> str:
    return areas_for(who, reference.info().get("city_code", "")).chosen(clicked)


@page(PATH)
def layout(who) -> html.Div:
    ds = reference.districts()
    city = reference.info().get("city_code", "")
    choices = [{"label": _("Whole city"), "value": city}] + [
        {"label": label("district", c), "value": c} for c in ds.district_code]
    areas = areas_for(who, city)
    if not areas.may_pick:
        choices = [c for c in choices if c["value"] == areas.first]
    # Without boundaries the city is drawn as tiles, and there is no centre to enlarge.
    maps = [dcc.Graph(id="ov-map", config=map_config(), className="map-city"),
            dcc.Graph(id="ov-map-centre", config=map_config(), className="map-centre",
                      style={} if district_shapes() is not None else {"display": "none"})]
    return html.Div([
        html.Div([select("ov-pick", choices, value=choices[0]["value"] if choices else None, className="picker"),
                  html.Div(id="ov-asof", className="asof")], className="ov-bar"),
        dcc.Store(id="ov-district"),
        html.Section(maps, className="ov-maps card"),
        html.Section([html.Div(id="ov-score", className="ov-scores"), html.Div(id="ov-outlook", className="card outlook"),
                      html.Div(id="ov-alerts", className="card ov-alerts")],
                     className="ov-side"),
        html.Div([html.Div(id="ov-kpis", className="cards"),
                  html.Div(_("Card lines: the last 30 days; dashed line and band: the next 7 days' forecast and its range. Click a card for its definition and sources."), className="delta ov-kpi-key")],
                 className="ov-kpis"),
        dcc.Graph(id="ov-categories", config=graph_config(displayModeBar=False), className="ov-categories"),
    ], className="overview")


@callback(Output("ov-district", "data"), Output("ov-pick", "value"), Input("ov-map", "clickData"),
          Input("ov-map-centre", "clickData"), Input("ov-pick", "value"), prevent_initial_call=True)
def pick_district(click, centre_click, picked):
    """Drill down by clicking a district on either map or choosing it in the list (which then
    names the district clicked)."""
    who = guard(PATH)
    trigger = dash.ctx.triggered_id
    if trigger in ("ov-map", "ov-map-centre"):
        clicked = click if trigger == "ov-map" else centre_click
        if not clicked or not clicked.get("points"):
            raise dash.exceptions.PreventUpdate
        area = _area_of(who, clicked["points"][0].get("customdata"))
    else:
        area = _area_of(who, picked)
    return area, area


def _fmt(value, share: bool, sign: str = "") -> str:
    """A card's figure (``sign`` "+": a change, signed): counts whole, small measures to two
    decimals (satisfaction 4.62, a change of +0.03), shares as percentages (a share's change is
    in points, written by the card)."""
    if value is None or value != value:
        return "—"
    if share:
        return pct(value)
    return f"{value:{sign},.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:{sign}.2f}"


def _kpi_card(k, area: str, ahead, today: str | None) -> html.Div:
    """One key indicator: its latest value, the change in a week, and a small fan of the last
    30 days and the forecast (``ahead``: the forecast rows of this indicator and area); a click
    drills down to its definition, history and the deliveries behind it (the trace page)."""
    share = k.unit == "%"
    delta = ""
    if not (k.week_before is None or k.week_before != k.week_before or k.value is None or k.value != k.value):
        change = _("{points:+.1f} pt").format(points=(k.value - k.week_before) * 100) if share else _fmt(k.value - k.week_before, False, "+")
        delta = _("vs 7 days earlier {change}").format(change=change)
    unit = html.Span(label("unit", k.unit), className="unit") if k.unit and not share else None
    days = [] if k.history is None else [(d, v) for d, v in zip(k.history_dates, k.history) if v == v and v is not None]
    spark = sparkline_fan([d for d, _ in days], [v for _, v in days], ahead, today)
    name = label("indicator", k.indicator_id) + (_(" (city)") if k.area != area else "")
    card = html.Div([html.Div(name), html.Div([_fmt(k.value, share), unit], className="value"), html.Div(delta, className="delta"),
                     dcc.Graph(figure=spark, config=graph_config(staticPlot=True), style={"height": "40px"})],
                    className="card kpi", **{"data-indicator": k.indicator_id})
    return dcc.Link(card, href=trace_href(k.indicator_id, k.area), className="kpi-link")


def _district_maps(area: str, may_pick: bool) -> tuple[dict, dict]:
    """The districts coloured by their latest vital signs score: the real boundaries (the whole
    city and its enlarged centre), or the tile map when the city brings no boundaries."""
    ds = indicators.district_scores()
    names = [label("district", c) for c in ds.district_code]
    scores = [None if s != s else float(s) for s in ds.score]
    day = ds.day.iloc[0] if len(ds) and ds.day.iloc[0] == ds.day.iloc[0] else None
    when = "" if day is None else " · " + day_text(day, "MMMd")
    title = _("Vital signs score by district") + when
    if may_pick:  # a district manager sees the others for comparison but stays in their own
        title += _(" (click a district)")
    shapes = district_shapes()
    if shapes is None:
        return _tile_map(ds, names, scores, area, title), {}
    districts = [DistrictOnMap(c, n, s) for c, n, s in zip(ds.district_code, names, scores)]
    return (city_view(shapes, districts, area, title),
            centre_view(shapes, districts, area, _("City centre, enlarged")))


def _tile_map(ds: pd.DataFrame, names: list[str], scores: list, area: str, title: str) -> dict:
    """The districts as equal tiles placed like the map (from the city configuration)."""
    from cockpit.figures.city_map import SCORE_SCALE

    low, high = score_range(scores)
    layout = figure_layout()
    layout.update(title={"text": title}, height=460, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                  xaxis={"visible": False, "range": [-0.6, 5.6]}, yaxis={"visible": False, "range": [-4.6, 0.6], "scaleanchor": "x"})
    return {"data": [{
        "type": "scatter", "x": ds.tile_col.tolist(), "y": (-ds.tile_row).tolist(), "mode": "markers+text",
        "text": names, "customdata": ds.district_code.tolist(), "textfont": {"color": "#111", "size": 13},
        "marker": {"symbol": "square", "size": 72, "color": scores, "colorscale": SCORE_SCALE, "cmin": low, "cmax": high,
                   "showscale": True, "line": {"width": [4 if c == area else 0 for c in ds.district_code], "color": "#1f6feb"}},
        "hovertemplate": "%{text}<br>" + _("score") + " %{marker.color:.2f}<extra></extra>"}], "layout": layout}


def _categories(area: str) -> dict:
    """The last week's citizens' requests by category (12345), most first."""
    by = indicators.requests_by_category(area)
    layout = figure_layout()
    layout.update(title={"text": _("Citizens' requests, last 7 days, by category")}, height=300,
                  margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis={"autorange": "reversed", "automargin": True},
                  xaxis={"automargin": True, "title": {"text": _("Requests"), "font": {"size": 11}}})
    if by.empty:
        layout.update(annotations=[{"text": _("No records: no citizens' requests in the last 7 days"), "showarrow": False, "xref": "paper",
                                    "yref": "paper", "x": 0.5, "y": 0.5}])
        return {"data": [], "layout": layout}
    names = [label("category", c) for c in by.category]
    return {"data": [{"type": "bar", "orientation": "h", "x": by.requests.tolist(), "y": names,
                      "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>"}], "layout": layout}


def _outlook(open_alerts: list[dict]) -> list:
    """The next 7 days (预警): open forecast breaches in the viewer's scope, soonest first, each
    with its indicator, district, first predicted day, severity and where it stands in the loop."""
    head = html.H4(_("Next 7 days"))
    breaches = sorted((a for a in open_alerts if a["rule_id"] == "forecast_breach"),
                      key=lambda a: (str(a["date"]), a["severity"] != "critical"))
    if not breaches:
        return [head, html.Div(_("No forecast crosses a threshold"), className="delta")]
    rows = [html.Tr([html.Td(str(b["date"])[:10]), html.Td(label("severity", b["severity"]), className=f"sev {b['severity']}"),
                     html.Td(label("indicator", b["subject"])), html.Td(label("district", b["district_code"])),
                     html.Td(label("alert_state", b["state"]))]) for b in breaches[:10]]
    header = html.Tr([html.Th(h) for h in (_("From"), _("Severity"), _("Indicator"),
                                           _("District"), _("Handling"))])
    return [head, html.Table([html.Thead(header), html.Tbody(rows)], className="outlook-table")]


@callback(Output("ov-asof", "children"), Output("ov-score", "children"), Output("ov-kpis", "children"),
          Output("ov-map", "figure"), Output("ov-map-centre", "figure"), Output("ov-alerts", "children"),
          Output("ov-categories", "figure"), Output("ov-outlook", "children"), Input("ov-district", "data"))
def render(selected):
    who = guard(PATH)
    area = _area_of(who, selected)
    info = reference.info()
    may_pick = areas_for(who, info.get("city_code", "")).may_pick
    # All but the alerts and the data requests answered is the same for every reader of a
    # snapshot, area, language and theme; where an alert stands in the loop, and how requests
    # were answered (in the city's data-sharing score), are read from the operational store each time.
    answers = _answers(area, info)
    asof, scores, cards, city_map, centre_map, categories = snapshot.per_snapshot(
        "overview", (area, lang(), dark(), may_pick, answers), lambda: _snapshot_part(area, info, may_pick, dict(answers)))
    alert_box, outlook = _alerts(who, area, info)
    return asof, scores, cards, city_map, centre_map, alert_box, categories, outlook


def _answers(area: str, info: dict) -> tuple[tuple[str, tuple[int, int]], ...]:
    """For the city's data-sharing score, per period, the data requests answered on time and
    judged among those whose answer fell due in it (cockpit/scorecard.py); none for a
    district: requests are the departments'."""
    if area != info.get("city_code"):
        return ()
    periods = indicators.scores(area)
    if periods.empty:
        return ()
    requests, now = ctx().store.share_requests(), dt.datetime.now()
    return tuple((r.period, answers_due_in(requests, pd.Timestamp(r.first_day).date(), pd.Timestamp(r.last_day).date(), now))
                 for r in periods.itertuples() if r.family == "sharing")


def _snapshot_part(area: str, info: dict, may_pick: bool, answers: dict) -> tuple:
    """The overview's parts read from the snapshot (and the data requests answered, ``answers``):
    as-of line, scores, cards, maps and the requests by category."""
    title = label("district", area if area in {*reference.districts().district_code, info.get("city_code")} else info.get("city_code"))
    scores = score_cards(title, indicators.scores(area), indicators.contributors(area), answers)
    kpis = indicators.kpis(area)
    ahead = indicators.forecasts(list(kpis.indicator_id), list({*kpis.area})) if not kpis.empty else None
    today = str(info.get("as_of", ""))[:10] or None
    # Each card's forecast rows, split once (a mask per card cost more than the rest of the card).
    fans = {} if ahead is None or ahead.empty else dict(iter(ahead.groupby(["indicator_id", "district_code"], sort=False)))
    cards = [_kpi_card(k, area, fans.get((k.indicator_id, k.area)), today) for k in kpis.itertuples()] if not kpis.empty else \
        [html.Div(_("No records: no key indicators yet"), className="empty")]
    city_map, centre_map = _district_maps(area, may_pick)
    return _as_of(info), scores, cards, city_map, centre_map, _categories(area)


def _as_of(info: dict) -> str:
    """Which day the figures are, and when: indicators are whole days, up to the day before the
    refresh (a value of the refresh's own day would be a part of it)."""
    as_of, published = str(info.get("as_of", "?")), time_text(info.get("published_at"), seconds=True) or "?"
    try:
        day = dt.date.fromisoformat(as_of[:10]) - dt.timedelta(days=1)
    except ValueError:
        return _("Data as of {as_of} · published {published}").format(as_of=as_of, published=published)
    return _("Data as of {as_of}: figures are for the whole of {day} · published {published}").format(as_of=time_text(as_of), day=day_text(day), published=published)


SHOWN_ALERT_FIELDS = ["rule_id", "severity", "district_code", "subject", "date", "state", "message_key", "message_params",
                      "message"]


def _alerts(who, area: str, info: dict) -> tuple[list, list]:
    """Open alerts by severity and their messages (a ticker on the wall screen), and the next
    7 days' predicted breaches among them."""
    alerts = alerts_for(who)
    # Open conditions not yet closed in the loop, as plain records (read faster than frame
    # slices), made of the rows and columns shown only.
    if not alerts.empty:
        alerts = alerts[(alerts.status == "open") & (alerts.state != "closed")]
        # A caller who picks an area sees its alerts; a district's users' are their district's already.
        if areas_for(who, info.get("city_code", "")).may_pick and area != info.get("city_code"):
            alerts = alerts[alerts.district_code == area]
    open_ = [] if alerts.empty else alerts[[c for c in SHOWN_ALERT_FIELDS if c in alerts.columns]].to_dict("records")
    counts = Counter(a["severity"] for a in open_)
    head = html.Div([html.H4(_("Open alerts")),
                     *[html.Span(f"{label('severity', s)} {counts.get(s, 0)}", className=f"sev {s}") for s in SEVERITIES]],
                    className="alerts-head")
    if not open_:
        return [head, html.Div(_("No records: no open alerts"), className="empty")], _outlook(open_)
    # Where first: the same rule fires in many districts, and the message alone does not say which.
    shown = [(_("{place}: {message}").format(place=_place(a, info), message=message(a.get("message_key"), a.get("message_params"), a["message"])),
              a["severity"]) for a in open_[:8]]
    items = [html.Li(text, className=f"sev-{severity}") for text, severity in shown]
    # The ticker scrolls by half its length and starts over: a second copy makes the loop seamless
    # (shown only where the ticker moves, and hidden from screen readers).
    copies = [html.Li(text, className=f"sev-{severity} ticker-copy", **{"aria-hidden": "true"}) for text, severity in shown]
    more = [dcc.Link(ngettext("See the {count} open alert", "See all {count} open alerts", len(open_)).format(count=len(open_)), href="/alerts", id="ov-all-alerts")] \
        if who.may_open("/alerts") else []
    return [head, html.Div(html.Ul(items + copies, className="ticker-track"), className="ticker"), *more], _outlook(open_)


def _place(alert: dict, info: dict) -> str:
    """Where an alert is: its district, or the whole city's name."""
    code = alert.get("district_code")
    if code and code != info.get("city_code"):
        return label("district", code)
    return label("district", info.get("city_code"))
