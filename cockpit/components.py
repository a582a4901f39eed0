"""Pieces shared by the pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

import pandas as pd
from dash import dcc, html

from cockpit.context import caller
from cockpit.i18n import label, t

log = logging.getLogger("citybrain.cockpit")


def scope_name(scope: str | None) -> str:
    """A department's or district's name in the reader's language (the code if unknown)."""
    return label("owner", scope) if scope else ""


def forbidden() -> html.Div:
    return html.Div(t("无权访问此页面", "You may not open this page."), className="forbidden")


def no_data() -> html.Div:
    return html.Div(t("尚无数据：请先运行一次刷新", "No data yet: run a refresh first."), className="notice")


def allowed(path: str):
    """The caller if allowed to open ``path``, else None (the page then shows forbidden())."""
    who = caller()
    return who if who is not None and who.may_open(path) else None


def page(path: str, *, needs_data: bool = True) -> Callable:
    """Decorate a page layout ``layout(who)``: refused to roles that may not open ``path``,
    and a notice instead while nothing has been published."""

    def wrap(build: Callable) -> Callable:
        @wraps(build)
        def layout(**_):
            from cockpit import data  # late: pages import this module

            who = allowed(path)
            if who is None:
                return forbidden()
            if needs_data and not data.info():
                return no_data()
            try:
                return build(who)
            except Exception:  # the shell stays usable; the details go to the log, never the browser
                log.exception("page %s failed", path)
                return html.Div(t("本页暂时无法显示，请稍后再试", "This page cannot be shown right now; try again later."),
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
