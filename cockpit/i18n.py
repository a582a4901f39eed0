"""Language (Chinese by default, English on request) and display mode (normal or the dark
big-screen mode), both chosen by the user and kept in cookies so every page and callback
of the request renders consistently.

Two sources of words, each for one thing: this module holds the cockpit's own phrases
(``t``, column headers); codes the warehouse produces (departments, districts, statuses,
rules, messages…) are named by the label registry, ``warehouse.contract.labels``, through
``label`` and ``message`` here, so the warehouse and the cockpit name them alike."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from flask import has_request_context, request

from warehouse.contract import labels, translations

LANG_COOKIE = "cb_lang"
THEME_COOKIE = "cb_theme"
LANGS = ("zh", "en")
THEMES = ("light", "dark")

# Column headers shown in tables, by column id.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "alert_id": ("预警编号", "Alert"), "severity": ("级别", "Severity"), "status": ("状态", "Status"),
    "date": ("日期", "Date"), "district_code": ("区县", "District"), "rule_id": ("规则", "Rule"),
    "message": ("内容", "Message"), "owner_scope": ("责任方", "Owner"),
    # The loop from alert to closure (alerts page).
    "state": ("处置状态", "Handling"), "condition": ("预警状态", "Condition"), "owner": ("责任方", "Owner"),
    "step": ("环节", "Step"), "actor": ("操作人", "By"), "note": ("说明", "Note"), "rating": ("评分", "Rating"),
    "owner_kind": ("类型", "Kind"), "dispatched": ("派单", "Dispatched"), "judged": ("已到时限或已处置", "Due or handled"),
    "on_time": ("按时处置", "Handled in time"), "disposal_rate": ("按时处置率", "On-time disposal"),
    "open_now": ("超时未处置", "Overdue"), "closed": ("已结案", "Closed"),
    "median_hours_to_close": ("派单到结案（小时，中位数）", "Hours to close (median)"), "mean_rating": ("平均评分", "Mean rating"),
    "returns": ("退回", "Returns"),
    "delivery_id": ("批次", "Delivery"), "department": ("部门", "Department"), "feed": ("数据集", "Feed"),
    "business_date": ("业务日期", "Business date"), "file_name": ("文件", "File"), "rows_read": ("读取行", "Rows read"),
    "rows_accepted": ("接收行", "Accepted"), "rows_rejected": ("拒收行", "Rejected"), "reason": ("原因", "Reason"),
    "error": ("说明", "Error"), "arrived_at": ("到达时间", "Arrived"), "at": ("时间", "When"), "username": ("用户", "User"),
    "role": ("角色", "Role"), "action": ("操作", "Action"), "rows": ("行数", "Rows"), "subjects": ("涉及人数", "People"),
    "purpose": ("用途", "Purpose"), "line": ("行号", "Line"), "reasons": ("原因", "Reasons"), "row": ("原始数据", "Original row"),
    "scope": ("范围", "Scope"), "created_at": ("创建时间", "Created"), "disabled": ("已停用", "Disabled"),
    "run_id": ("运行编号", "Run"), "job": ("作业", "Job"), "started": ("开始", "Started"), "ended": ("结束", "Ended"),
    "rule": ("规则", "Rule"), "owner_department": ("责任部门", "Owner department"), "findings": ("问题数", "Findings"),
    "since": ("最早", "Since"),
    "ticket_no": ("工单编号", "Ticket"), "district": ("区县", "District"), "category": ("类别", "Category"),
    "handler": ("承办单位", "Handler"), "due_at": ("办理时限", "Due"), "days_overdue": ("超期天数", "Days overdue"),
    "on_time_rate": ("按时办结率", "On-time closure"), "overdue": ("超期未办结", "Overdue, open"),
    "legal_basis": ("法律依据", "Legal basis"), "indicator": ("指标", "Indicator"), "value": ("数值", "Value"),
    "unit": ("单位", "Unit"), "reason_ids": ("原因代码", "Reason codes"), "fix": ("处理办法", "To fix"),
    "rows_that_day": ("文件中该日的记录数", "Records of that day in the file"),
    # The analyst's console (pipeline-runs page).
    "launched_by": ("发起人", "Launched by"), "duration": ("耗时", "Duration"), "instigator": ("名称", "Name"),
    "kind": ("类型", "Kind"), "switch": ("开关", "On/off"), "when": ("运行时间", "When"), "next_tick": ("下次运行", "Next tick"),
    "last_tick": ("上次检查", "Last tick"), "last_outcome": ("上次结果", "Last outcome"), "backfill": ("补算编号", "Backfill"),
    "progress": ("进度", "Progress"),
    "stage": ("环节", "Stage"), "last_materialized": ("最近更新", "Last brought up to date"), "verdict": ("是否按时", "On time?"),
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


def t(zh: str, en: str) -> str:
    """The text in the caller's language."""
    return en if lang() == "en" else zh


def label(kind: str, code: str | None) -> str:
    """A code's name in the caller's language, from the label registry."""
    return labels.name(kind, code, lang())


def message(key: str | None, params, fallback: str = "") -> str:
    """A stored message (template key and parameters) rendered in the caller's language."""
    return labels.render(key, params, lang(), fallback)


def named(df: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """``df`` with the code columns in ``kinds`` (column -> label kind) replaced by names."""
    return df.assign(**{col: [label(kind, v) for v in df[col]] for col, kind in kinds.items() if col in df})


def graph_config(**extra) -> dict:
    """dcc.Graph's config in the caller's language (cockpit/assets/locale-zh.js gives plotly
    its Chinese month names and buttons)."""
    return {"locale": "en" if lang() == "en" else "zh-CN", **extra}


def date_picker_text() -> dict:
    """Placeholders and formats of the date pickers in the caller's language (their month
    and day names come from cockpit/assets/locale-zh.js)."""
    return {"start_date_placeholder_text": _("Start date"), "end_date_placeholder_text": _("End date"),
            "display_format": "YYYY-MM-DD", "month_format": _("MMMM YYYY"), "first_day_of_week": 1}


def columns(ids: list[str]) -> list[dict]:
    """Grid column definitions (components.data_grid) with headers in the caller's language."""
    return [{"name": t(*COLUMN_LABELS.get(c, (c, c))), "id": c} for c in ids]


def figure_layout() -> dict:
    """Plotly layout colours matching the display mode, as plain values: figures are sent as
    dicts (building them through plotly's validated objects and templates costs tens of ms each)."""
    if dark():
        fg, bg, grid = "#e6edf3", "#161b22", "#30363d"
    else:
        fg, bg, grid = "#1b2430", "#ffffff", "#e5e9f0"
    axis = {"gridcolor": grid, "zerolinecolor": grid, "linecolor": grid}
    return {"paper_bgcolor": bg, "plot_bgcolor": bg, "font": {"color": fg}, "xaxis": dict(axis), "yaxis": dict(axis)}
