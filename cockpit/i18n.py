"""Language (Chinese by default, English on request) and display mode (normal or the dark
big-screen mode), both chosen by the user and kept in cookies so every page and callback
of the request renders consistently.

Words in the reader's language come from one place, the gettext catalogs of
``warehouse.contract.translations``: a phrase is written in English and wrapped in ``_()``
(``pgettext`` when its English reads two ways in Chinese, ``ngettext`` when it counts; ``N_``
marks one kept in a table and translated where it is shown); a code the warehouse produces (department, district,
status, rule…) is named by the label registry through ``label``, and a stored message is
rendered by ``message``, so the warehouse and the cockpit name them alike. Data that carries
both languages itself (the indicator catalog's columns) is read with ``either``."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from babel.dates import format_datetime, format_interval, format_skeleton
from babel.numbers import format_percent
from flask import has_request_context, request

from cockpit import dagster_names, roles
from warehouse.contract import labels, translations

LANG_COOKIE = "cb_lang"
THEME_COOKIE = "cb_theme"
LANGS = ("zh", "en")
# Each language named in itself, on the switch to it; the html lang attribute of a page in it.
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
THEMES = ("light", "dark")

def N_(text: str) -> str:
    """Marks ``text`` for the catalog where it is written (a table of phrases); it is
    translated with ``_()`` where it is shown."""
    return text


# Column headers shown in tables, by column id (translated by ``columns``).
COLUMN_LABELS: dict[str, str] = {
    "alert_id": N_("Alert"), "severity": N_("Severity"), "status": N_("Status"),
    "date": N_("Date"), "district_code": N_("District"), "rule_id": N_("Rule"),
    "message": N_("Message"), "owner_scope": N_("Owner"),
    # The loop from alert to closure (alerts page).
    "state": N_("Handling state"), "condition": N_("Condition"), "owner": N_("Owner"),
    "step": N_("Step"), "actor": N_("By"), "note": N_("Note"), "rating": N_("Rating"),
    "owner_kind": N_("Kind"), "dispatched": N_("Dispatched"), "judged": N_("Due or handled"),
    "on_time": N_("Handled in time"), "disposal_rate": N_("On-time disposal"),
    "open_now": N_("Overdue"), "closed": N_("Closed"),
    "median_hours_to_close": N_("Hours to close (median)"), "mean_rating": N_("Mean rating"),
    "returns": N_("Returns"),
    "delivery_id": N_("Delivery"), "department": N_("Department"), "feed": N_("Feed"),
    "business_date": N_("Business date"), "file_name": N_("File"), "rows_read": N_("Rows read"),
    "rows_accepted": N_("Accepted"), "rows_rejected": N_("Rejected"), "reason": N_("Reason"),
    "error": N_("Error"), "arrived_at": N_("Arrived"), "at": N_("When"), "username": N_("User"),
    "role": N_("Role"), "action": N_("Action"), "rows": N_("Rows"), "subjects": N_("People"),
    "purpose": N_("Purpose"), "line": N_("Line"), "reasons": N_("Reasons"), "row": N_("Original row"),
    "scope": N_("Scope"), "created_at": N_("Created"), "disabled": N_("Disabled"),
    "run_id": N_("Run"), "job": N_("Job"), "started": N_("Started"), "ended": N_("Ended"),
    "rule": N_("Rule"), "owner_department": N_("Owner department"), "findings": N_("Findings"),
    "since": N_("Since"),
    "ticket_no": N_("Ticket"), "district": N_("District"), "category": N_("Category"),
    "handler": N_("Handler"), "due_at": N_("Due"), "days_overdue": N_("Days overdue"),
    "on_time_rate": N_("On-time closure"), "overdue": N_("Overdue, open"),
    "legal_basis": N_("Legal basis"), "indicator": N_("Indicator"), "value": N_("Value"),
    "unit": N_("Unit"), "reason_ids": N_("Reason codes"), "fix": N_("To fix"),
    "rows_that_day": N_("Records of that day in the file"),
    # The analyst's console (pipeline-runs page).
    "launched_by": N_("Launched by"), "duration": N_("Duration"), "instigator": N_("Name"),
    "kind": N_("Kind"), "switch": N_("On/off"), "when": N_("Runs at"), "next_tick": N_("Next tick"),
    "last_tick": N_("Last tick"), "last_outcome": N_("Last outcome"), "backfill": N_("Backfill no."),
    "progress": N_("Progress"),
    "stage": N_("Stage"), "last_materialized": N_("Last brought up to date"), "verdict": N_("On time?"),
}


def _cookie(name: str, allowed: tuple[str, ...]) -> str:
    if has_request_context():
        value = request.cookies.get(name, allowed[0])
        if value in allowed:
            return value
    return allowed[0]


def lang() -> str:
    """The caller's language: 'zh' (default) or 'en'."""
    return _cookie(LANG_COOKIE, LANGS)


def dark() -> bool:
    """True in the dark big-screen mode."""
    return _cookie(THEME_COOKIE, THEMES) == "dark"


def _(text: str) -> str:
    """``text`` (English, the source language) in the caller's language, from the catalogs
    (``warehouse.contract.translations``)."""
    return translations.gettext(text, lang())


def pgettext(context: str, text: str) -> str:
    """``text`` in the caller's language as meant in ``context``: for English that reads
    differently in Chinese depending on where it stands (``pgettext("list separator", ", ")``)."""
    return translations.pgettext(context, text, lang())


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a phrase counting ``n`` things in the caller's language, its count still to be
    filled in: ``ngettext("{count} run requested", "{count} runs requested", n).format(count=n)``."""
    return translations.ngettext(singular, plural, n, lang())


class Refused(Exception):
    """An error whose words are a phrase of the catalogs (English, marked with ``N_``) and its
    parameters, put in the reader's language when shown; str() is the English (the command
    line, the logs)."""

    def __init__(self, msgid: str, **params) -> None:
        super().__init__(msgid.format(**params))
        self.msgid, self.params = msgid, params

    def words(self, language: str | None = None) -> str:
        """The error in ``language`` (default: the caller's)."""
        return translations.gettext(self.msgid, language or lang()).format(**self.params)


def either(zh: str | None, en: str | None) -> str:
    """Of a value the data holds in both languages (the indicator catalog's ``name_zh`` and
    ``name_en``), the one in the caller's language. Phrases and codes never come this way."""
    return (en if lang() == "en" else zh) or ""


def label(kind: str, code: str | None) -> str:
    """A code's name in the caller's language, from the label registry; a Dagster job, step or
    instigator's from its definition (cockpit/dagster_names.py); a role's from its entry in the
    role registry (cockpit/roles.py: only the cockpit knows roles)."""
    if kind == "role":
        entry = roles.role_of(code)
        found = entry.names if entry else None
    elif kind in dagster_names.KINDS:
        found = dagster_names.pair(kind, code) if code else None
    else:
        return labels.name(kind, code, lang())
    return (found[1] if lang() == "en" else found[0]) if found else (code or "")


def message(key: str | None, params, fallback: str = "") -> str:
    """A stored message (template key and parameters) rendered in the caller's language."""
    return labels.render(key, params, lang(), fallback)


def named(df: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """``df`` with the code columns in ``kinds`` (column -> label kind) replaced by names."""
    return df.assign(**{col: [label(kind, v) for v in df[col]] for col, kind in kinds.items() if col in df})


# The locale whose calendar words and number symbols (CLDR, through Babel) each language is written with.
DATE_LOCALES = {"zh": "zh_CN", "en": "en_GB"}


def day_text(day, skeleton: str = "yMMMd") -> str:
    """A day as the reader writes it, from a CLDR skeleton: 2026年11月18日 / 18 Nov 2026 (the
    default), 11月18日 / 18 Nov (``"MMMd"``)."""
    return format_skeleton(skeleton, day, locale=DATE_LOCALES[lang()])


def days_text(first, last, skeleton: str = "MMMd") -> str:
    """The days from ``first`` to ``last`` as the reader writes a span, from CLDR's interval
    formats: 11月16日至20日 / 16 – 20 Nov; one day when they are the same."""
    return format_interval(first, last, skeleton, locale=DATE_LOCALES[lang()])


def time_text(value, *, seconds: bool = False) -> str:
    """A moment as the cockpit shows it, to the minute (``seconds``: to the second, where the
    second decides, as a delivery's arrival against its deadline): 2026-11-18 06:05. The same
    figures in both languages, so a grid sorts them as it sorts text; "" for no value. Takes a
    datetime, a pandas Timestamp or an ISO text (the snapshot's ``as_of``); a text that is not
    a time is shown as it is."""
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return ""
    try:
        moment = pd.Timestamp(value)
    except ValueError:
        return str(value)
    return format_datetime(moment, "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm", locale=DATE_LOCALES[lang()])


def pct(value, decimals: int = 1) -> str:
    """A share as a percentage in the reader's locale (CLDR, through Babel): 0.123 -> 12.3%;
    "—" for no value."""
    if value is None or value != value:
        return "—"
    return format_percent(value, "#,##0" + ("." + "0" * decimals if decimals else "") + "%", locale=DATE_LOCALES[lang()])


def graph_config(**extra) -> dict:
    """dcc.Graph's config in the caller's language (cockpit/assets/locale-zh.js gives plotly
    its Chinese mode bar, month names and date ticks). No "share chart" button: plotly would
    send the chart's data to its cloud."""
    return {"locale": "en" if lang() == "en" else "zh-CN", "showSendToCloud": False, **extra}


def date_picker_text(placeholder: str | None = None) -> dict:
    """A date picker's words and formats in the caller's language: a DatePickerSingle's
    ``placeholder`` (translated by the caller), else a DatePickerRange's "Start date" and "End
    date". Their month and day names come from cockpit/assets/locale-zh.js."""
    shared = {"display_format": "YYYY-MM-DD", "month_format": _("MMMM YYYY"), "first_day_of_week": 1}
    if placeholder is not None:
        return {**shared, "placeholder": placeholder}
    return {**shared, "start_date_placeholder_text": _("Start date"), "end_date_placeholder_text": _("End date")}


def columns(ids: list[str]) -> list[dict]:
    """Grid column definitions (components.data_grid) with headers in the caller's language."""
    return [{"name": _(COLUMN_LABELS[c]) if c in COLUMN_LABELS else c, "id": c} for c in ids]


def figure_layout() -> dict:
    """Plotly layout colours matching the display mode, as plain values: figures are sent as
    dicts (building them through plotly's validated objects and templates costs tens of ms each)."""
    if dark():
        fg, bg, grid = "#e6edf3", "#161b22", "#30363d"
    else:
        fg, bg, grid = "#1b2430", "#ffffff", "#e5e9f0"
    axis = {"gridcolor": grid, "zerolinecolor": grid, "linecolor": grid}
    return {"paper_bgcolor": bg, "plot_bgcolor": bg, "font": {"color": fg}, "xaxis": dict(axis), "yaxis": dict(axis)}
