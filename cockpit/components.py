"""Pieces shared by the pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
import pandas as pd
from dash import Input, Output, callback, dcc, html

from cockpit.context import caller, guard
from cockpit.i18n import _, label, lang, pgettext
from cockpit.loading import LoadError, could_not_load
from warehouse.contract.labels import API_ACTIONS, CONSOLE_ACTIONS, alert_action
from warehouse.ops.alert_loop import STEPS

log = logging.getLogger("citybrain.cockpit")

def grid_words() -> dict:
    """AG Grid's own words the cockpit's grids can show (paging, the empty grid, the filter menu
    under a column's header, what screen readers read), in the caller's language: AG Grid's
    localeText (its community keys; the column menu's own items are in its enterprise edition),
    its English defaults as msgids."""
    return {
        "page": pgettext("grid", "Page"), "of": pgettext("grid", "of"), "to": pgettext("grid", "to"),
        "more": pgettext("grid", "more"), "firstPage": pgettext("grid", "First Page"),
        "previousPage": pgettext("grid", "Previous Page"), "nextPage": pgettext("grid", "Next Page"),
        "lastPage": pgettext("grid", "Last Page"), "pageSizeSelectorLabel": pgettext("grid", "Page Size:"),
        "noRowsToShow": pgettext("grid", "No records"), "loadingOoo": pgettext("grid", "Loading..."),
        "filterOoo": pgettext("grid", "Filter..."), "blanks": pgettext("grid", "(Blanks)"),
        "equals": pgettext("grid", "Equals"), "notEqual": pgettext("grid", "Does not equal"),
        "contains": pgettext("grid", "Contains"), "notContains": pgettext("grid", "Does not contain"),
        "startsWith": pgettext("grid", "Begins with"), "endsWith": pgettext("grid", "Ends with"),
        "blank": pgettext("grid", "Blank"), "notBlank": pgettext("grid", "Not blank"), "andCondition": pgettext("grid", "AND"),
        "orCondition": pgettext("grid", "OR"), "applyFilter": pgettext("grid", "Apply"),
        "resetFilter": pgettext("grid", "Reset"), "clearFilter": pgettext("grid", "Clear"),
        "cancelFilter": pgettext("grid", "Cancel"),
        "ariaFilterValue": pgettext("grid", "Filter Value"), "lessThan": pgettext("grid", "Less than"),
        "greaterThan": pgettext("grid", "Greater than"), "inRange": pgettext("grid", "Between"),
        "lessThanOrEqual": pgettext("grid", "Less than or equal to"),
        "greaterThanOrEqual": pgettext("grid", "Greater than or equal to"),
        "ariaPageSizeSelectorLabel": pgettext("grid", "Page Size"), "ariaChecked": pgettext("grid", "checked"),
        "ariaUnchecked": pgettext("grid", "unchecked"), "ariaRowSelect": pgettext("grid", "Press SPACE to select this row"),
        "ariaRowDeselect": pgettext("grid", "Press SPACE to deselect this row"),
        "ariaFilterInput": pgettext("grid", "Filter Input"), "ariaLabelColumnFilter": pgettext("grid", "Column Filter"),
        "ariaSortableColumn": pgettext("grid", "Press ENTER to sort"), "inRangeStart": pgettext("grid", "From"),
        "inRangeEnd": pgettext("grid", "To"), "empty": pgettext("grid", "Choose one"),
        "noMatchingRows": pgettext("grid", "No Matching Rows"),
        # What a floating filter shows of a condition that takes no typed value.
        "filterSummaryInactive": pgettext("grid", "is (All)"), "filterSummaryContains": pgettext("grid", "contains"),
        "filterSummaryNotContains": pgettext("grid", "does not contain"),
        "filterSummaryTextEquals": pgettext("grid", "equals"), "filterSummaryTextNotEqual": pgettext("grid", "does not equal"),
        "filterSummaryStartsWith": pgettext("grid", "begins with"), "filterSummaryEndsWith": pgettext("grid", "ends with"),
        "filterSummaryBlank": pgettext("grid", "is blank"), "filterSummaryNotBlank": pgettext("grid", "is not blank"),
        # Read out by screen readers.
        "ariaFilterMenuOpen": pgettext("grid", "Open Filter Menu"),
        "ariaFilteringOperator": pgettext("grid", "Filtering operator"),
        "ariaFilterFromValue": pgettext("grid", "Filter from value"), "ariaFilterToValue": pgettext("grid", "Filter to Value"),
        "ariaLabelColumnMenu": pgettext("grid", "Column Menu"), "ariaColumnFiltered": pgettext("grid", "Column Filtered"),
        "ariaFilterColumn": pgettext("grid", "Press CTRL ENTER to open filter"),
        "ariaMenuColumn": pgettext("grid", "Press ALT DOWN to open column menu"),
        "ariaRowToggleSelection": pgettext("grid", "Press Space to toggle row selection"),
        "ariaRowSelectAll": pgettext("grid", "Press Space to toggle all rows selection"),
        "ariaRowSelectionDisabled": pgettext("grid", "Row Selection is disabled for this row"),
        "ariaHeaderSelection": pgettext("grid", "Column with Header Selection"),
        "ariaIndeterminate": pgettext("grid", "indeterminate"), "ariaLabelSelectField": pgettext("grid", "Select Field"),
    }


# Columns whose values are dates, times or ticket numbers: wide enough to show them whole on one line.
WIDE = {"district_code": 120, "district": 120, "date": 120, "business_date": 120, "since": 120, "at": 170, "arrived_at": 170, "created_at": 170, "due_at": 170,
        "ticket_no": 220, "state": 150, "submitted_at": 170, "answered_at": 170, "active_from": 170, "expires_at": 170,
        "issued_at": 170, "revoked_at": 170}


def _min_width(col: dict, filter: bool) -> int:
    """The narrowest a column may get (px): its values' or its header's longest word (headers
    wrap; a CJK character is about twice a Latin one), room for the sort and filter icons; the
    grid stretches the rest."""
    word = max((sum(15 if ord(ch) > 0x2E80 else 8 for ch in w) for w in col["name"].split()), default=0)
    return max(WIDE.get(col["id"], 80), min(word + (70 if filter else 40), 160))


def data_grid(id: str | None, cols: list[dict], data: list[dict] | None = None, *, page_size: int | None = None,
              select: bool = False, sort: bool = False, filter: tuple[str, ...] = (), wrap: tuple[str, ...] = (),
              wrap_width: int = 240, row_classes: dict[str, str] | None = None) -> dag.AgGrid:
    """A table of ``data`` (records) under headers ``cols`` (cockpit.i18n ``columns()``), on
    AG Grid (Dash deprecated its DataTable). ``select``: one row at a time, read by the server
    from ``selectedRows``; ``filter``: the columns with a filter under their header; ``wrap``:
    the text columns shown whole on several lines, each at least ``wrap_width`` px wide;
    ``row_classes``: CSS class -> a field of the row that is true when the class applies.

    No function strings (the CSP forbids eval); colours and the dark mode are CSS
    (cockpit.css, .cb-grid), in the page's typeface."""
    defs = [{"field": c["id"], "headerName": c["name"], "sortable": sort, "filter": "agTextColumnFilter" if c["id"] in filter else False, "floatingFilter": c["id"] in filter,
             "wrapText": c["id"] in wrap, "autoHeight": c["id"] in wrap, "wrapHeaderText": True, "autoHeaderHeight": True,
             "minWidth": wrap_width if c["id"] in wrap else _min_width(c, c["id"] in filter), "flex": 2 if c["id"] in wrap else 1} for c in cols]
    options: dict = {"domLayout": "autoHeight", "suppressCellFocus": True, "enableCellTextSelection": True,
                     "suppressDragLeaveHidesColumns": True, "suppressMovableColumns": True,
                     # every row and column in the page, in reading order (screen readers, find-in-page)
                     "ensureDomOrder": True, "suppressColumnVirtualisation": True}
    options["localeText"] = grid_words()
    if page_size:
        options |= {"pagination": True, "paginationPageSize": page_size, "paginationPageSizeSelector": False}
    if select:
        options["rowSelection"] = {"mode": "singleRow", "enableClickSelection": True, "checkboxes": True}
    if row_classes:
        # dash-ag-grid reads these expressions with its own parser, never eval: CSP-safe.
        options["rowClassRules"] = {cls: f"params.data.{field}" for cls, field in row_classes.items()}
    kwargs = {"id": id} if id else {}
    return dag.AgGrid(**kwargs, columnDefs=defs, rowData=data or [], dashGridOptions=options,
                      className="cb-grid", style={"width": "100%"})


def scope_name(scope: str | None) -> str:
    """A department's or district's name in the reader's language (the code if unknown)."""
    return label("owner", scope) if scope else ""


TRACE_PATH = "/trace"


def trace_href(indicator: str, area: str, day: str | None = None) -> str:
    """The address of one indicator's drill-down to its sources in one area (cockpit/pages/trace.py),
    on ``day`` or else its latest."""
    return f"{TRACE_PATH}?{urlencode({'area': area, 'indicator': indicator, **({'day': day} if day else {})})}"


def forbidden() -> html.Div:
    return html.Div(_("You may not open this page."), className="forbidden")


FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'


def provider(children, dark: bool) -> dmc.MantineProvider:
    """The cockpit's one component set: Mantine (dash-mantine-components), in the page's
    typeface, light or dark as the reader chose. Its styles come with its scripts (no CDN)."""
    return dmc.MantineProvider(children, forceColorScheme="dark" if dark else "light",
                               theme={"fontFamily": FONT, "primaryColor": "blue", "defaultRadius": "sm", "colors": {"dark": DARK}})


# Mantine's dark shades (text, dimmed, borders, hover, fields, page) in the big screen's palette
# (cockpit.css, .shell.dark), so lists and fields sit in the page instead of grey boxes on it.
DARK = ["#e6edf3", "#c9d1d9", "#8b949e", "#6e7681", "#30363d", "#21262d", "#161b22", "#0d1117", "#010409", "#010409"]


# How an action looks: the step it leads to (primary), a neutral one, one that stops or undoes
# something (danger), or a quiet link-like one.
_KINDS = {"primary": {"variant": "filled"}, "default": {"variant": "default"},
          "danger": {"variant": "light", "color": "red"}, "subtle": {"variant": "subtle"}}


def button(label: str, id: str, *, kind: str = "default", **props) -> dmc.Button:
    """A button (``n_clicks`` is what callbacks read); ``kind`` is one of _KINDS."""
    return dmc.Button(label, id=id, size="sm", **_KINDS[kind], **props)


def select(id: str, options: list[dict] | None = None, *, multi: bool = False, clearable: bool = False, **props):
    """A searchable choice among ``options`` ({"label", "value"}, values are strings), one or
    (``multi``) several; the list and its "nothing found" in the reader's language."""
    kind = dmc.MultiSelect if multi else dmc.Select
    extra = {} if multi else {"allowDeselect": clearable}
    return kind(id=id, data=options or [], searchable=True, clearable=clearable, size="sm",
                nothingFoundMessage=_("No options found"), comboboxProps={"zIndex": 1100},
                **extra, **props)


def text_input(id: str, placeholder: str, *, kind: str = "text", **props):
    """A text field (``kind`` "password" hides what is typed, "number" takes whole numbers)."""
    cls = {"text": dmc.TextInput, "password": dmc.PasswordInput, "number": dmc.NumberInput}[kind]
    if kind == "number":
        props = {"allowDecimal": False, "allowNegative": False, "hideControls": True, **props}
    return cls(id=id, placeholder=placeholder, size="sm", **props)


def confirmation(prefix: str) -> html.Div:
    """An in-page confirmation for an action that changes state (a browser's own confirm box
    would speak the browser's language, not the reader's): ``<prefix>-modal-text``, Confirm
    (``<prefix>-yes``) and Cancel (``<prefix>-no``), and ``<prefix>-pending``, the request
    waiting to be confirmed. :func:`confirmation_toggle` opens and closes it."""
    return html.Div([
        dmc.Modal([dmc.Text(id=f"{prefix}-modal-text"),
                   dmc.Group([button(_("Confirm"), f"{prefix}-yes", kind="primary"),
                              button(_("Cancel"), f"{prefix}-no")], mt="md")],
                  id=f"{prefix}-modal", opened=False, centered=True, title=_("Please confirm"),
                  withCloseButton=False, closeOnClickOutside=False),
        dcc.Store(id=f"{prefix}-pending"),
    ])


def confirmation_toggle(prefix: str, path: str, result: str) -> None:
    """Open ``prefix``'s confirmation while a request is pending; close it when cancelled or
    once the action's outcome (``result``'s children) is shown."""

    @callback(Output(f"{prefix}-modal", "opened"), Input(f"{prefix}-pending", "data"), Input(f"{prefix}-no", "n_clicks"),
              Input(result, "children"), prevent_initial_call=True)
    def toggle(pending, _no, _done):
        guard(path)
        return dash.ctx.triggered_id == f"{prefix}-pending" and bool(pending)


def no_data() -> html.Div:
    return html.Div(_("No data yet: run a refresh first."), className="notice")


def allowed(path: str):
    """The caller if allowed to open ``path``, else None (the page then shows forbidden())."""
    who = caller()
    return who if who is not None and who.may_open(path) else None


def page(path: str, *, needs_data: bool = True, query: bool = False) -> Callable:
    """Decorate a page layout ``layout(who)``: refused to roles that may not open ``path``,
    a notice instead while nothing has been published, "could not load" when a query fails
    (cockpit/loading.py). With ``query``, the address's
    query parameters are passed on (``layout(who, **params)``: text to check, never trust)."""

    def wrap(build: Callable) -> Callable:
        @wraps(build)
        def layout(**params):
            from cockpit.data import reference  # late: pages import this module

            who = allowed(path)
            if who is None:
                return forbidden()
            try:
                if needs_data and not reference.info():
                    return no_data()
                return build(who, **params) if query else build(who)
            except LoadError:  # logged by the query with its name
                return could_not_load()
            except Exception:  # the shell stays usable; the details go to the log, never the browser
                log.exception("page %s failed", path)
                return html.Div(_("This page cannot be shown right now; try again later."),
                                className="error")

        return layout

    return wrap


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def send_csv(df: pd.DataFrame, filename: str) -> dict:
    """A CSV download (UTF-8 with BOM, for Excel) whose text cells cannot run as spreadsheet
    formulas: a cell starting with = + - @ or a control character gets a leading apostrophe.
    Numbers stay numbers (a negative value is not text)."""
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return dcc.send_data_frame(safe.to_csv, filename, index=False, encoding="utf-8-sig")


# Purposes the cockpit itself writes into the access log (cockpit/auth.py, the users and audit
# pages), in a fixed form: shown in the reader's language. What people type is shown as typed.
_WRITTEN = [
    (re.compile(r"^from (\S+)$"), lambda m: _("from {address}").format(address=m[1])),
    (re.compile(r"^too many failed sign-ins from (\S+)$"), lambda m: _("too many failed sign-ins from {address}").format(address=m[1])),
    (re.compile(r"^audit of accesses to one person's data$"), lambda m: _("audit of accesses to one person's data")),
    (re.compile(r"^alert (\w+)$"), lambda m: _("alert {alert}").format(alert=m[1])),
    # A governed interface's call (api/): the case it served, then the grant's purpose as the officer typed it.
    (re.compile(r"^case ([A-Za-z0-9/_-]{1,64}): (.*)$", re.S), lambda m: _("case {case}: {purpose}").format(case=m[1], purpose=m[2])),
    # A sharing key issued or revoked: the request it was for.
    (re.compile(r"^request (\d+)$"), lambda m: _("data request {number}").format(number=m[1])),
    # An owner's edit of a catalog entry: the entry by its name.
    (re.compile(r"^catalog (\S+)$"), lambda m: _("catalog entry {entry}").format(entry=_entry_name(m[1]))),
    # The analyst's console: what in Dagster an action touched.
    (re.compile(r"^run ([\w-]+)$"), lambda m: _("run {run}").format(run=m[1][:8])),
    (re.compile(r"^backfill (\w+)$"), lambda m: _("backfill {backfill}").format(backfill=m[1])),
    (re.compile(r"^(schedule|sensor) (\w+)$"), lambda m: label("instigator", m[2])),
    (re.compile(r"^schedule (\w+) at (\d\d:\d\d)$"),
     lambda m: _("{instigator} moved to {time}").format(instigator=label('instigator', m[1]), time=m[2])),
    (re.compile(r"^(\S+) \((\w*)(?:/(\S+))?\)$"),
     lambda m: _("{user} ({role})").format(user=m[1], role=label("role", m[2]) + ("/" + label("owner", m[3]) if m[3] else ""))),
]


# The actions whose purpose the cockpit writes itself, in the forms above (a person types the others'):
# signing in, an audit search, a user saved, the alert loop's steps and the console's actions.
_PURPOSE_WRITTEN = frozenset({"sign_in", "sign_in_failed", "sign_in_refused", "audit_search", "user_saved", "catalog_edit",
                              *map(alert_action, STEPS), *CONSOLE_ACTIONS, "share_key_issue", "share_key_revoke",
                              *API_ACTIONS})


def _entry_name(code: str) -> str:
    """A catalog entry's name in the reader's language (its code when the catalog no longer holds it)."""
    from warehouse.sharing.catalog import declared

    found = declared().get(code)
    return found.title(lang()) if found else code


def logged_purpose(entry: dict) -> str:
    """An access-log entry's purpose in the reader's language when the cockpit wrote it."""
    text = entry["purpose"] or ""
    if entry["action"] in _PURPOSE_WRITTEN:
        for pattern, show in _WRITTEN:
            found = pattern.match(text)
            if found:
                return show(found)
    return text
