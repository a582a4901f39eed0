"""My data (数据使用查询): a citizen sees every access to their own personal data, newest first.

When, which department and role (never the official's name), which data, why and on which
legal basis, and whether it was a bulk operation touching many people. Matched through the
keyed hash of the citizen's identity number: neither the log nor this page holds the number.
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from cockpit import data
from cockpit.components import data_grid, logged_purpose, page
from cockpit.context import ctx, guard
from cockpit.i18n import _, label, t

PATH = "/my-data"
dash.register_page(__name__, path=PATH, name="我的数据使用记录", name_en="Who used my data", order=7)
ACTIONS = {
    "view_rejected_rows": ("查看了您被退回的数据记录（报送时的全部字段）",
                           "Viewed a record about you that was sent back for correction (every field as delivered)"),
    "download_rejected_rows": ("下载了您被退回的数据记录以便更正（报送时的全部字段）",
                               "Downloaded a record about you that was sent back, to correct it (every field as delivered)"),
    "purge_rejected_rows": ("按保存期限删除了含有您信息的被退回记录", "Deleted sent-back records about you when their retention period ended"),
    "audit_search": ("审计员核查了谁访问过您的数据", "An auditor checked who had accessed your data"),
}
COLUMNS = [("at", "时间", "When"), ("department", "部门", "Department"), ("role", "角色", "Role"),
           ("data", "使用的数据", "Which data"), ("purpose", "用途", "Purpose"), ("legal_basis", "法律依据", "Legal basis"),
           ("bulk", "批量操作", "Bulk operation")]


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        html.H3(_("Who used my data")),
        html.P(_("Every time a government official accessed your personal information, newest first. The record cannot be altered; if anything looks wrong, contact the city's Data Resources Bureau.")),
        html.Div(id="md-summary", className="notice"),
        data_grid("md-table", [{"name": t(zh, en), "id": c} for c, zh, en in COLUMNS], page_size=20, wrap=("purpose",)),
        dcc.Store(id="md-load", data=1),
    ])


@callback(Output("md-summary", "children"), Output("md-table", "rowData"), Input("md-load", "data"))
def render(_unused):
    who = guard(PATH)
    if not who.subject:
        return _("Your account is not linked to an identity number."), []
    entries = ctx().store.access_log(subject=who.subject)
    feeds = data.deliveries_by_id([e["delivery_id"] for e in entries if e["delivery_id"] is not None]) if data.info() else {}
    rows = []
    for e in entries:
        # An auditor acts for the data resources bureau.
        dept = e["scope"] or ("dsb" if e["role"] == "auditor" else None)
        what = t(*ACTIONS.get(e["action"], (e["action"], e["action"])))
        if e["delivery_id"] in feeds:
            department, feed, day = feeds[e["delivery_id"]]
            what += _(" ({feed}, {day})").format(feed=label('feed', f'{department}/{feed}'), day=day)
        rows.append({
            "at": e["at"].replace("T", " "), "department": label("department", dept) if dept else "—", "role": label("role", e["role"]),
            "data": what, "purpose": logged_purpose(e) or "—",
            "legal_basis": label("legal_basis", e["legal_basis"]) if e["legal_basis"] else "—",
            "bulk": _("yes ({e_subjects} people)").format(e_subjects=e['subjects']) if e["subjects"] > 1 else _("no"),
        })
    summary = (_("{len_rows} access{es_if_len_rows_1_els} in all").format(len_rows=len(rows), es_if_len_rows_1_els='es' if len(rows) > 1 else '') if rows
               else _("No one has accessed your data."))
    return summary, rows
