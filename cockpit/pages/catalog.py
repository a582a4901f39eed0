"""The data catalog (统一目录), for every signed-in role: every feed, library table, indicator and
open-data set the platform holds (warehouse/sharing/catalog.py), searchable and filtered by
department, sharing class and kind or library; names, never codes, in the reader's language.

An entry opens at ``/catalog?entry=<code>`` (the page's own address with a query: the page's
capability is checked as for the list): what it is, who provides it, its data items (personal
ones marked), its sharing and open classes with the basis, its update cycle, freshness,
quality and volume, its lineage drawn (each node leads to its entry), who uses it, and the
history of its owner's edits. The owning department's steward edits it there (saved through
the operational store, which judges the edit again); an officer finds "Request access",
unless the entry is not shared, when the page says why instead.
"""

from __future__ import annotations

from urllib.parse import quote

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from cockpit.components import button, data_grid, page, select, text_input
from cockpit.context import ctx, guard
from cockpit.data import catalog as data
from cockpit.i18n import N_, _, figure_layout, graph_config, label, lang, pct, pgettext, time_text
from warehouse.libraries.build import LIBRARIES
from warehouse.ops.catalog_edits import CatalogEditRefused
from warehouse.sharing.catalog import KINDS, OPEN_CLASSES, Entry
from warehouse.sharing.requests import SHARING_CLASSES

PATH = "/catalog"
REQUESTS_PATH = "/requests"  # where an officer asks for an entry (cockpit/pages/requests.py)
dash.register_page(__name__, path=PATH, name=N_("Catalog"), order=8, allowed="see_catalog")

# The sharing class beside the name: what an officer looks for first, and what a phone shows
# without sliding the table sideways.
LIST_COLUMNS = {"name": N_("Name"), "sharing": N_("Sharing class"), "owner": N_("Provided by"), "kind": N_("Kind"),
                "freshness": N_("Freshness"), "rows": N_("Rows")}
ITEM_COLUMNS = {"title": N_("Data item"), "name": N_("Field"), "type": N_("Type"), "personal": N_("Personal information")}
EDIT_COLUMNS = {"at": N_("When"), "actor": N_("By"), "field": N_("What"), "value": N_("New value")}
FIELDS = {"description_zh": N_("Description (Chinese)"), "description_en": N_("Description (English)"),
          "sharing_class": N_("Sharing class"), "sharing_basis": N_("Basis of the sharing class"),
          "open_class": N_("Open class")}
REFUSALS = {
    "not_owner": N_("Not saved: only the steward of the department that provides this entry may edit it."),
    "basis_required": N_("Not saved: a sharing class other than unconditional needs its basis; state the law or policy it rests on."),
    "nothing": N_("Nothing to save: no field was changed."),
    "unknown_entry": N_("Not saved: this entry is not in the catalog."),
}


def _columns(words: dict[str, str]) -> list[dict]:
    return [{"name": _(w), "id": c} for c, w in words.items()]


def href(code: str) -> str:
    """The address of an entry's view."""
    return f"{PATH}?entry={quote(code, safe='/')}"


def _name(e: Entry) -> str:
    return e.title(lang())


def _kind_choice(e: Entry) -> str:
    """The kind-or-library filter's value of an entry: a library table's library, else its kind."""
    return f"library:{e.group}" if e.kind == "library" else e.kind


def _kind_options() -> list[dict]:
    out = [{"label": label("entry_kind", "feed"), "value": "feed"}]
    out += [{"label": _("{kind}: {library}").format(kind=label("entry_kind", "library"),
                                                      library=lib.name_en if lang() == "en" else lib.name_zh),
             "value": f"library:{name}"} for name, lib in LIBRARIES.items()]
    out += [{"label": label("entry_kind", k), "value": k} for k in KINDS if k not in ("feed", "library")]
    return out


# ------------------------------------------------------------------------------------- the list


@page(PATH, needs_data=False, query=True)
def layout(who, entry: str | None = None, **_unused) -> html.Div:
    if entry:
        found = data.entry(entry)
        if found is None:
            return html.Div([html.P(_("This entry is not in the catalog.")), dcc.Link(_("Back to the catalog"), href=PATH)],
                            className="notice")
        return _entry_view(who, found)
    owners = sorted({e.owner for e in data.entries().values()}, key=lambda d: label("department", d))
    return html.Div([
        html.H3(_("Data catalog")),
        html.P(_("Every source feed, library table, indicator and open data set the platform holds, with who provides it, "
                 "how it may be shared and how fresh it is. Open an entry for its data items, lineage and users.")),
        html.Div([
            text_input("ca-search", _("Search names, descriptions and data items"), debounce=300, className="wide"),
            select("ca-dept", [{"label": label("department", d), "value": d} for d in owners], clearable=True,
                   placeholder=_("Providing department")),
            select("ca-class", [{"label": label("sharing_class", c), "value": c} for c in SHARING_CLASSES], clearable=True,
                   placeholder=_("Sharing class")),
            select("ca-kind", _kind_options(), clearable=True, placeholder=_("Kind or library")),
        ], className="toolbar"),
        html.Div(id="ca-count", className="delta", role="status"),
        _list_grid(),
    ], className="catalog")


def _list_grid():
    grid = data_grid("ca-table", _columns(LIST_COLUMNS), page_size=25, sort=True, wrap=("name", "sharing", "owner"), wrap_width=120)
    # The name links to the entry (AG Grid's markdown cells: a plain link, no script); it takes the room a
    # phone has left beside the sharing class, department names wrap rather than end in "…".
    grid.columnDefs[0].update(cellRenderer="markdown", minWidth=170, flex=3)
    return grid


def _matches(e: Entry, words: list[str]) -> bool:
    hay = " ".join([e.name, e.name_zh, e.description, e.description_zh, e.code, *e.keywords,
                    *(i.name for i in e.items), *(pgettext("data item", i.title) for i in e.items)]).lower()
    return all(w in hay for w in words)


def _markdown_link(text: str, target: str) -> str:
    safe = "".join("\\" + ch if ch in "[]()\\*_`<>" else ch for ch in text)
    return f"[{safe}]({target})"


def _freshness(e: Entry) -> str:
    s = e.stats
    words = label("catalog_freshness", s.freshness)
    if s.freshness == "behind" and s.days_behind is not None:
        return _("{state} ({days} days)").format(state=words, days=s.days_behind)
    return words


@callback(Output("ca-table", "rowData"), Output("ca-count", "children"),
          Input("ca-search", "value"), Input("ca-dept", "value"), Input("ca-class", "value"), Input("ca-kind", "value"))
def render(search, department, sharing, kind):
    guard(PATH)
    words = [w for w in str(search or "").lower().split() if w][:10]
    rows = []
    for e in data.entries().values():
        if (department and e.owner != department) or (sharing and e.sharing_class != sharing) \
                or (kind and _kind_choice(e) != kind and e.kind != kind) or (words and not _matches(e, words)):
            continue
        rows.append({"name": _markdown_link(_name(e), href(e.code)), "kind": label("entry_kind", e.kind),
                     "owner": label("department", e.owner), "sharing": label("sharing_class", e.sharing_class),
                     "freshness": _freshness(e), "rows": e.stats.rows})
    return rows, _("Entries shown: {count}").format(count=len(rows))


# ------------------------------------------------------------------------------------- an entry


def _fact(title: str, value, note: str | None = None) -> html.Div:
    return html.Div([html.Div(title, className="delta"), html.Div(value if value not in (None, "") else "—", className="fact"),
                     *([html.Div(note, className="delta")] if note else [])], className="card")


def _facts(e: Entry) -> list:
    s = e.stats
    users = pgettext("list separator", ", ").join(label("department", d) for d in e.users) or _("No department yet")
    return [
        _fact(_("Provided by"), label("department", e.owner)),
        _fact(_("Kind"), label("entry_kind", e.kind)),
        _fact(_("Sharing class"), label("sharing_class", e.sharing_class), e.basis(lang())),
        _fact(_("Open class"), label("open_class", e.open_class)),
        _fact(_("Update cycle"), label("update_cycle", e.update_cycle)),
        _fact(_("Last update"), time_text(s.last_update)),
        _fact(_("Freshness"), _freshness(e), _("Latest day held: {day}").format(day=s.latest_day) if s.latest_day else None),
        _fact(_("Rows"), f"{s.rows:,}" if s.rows is not None else None),
        _fact(_("Rejection rate"), pct(s.rejection_rate, 2) if s.rejection_rate is not None else None,
              _("Rows rejected of rows read, over the feeds behind it")),
        _fact(_("Open findings"), s.open_findings, _("Cross-department findings its provider must fix")),
        _fact(_("Used by"), users, _("Departments holding an active grant")),
        _fact(_("Catalog code"), _code(e.code)),
    ]


def _code(code: str) -> html.Code:
    """An entry's code, breakable after each '/' (a narrow card or a phone breaks it there, not
    inside a word; a part too long for the line still breaks)."""
    parts = code.split("/")
    children: list = []
    for i, part in enumerate(parts):
        children += [part + "/", html.Wbr()] if i < len(parts) - 1 else [part]
    return html.Code(children, style={"overflowWrap": "anywhere"})


def _items(e: Entry) -> list[dict]:
    return [{"title": pgettext("data item", i.title), "name": i.name, "type": label("item_type", i.type),
             "personal": (_("Sensitive personal information") if i.sensitive and i.personal else
                          _("Personal information") if i.personal else _("Sensitive") if i.sensitive else "")}
            for i in e.items]


# A lineage node's colour by its entry's kind (the key under the drawing names them).
KIND_COLOURS = {"feed": "#1f6feb", "quarantine": "#cf222e", "library": "#8250df", "indicator": "#2da44e", "open": "#d29922"}


def lineage_key(entries: dict[str, Entry], code: str) -> html.Div:
    """What the lineage's colours mean, for the kinds it draws."""
    kinds = {entries[c].kind for c in _layers(entries, code)}
    return html.Div([html.Span([html.I(style={"background": colour}), label("entry_kind", kind)])
                     for kind, colour in KIND_COLOURS.items() if kind in kinds], className="lineage-key delta")


def _layers(entries: dict[str, Entry], code: str) -> dict[str, int]:
    """Every entry up and down the lineage of ``code``, with its column: ancestors to the left
    (further up, further left), descendants to the right, the entry at 0."""
    depth = {code: 0}

    def walk(c: str, d: int, step: int) -> None:
        nxt = entries[c].upstream if step < 0 else entries[c].downstream
        for n in nxt:
            if n in entries and (n not in depth or abs(depth[n]) < abs(d + step)) and n != code:
                depth[n] = d + step
                walk(n, d + step, step)

    walk(code, 0, -1)
    walk(code, 0, 1)
    return depth


def lineage_figure(entries: dict[str, Entry], code: str) -> dict:
    """The entry's lineage: feeds → library tables → indicators → open data, left to right,
    each node its entry's name; a click on one opens that entry (its code is the point's customdata)."""
    depth = _layers(entries, code)
    columns: dict[int, list[str]] = {}
    for c, d in sorted(depth.items(), key=lambda kv: (kv[1], _name(entries[kv[0]]))):
        columns.setdefault(d, []).append(c)
    tallest = max(len(v) for v in columns.values())
    pos = {c: (d, (len(v) - 1) / 2 - i) for d, v in columns.items() for i, c in enumerate(v)}  # each column centred
    ex, ey = [], []
    for c in depth:
        for u in entries[c].upstream:
            if u in pos:
                ex += [pos[u][0], pos[c][0], None]
                ey += [pos[u][1], pos[c][1], None]
    nodes = list(depth)
    layout = figure_layout()
    # Each name on a backing of the page's colour, drawn over the edges: no edge runs through a name.
    layout["annotations"] = [{"x": pos[c][0], "y": pos[c][1], "text": _name(entries[c]), "showarrow": False, "yshift": 17,
                              "bgcolor": layout["paper_bgcolor"], "borderpad": 1, "font": {"size": 12}} for c in nodes]
    layout.update(height=max(220, 56 * tallest + 60), margin={"l": 10, "r": 10, "t": 24, "b": 10}, showlegend=False,
                  hovermode="closest", clickmode="event")
    layout["xaxis"] = {**layout["xaxis"], "visible": False, "range": [min(columns) - 0.6, max(columns) + 0.6]}
    layout["yaxis"] = {**layout["yaxis"], "visible": False, "range": [-(tallest / 2) - 0.3, tallest / 2 + 0.3]}
    return {"data": [
        {"type": "scatter", "mode": "lines", "x": ex, "y": ey, "line": {"width": 1, "color": "#8b949e"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": [pos[c][0] for c in nodes], "y": [pos[c][1] for c in nodes],
         "text": [_name(entries[c]) for c in nodes], "customdata": nodes,
         "hovertext": [f"{label('entry_kind', entries[c].kind)} · {label('department', entries[c].owner)}" for c in nodes],
         "hovertemplate": "%{text}<br>%{hovertext}<extra></extra>", "cliponaxis": False,
         "marker": {"size": [18 if c == code else 12 for c in nodes], "color": [KIND_COLOURS[entries[c].kind] for c in nodes],
                    "line": {"width": [3 if c == code else 0 for c in nodes], "color": "#1b2430"}}},
    ], "layout": layout}


def _links(entries: dict[str, Entry], codes: tuple[str, ...]) -> list:
    found = [c for c in codes if c in entries]
    if not found:
        return [html.P(_("None"), className="delta")]
    return [html.Ul([html.Li(dcc.Link(_name(entries[c]), href=href(c))) for c in found])]


def _history(e: Entry) -> list[dict]:
    rows = []
    for h in ctx().store.catalog_edits(e.code):
        value = h["value"] or ""
        if h["field"] == "sharing_class":
            value = label("sharing_class", value)
        elif h["field"] == "open_class":
            value = label("open_class", value)
        rows.append({"at": time_text(h["at"]), "actor": h["actor"], "field": _(FIELDS.get(h["field"], h["field"])), "value": value})
    return rows


def _may_edit(who, e: Entry) -> bool:
    """The owning department's steward: the capability, and the entry's owner its scope."""
    return who.can("edit_catalog") and who.scope_kind == "department" and who.scope == e.owner


def _request_part(who, e: Entry) -> list:
    if not who.can("request_data"):
        return []
    if e.sharing_class == "none":
        return [html.P(_("This entry is not shared, so it cannot be requested: {basis}").format(basis=e.basis(lang())),
                       id="ca-not-shared", className="notice")]
    return [dcc.Link(dmc.Button(_("Request access"), variant="filled", size="sm"), href=f"{REQUESTS_PATH}?entry={quote(e.code, safe='/')}",
                     id="ca-request")]


def _edit_form(e: Entry) -> html.Div:
    return html.Div([
        html.H4(_("Edit this entry (your department provides it)")),
        dmc.Textarea(id="ca-desc-zh", label=_(FIELDS["description_zh"]), value=e.description_zh, autosize=True, minRows=2),
        dmc.Textarea(id="ca-desc-en", label=_(FIELDS["description_en"]), value=e.description, autosize=True, minRows=2),
        html.Div([
            select("ca-class-edit", [{"label": label("sharing_class", c), "value": c} for c in SHARING_CLASSES],
                   value=e.sharing_class, label=_(FIELDS["sharing_class"])),
            select("ca-open-edit", [{"label": label("open_class", c), "value": c} for c in OPEN_CLASSES],
                   value=e.open_class, label=_(FIELDS["open_class"])),
        ], className="toolbar"),
        dmc.Textarea(id="ca-basis", label=_(FIELDS["sharing_basis"]), value=e.sharing_basis if e.basis_edited else "",
                     placeholder=e.basis(lang()), autosize=True, minRows=2,
                     description=_("Required for a class other than unconditional: the law or policy it rests on.")),
        html.Div([button(_("Save"), "ca-save", kind="primary")], className="toolbar"),
        html.Div(id="ca-result", className="notice", role="status"),
    ], className="card", id="ca-edit")


def _entry_view(who, e: Entry) -> html.Div:
    entries = data.entries()
    return html.Div([
        dcc.Link(_("← Back to the catalog"), href=PATH),
        html.H3(_name(e), id="ca-title"),
        html.P(e.about(lang()), id="ca-description"),
        *_request_part(who, e),
        html.Div(_facts(e), className="cards", id="ca-facts"),
        html.H4(_("Data items")),
        html.P(_("Personal information is marked; a request names the items it needs, and a grant gives only those."),
               className="delta"),
        data_grid("ca-items", _columns(ITEM_COLUMNS), _items(e), wrap=("title",)),
        html.H4(_("Lineage")),
        html.P(_("Where it comes from and what is made of it: source feeds, library tables, indicators, open data. "
                 "Click a node to open its entry."), className="delta"),
        dcc.Graph(id="ca-lineage", figure=lineage_figure(entries, e.code), config=graph_config(displayModeBar=False),
                  style={"width": "100%"}),
        lineage_key(entries, e.code),
        html.Div([html.Div([html.B(_("Made from")), *_links(entries, e.upstream)]),
                  html.Div([html.B(_("Used to make")), *_links(entries, e.downstream)])], className="split"),
        dcc.Location(id="ca-go", refresh=True),
        dcc.Store(id="ca-code", data=e.code),
        *([_edit_form(e)] if _may_edit(who, e) else []),
        html.H4(_("Edits by its provider")),
        data_grid("ca-history", _columns(EDIT_COLUMNS), _history(e), wrap=("value",)),
    ], className="catalog-entry")


@callback(Output("ca-go", "href"), Input("ca-lineage", "clickData"), prevent_initial_call=True)
def open_node(click):
    """A click on a node of the lineage opens that entry (a code the catalog holds, else nothing)."""
    guard(PATH)
    point = ((click or {}).get("points") or [{}])[0]
    code = point.get("customdata")
    if data.entry(code) is None:
        raise PreventUpdate
    return href(code)


@callback(Output("ca-result", "children"), Output("ca-facts", "children"), Output("ca-history", "rowData"),
          Input("ca-save", "n_clicks"), State("ca-code", "data"), State("ca-desc-zh", "value"), State("ca-desc-en", "value"),
          State("ca-class-edit", "value"), State("ca-basis", "value"), State("ca-open-edit", "value"),
          prevent_initial_call=True)
def save(_clicks, code, desc_zh, desc_en, sharing, basis, opened):
    """The owner's edit, judged again on the server (and once more by the store, inside its write)."""
    who = guard(PATH)
    e = data.entry(code)
    if e is None:
        return _(REFUSALS["unknown_entry"]), dash.no_update, dash.no_update
    if not _may_edit(who, e):
        return _(REFUSALS["not_owner"]), dash.no_update, dash.no_update
    changes = {"description_zh": desc_zh, "description_en": desc_en, "sharing_class": sharing, "sharing_basis": basis,
               "open_class": opened}
    try:
        written = ctx().store.edit_catalog_entry(code, {k: v for k, v in changes.items() if isinstance(v, str)},
                                                 actor=who.username, role=who.role, scope=who.scope)
    except CatalogEditRefused as refused:
        words = REFUSALS.get(refused.code)
        if words is None:
            field = FIELDS.get(refused.code)
            return (_("Not saved: {field} is not acceptable ({detail}).").format(field=_(field), detail=refused.detail) if field
                    else _("Not saved: a value is not allowed.")), dash.no_update, dash.no_update
        return _(words), dash.no_update, dash.no_update
    fresh = data.entry(code)
    saved = pgettext("list separator", ", ").join(_(FIELDS[f]) for f in written)
    return _("Saved: {fields}").format(fields=saved), _facts(fresh), _history(fresh)
