"""Fan charts: what happened, and what the forecast says will (history, mean, 80% and 95% bands).

One builder for the explorer's panels and the overview's cards, so a forecast reads the same
everywhere: the history as a solid line, the forecast mean dashed in the same colour, the 80%
band darker than the 95% band around it, a dotted vertical line at today and, in full-size
charts, the indicator's warning and critical levels from the catalog as horizontal lines.
Figures are plain dicts (see ``docs/cockpit.md``, "Snapshots and speed").
"""

from __future__ import annotations

import pandas as pd

from cockpit.i18n import N_, _

BAND_ALPHA = {"95": 0.12, "80": 0.28}
LEVEL_COLOURS = {"warn": "#d29922", "critical": "#cf222e"}


def rgba(colour: str, alpha: float) -> str:
    """A ``#rrggbb`` colour with transparency, for the bands."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _dates(values) -> list[str]:
    return [str(d)[:10] for d in values]


def fan_traces(dates, values, forecast: pd.DataFrame | None, *, colour: str, name: str, axis: str = "y",
               legend: bool = True, group: str | None = None) -> list[dict]:
    """The traces of one series: its history, and when ``forecast`` has rows (columns ``date``,
    ``mean``, ``lo80``, ``hi80``, ``lo95``, ``hi95``) the 95% and 80% bands and the dashed mean,
    starting from the last observed point so the line does not break. The bands and mean share
    the history's legend entry (``group``): hiding a series hides its forecast too."""
    group = group or name
    history = {"type": "scatter", "mode": "lines", "x": _dates(dates), "y": list(values), "name": name, "legendgroup": group,
               "showlegend": legend, "yaxis": axis, "line": {"color": colour, "width": 1.5}}
    if forecast is None or forecast.empty:
        return [history]
    x = _dates(forecast.date)
    traces = []
    for level in ("95", "80"):
        lo, hi = forecast[f"lo{level}"].tolist(), forecast[f"hi{level}"].tolist()
        traces.append({"type": "scatter", "mode": "lines", "x": x + x[::-1], "y": hi + lo[::-1], "fill": "toself",
                       "fillcolor": rgba(colour, BAND_ALPHA[level]), "line": {"width": 0}, "hoverinfo": "skip",
                       "name": _("{level}% forecast interval").format(level=level), "legendgroup": group, "showlegend": False,
                       "yaxis": axis})
    known = [(d, v) for d, v in zip(history["x"], history["y"]) if v is not None and v == v]
    start = [known[-1]] if known else []
    traces.append({"type": "scatter", "mode": "lines", "x": [d for d, _ in start] + x,
                   "y": [v for _, v in start] + forecast["mean"].tolist(), "name": _("{name} (forecast)").format(name=name),
                   "legendgroup": group, "showlegend": False, "yaxis": axis,
                   "line": {"color": colour, "width": 1.5, "dash": "dash"}})
    return [history, *traces]


def today_marker(day: str, *, label: bool = True) -> tuple[list[dict], list[dict]]:
    """A dotted vertical line at ``day`` across the whole figure, and its label (shapes, annotations)."""
    shape = {"type": "line", "xref": "x", "yref": "paper", "x0": day, "x1": day, "y0": 0, "y1": 1,
             "line": {"color": "#6e7781", "width": 1, "dash": "dot"}}
    note = {"x": day, "y": 1, "xref": "x", "yref": "paper", "text": _("Today"), "showarrow": False,
            "yanchor": "bottom", "font": {"size": 10, "color": "#6e7781"}}
    return [shape], ([note] if label else [])


def threshold_lines(entry, axis: str = "y") -> tuple[list[dict], list[dict]]:
    """The catalog's warning and critical levels of one indicator (``entry``: a catalog row with
    ``warn`` and ``critical``) as horizontal lines on ``axis``, each labelled at the right."""
    shapes, notes = [], []
    for field, words in (("warn", N_("Warning level")), ("critical", N_("Critical level"))):
        level = getattr(entry, field, None)
        if level is None or level != level:
            continue
        y = float(level)
        shapes.append({"type": "line", "xref": "paper", "yref": axis, "x0": 0, "x1": 1, "y0": y, "y1": y,
                       "line": {"color": LEVEL_COLOURS[field], "width": 1, "dash": "dash"}})
        notes.append({"x": 1, "y": y, "xref": "paper", "yref": axis, "text": _(words), "showarrow": False, "xanchor": "right",
                      "yanchor": "bottom", "font": {"size": 10, "color": LEVEL_COLOURS[field]}})
    return shapes, notes


def sparkline_fan(dates, values, forecast: pd.DataFrame | None, today: str | None, colour: str = "#1f6feb") -> dict:
    """The small fan of an overview card: no axes, no labels, the last weeks and the days ahead."""
    traces = fan_traces(dates, values, forecast, colour=colour, name="", legend=False)
    for trace in traces:
        trace["hoverinfo"] = "skip"
    shapes = today_marker(today, label=False)[0] if today and forecast is not None and not forecast.empty else []
    return {"data": traces, "layout": {"height": 40, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "showlegend": False,
                                       "xaxis": {"visible": False}, "yaxis": {"visible": False}, "shapes": shapes,
                                       "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}}
