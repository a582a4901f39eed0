"""The city's districts drawn from their real boundaries, coloured by score: a whole-city view
and an enlarged view of the small central districts, each a plain plotly figure (a dict).

Drawn offline: plotly's ``geo`` subplot in SVG, with every base layer off. The boundaries
come from the cockpit itself (``GEOJSON_PATH``, fetched once and cached by plotly.js), and
plotly's request for its world base map goes to an empty one among the cockpit's assets
(``TOPOJSON_URL``), so no request leaves the cockpit's host. Labels are SVG text, so they need
no font server either (a tile map's labels would).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cockpit.i18n import _, dark, figure_layout, graph_config
from warehouse.contract.geo import DistrictShapes, district_shapes

GEOJSON_PATH = "/geo/districts.geojson"
TOPOJSON_URL = "/assets/"  # holds world_110m.json: an empty base map, so plotly never asks plotly's CDN
# Red below target, pale yellow at 1.0 (on target), green above: ColorBrewer's RdYlGn.
SCORE_SCALE = [[0.0, "#d73027"], [0.25, "#fc8d59"], [0.5, "#ffffbf"], [0.75, "#91cf60"], [1.0, "#1a9850"]]
NO_SCORE = "#9aa4ae"


@dataclass(frozen=True)
class DistrictOnMap:
    code: str
    name: str  # in the reader's language
    score: float | None


@lru_cache(maxsize=1)
def boundaries_json() -> bytes | None:
    """The simplified district boundaries as served at ``GEOJSON_PATH`` (None: the city has none)."""
    shapes = district_shapes()
    return None if shapes is None else json.dumps(shapes.geojson, separators=(",", ":")).encode()


def map_config() -> dict:
    """dcc.Graph config for the maps: the reader's language, no mode bar, no scroll zoom, and
    plotly's base-map request kept on the cockpit's host."""
    return graph_config(displayModeBar=False, scrollZoom=False, topojsonURL=TOPOJSON_URL, responsive=True)


def score_range(scores: Sequence[float | None]) -> tuple[float, float]:
    """A colour range centred on 1.0 (on target), wide enough for every score, at least ±0.2."""
    spread = max([0.2, *(abs(s - 1.0) for s in scores if s is not None)])
    spread = min(1.0, math.ceil(spread * 10 - 1e-9) / 10)
    return 1.0 - spread, 1.0 + spread


def city_view(shapes: DistrictShapes, districts: Sequence[DistrictOnMap], selected: str | None, title: str) -> dict:
    """The whole city, each district labelled except the enlarged ones, whose view is outlined."""
    labelled = [d for d in districts if d.code not in shapes.enlarged and d.code in shapes.labels]
    data = _choropleth(districts, selected, colour_bar=True)
    if shapes.enlarged_bounds:
        lon0, lat0, lon1, lat1 = _padded(shapes.enlarged_bounds, 0.01)
        data.append({"type": "scattergeo", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                     "lon": [lon0, lon1, lon1, lon0, lon0], "lat": [lat0, lat0, lat1, lat1, lat0],
                     "line": {"color": _ink(), "width": 1.2, "dash": "dot"}})
    view = _padded(shapes.bounds, 0.02)
    data.append(_labels(labelled, {d.code: shapes.labels[d.code] for d in labelled}, 12, view))
    layout = _layout(title, {"geo": _geo(view)}, bottom=58)
    layout["annotations"] = [{"text": _("Boundaries: Amap's public district data; for illustration, not an approved map"),
                              "showarrow": False, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left",
                              "yanchor": "bottom", "font": {"size": 9, "color": "#8b949e"}}]
    return {"data": data, "layout": layout}


def centre_view(shapes: DistrictShapes, districts: Sequence[DistrictOnMap], selected: str | None, title: str) -> dict:
    """The enlarged central districts with their neighbours' edges, every part shown labelled."""
    if not shapes.enlarged_bounds:
        return {"data": [], "layout": _layout(title, {})}
    labelled = [d for d in districts if d.code in shapes.enlarged_labels]
    data = _choropleth(districts, selected, colour_bar=False)
    view = _padded(shapes.enlarged_bounds, 0.01)
    data.append(_labels(labelled, {d.code: shapes.enlarged_labels[d.code] for d in labelled}, 13, view))
    return {"data": data, "layout": _layout(title, {"geo": _geo(view)})}


def _choropleth(districts: Sequence[DistrictOnMap], selected: str | None, colour_bar: bool) -> list[dict]:
    """The scored districts on the colour scale, and those without a score in grey."""
    low, high = score_range([d.score for d in districts])
    # The chosen district last, so that its outline is drawn over its neighbours' edges.
    ordered = sorted(districts, key=lambda d: d.code == selected)
    scored = [d for d in ordered if d.score is not None]
    unscored = [d for d in ordered if d.score is None]
    edge = "#0d1117" if dark() else "#ffffff"
    chosen = "#58a6ff" if dark() else "#1f4fd1"

    def outline(group: list[DistrictOnMap]) -> dict:
        return {"color": [chosen if d.code == selected else edge for d in group],
                "width": [3.5 if d.code == selected else 0.8 for d in group]}

    traces = []
    if scored:
        traces.append({
            "type": "choropleth", "geojson": GEOJSON_PATH, "featureidkey": "id",
            "locations": [d.code for d in scored], "z": [round(d.score, 3) for d in scored],
            "customdata": [d.code for d in scored], "text": [d.name for d in scored],
            "colorscale": SCORE_SCALE, "zmin": low, "zmax": high, "marker": {"line": outline(scored)},
            "hovertemplate": "%{text}<br>" + _("Score") + " %{z:.2f}<extra></extra>",
            "showscale": colour_bar,
            "colorbar": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.01, "yanchor": "top", "len": 0.9,
                         "thickness": 12, "tickvals": [low, 1.0, high], "ticktext": [f"{low:.1f}", "1.0", f"{high:.1f}"],
                         "title": {"text": _("Score: 1.0 = on target · red below, green above"), "side": "top"}},
        })
    if unscored:
        traces.append({
            "type": "choropleth", "geojson": GEOJSON_PATH, "featureidkey": "id",
            "locations": [d.code for d in unscored], "z": [0] * len(unscored), "customdata": [d.code for d in unscored],
            "text": [d.name for d in unscored], "colorscale": [[0, NO_SCORE], [1, NO_SCORE]], "showscale": False,
            "marker": {"line": outline(unscored)},
            "hovertemplate": "%{text}<br>" + _("No score yet") + "<extra></extra>",
        })
    return traces


def _labels(districts: Sequence[DistrictOnMap], at: dict, size: int, view: tuple[float, float, float, float]) -> dict:
    """District names and scores as SVG text, dark on the pale-to-saturated fills, with a light
    halo; a name near the view's left or right edge runs inwards, so a narrow screen does not cut it."""
    lon0, _, lon1, _ = view

    def position(lon: float) -> str:
        share = (lon - lon0) / (lon1 - lon0)
        return "middle left" if share > 0.88 else "middle right" if share < 0.12 else "middle center"

    return {"type": "scattergeo", "mode": "text", "hoverinfo": "skip", "showlegend": False,
            "lon": [at[d.code][0] for d in districts], "lat": [at[d.code][1] for d in districts],
            "text": [_named(d) for d in districts], "customdata": [d.code for d in districts],
            "textposition": [position(at[d.code][0]) for d in districts],
            "textfont": {"size": size, "color": "#111111", "shadow": "0 0 3px #ffffff"}}


def _named(district: DistrictOnMap) -> str:
    """A district's name with its score under it, so the map is read without the colour key."""
    return district.name if district.score is None else f"{district.name}<br><b>{district.score:.2f}</b>"


def _geo(bounds: tuple[float, float, float, float]) -> dict:
    """A geo subplot showing exactly ``bounds``, every base layer off (none is fetched)."""
    lon0, lat0, lon1, lat1 = bounds
    return {"visible": False, "showframe": False, "projection": {"type": "mercator"},
            "lonaxis": {"range": [lon0, lon1]}, "lataxis": {"range": [lat0, lat1]},
            "center": {"lon": (lon0 + lon1) / 2, "lat": (lat0 + lat1) / 2},
            "bgcolor": "rgba(0,0,0,0)", "domain": {"x": [0, 1], "y": [0, 1]}}


def _layout(title: str, geos: dict, bottom: int = 8) -> dict:
    layout = {k: v for k, v in figure_layout().items() if k not in ("xaxis", "yaxis")}  # no cartesian axes here
    layout.update(geos)
    layout.update(title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}}, autosize=True,
                  margin={"l": 4, "r": 4, "t": 34, "b": bottom}, showlegend=False, dragmode=False)
    return layout


def _padded(bounds: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    lon0, lat0, lon1, lat1 = bounds
    return lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad


def _ink() -> str:
    return "#e6edf3" if dark() else "#1b2430"
