"""What a page shows when reading the snapshot fails: "could not load", never "no data".

A query that fails (a bug, a damaged snapshot) raises :class:`LoadError` after logging the
query's name (``cockpit/data/snapshot.py``). A page layout that meets it shows :func:`could_not_load`
(``cockpit/components.py``, ``page``); a callback that meets it, or fails in any other way,
goes through :func:`on_callback_error` (the app's ``on_error``), which puts the message
where the callback would have put its text or chart.
"""

from __future__ import annotations

import dash
from dash import html, no_update

from cockpit.i18n import _

# A grid whose rows could not be loaded: its "No records" is hidden (cockpit.css).
FAILED_GRID = "cb-grid cb-failed"


class LoadError(RuntimeError):
    """A query on the serving snapshot failed; already logged with its name."""

    def __init__(self, query: str) -> None:
        super().__init__(f"query {query} failed")
        self.query = query


def message() -> str:
    return _("Could not load this data; the error has been logged.")


def could_not_load() -> html.Div:
    """The plain message shown instead of content that failed to load."""
    return html.Div(message(), className="error load-error", role="alert")


def _failed_figure() -> dict:
    axis = {"visible": False}
    return {"data": [], "layout": {"xaxis": axis, "yaxis": axis, "annotations": [
        {"text": message(), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}]}}


def on_callback_error(err: Exception):
    """The outputs of a callback that raised :class:`LoadError`: the message in place of its
    text and charts; its grids keep their rows but no longer say "No records" (their class
    marks them failed); any other property is left as it is. Any other error, or one that no
    output can show, goes on to the server's error handler (logged, "something went wrong")."""
    specs = dash.callback_context.outputs_list
    single = isinstance(specs, dict)
    values, grids = [], []
    for spec in [specs] if single else specs:
        prop = spec.get("property") if isinstance(spec, dict) else None
        if prop == "children":
            values.append(could_not_load())
        elif prop == "figure":
            values.append(_failed_figure())
        else:
            values.append(no_update)
            if prop == "rowData":
                grids.append(spec["id"])
    if not isinstance(err, LoadError) or all(v is no_update for v in values):
        raise err
    for grid in grids:
        dash.set_props(grid, {"className": FAILED_GRID})
    return values[0] if single else values
