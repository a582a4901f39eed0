"""Pieces shared by the pages."""

from __future__ import annotations

from dash import html

from cockpit.context import caller


def forbidden() -> html.Div:
    return html.Div("无权访问此页面 (you may not open this page)", className="forbidden")


def no_data() -> html.Div:
    return html.Div("尚无数据：请先运行一次刷新 (no data yet: run a refresh first)", className="notice")


def allowed(path: str):
    """The caller if allowed to open ``path``, else None (the page then shows forbidden())."""
    who = caller()
    return who if who is not None and who.may_open(path) else None
