"""Users (administrators): who may sign in, with which role and scope. Every change is
written to the access audit log; no one changes their own account here (separation of
duties: the administrator cannot make itself anything else, the auditor cannot change users)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from cockpit.auth import add_user
from cockpit.components import page, scope_name
from cockpit.context import ctx, guard
from cockpit.i18n import columns, label, t
from cockpit.roles import ROLES

PATH = "/users"
dash.register_page(__name__, path=PATH, name="用户管理", name_en="Users", order=6)
COLUMNS = ["username", "role", "scope", "created_at", "disabled"]


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        dash_table.DataTable(id="us-table", columns=columns(COLUMNS), page_size=25, row_selectable="single",
                             style_cell={"textAlign": "left"}),
        html.Div([
            html.Button(t("停用", "Disable"), id="us-disable"), html.Button(t("启用", "Enable"), id="us-enable"),
        ], className="toolbar"),
        html.H3(t("新增或更新用户", "Add or update a user")),
        html.Div([
            dcc.Input(id="us-name", placeholder=t("用户名", "User name")),
            dcc.Dropdown(id="us-role", options=[{"label": t(*ROLES[r]), "value": r} for r in ROLES],
                         placeholder=t("角色", "Role"), style={"minWidth": "14rem"}),
            dcc.Input(id="us-scope", placeholder=t("范围：区县代码或部门", "Scope: district code or department")),
            dcc.Input(id="us-id-number", placeholder=t("市民的身份证号（仅市民账号）", "Citizen's identity number (citizens only)")),
            dcc.Input(id="us-password", type="password", placeholder=t("初始密码（至少8位）", "Password (8+ characters)")),
            html.Button(t("保存", "Save"), id="us-save"),
        ], className="toolbar"),
        html.Div(id="us-result", className="notice"),
    ])


@callback(Output("us-table", "data"), Input("us-result", "children"))
def render(_):
    guard(PATH)
    return [{**u, "role": label("role", u["role"]), "scope": scope_name(u["scope"]),
             "created_at": u["created_at"].replace("T", " "), "disabled": t("是", "yes") if u["disabled"] else ""}
            for u in ctx().store.users()]


def _log(who, action: str, target: str) -> None:
    ctx().store.log_access(who.username, who.role, action, delivery_id=None, rows=0, id_numbers=[], purpose=target)


@callback(Output("us-result", "children"), Input("us-save", "n_clicks"), Input("us-disable", "n_clicks"),
          Input("us-enable", "n_clicks"), State("us-name", "value"), State("us-role", "value"), State("us-scope", "value"),
          State("us-id-number", "value"), State("us-password", "value"), State("us-table", "data"),
          State("us-table", "selected_rows"), prevent_initial_call=True)
def change(_, __, ___, name, role, scope, id_number, password, rows, selected):
    who = guard(PATH)
    if dash.ctx.triggered_id == "us-save":
        name = (name or "").strip()
        if not name:
            return t("请填写用户名", "Enter a user name.")
        if name == who.username:
            return t("不能在此修改自己的账号", "You cannot change your own account here.")
        try:
            add_user(ctx().store, name, password or "", role or "", (scope or "").strip() or None, (id_number or "").strip() or None)
        except ValueError as e:
            return t(f"未保存：{e}", f"Not saved: {e}")
        _log(who, "user_saved", f"{name} ({role}{'/' + scope if scope else ''})")
        return t(f"已保存用户 {name}", f"Saved user {name}")
    if not rows or not selected:
        return t("请先选择一个用户", "Select a user first.")
    target = rows[selected[0]]["username"]
    if ctx().store.user(target) is None:
        return t("没有这个用户", "No such user.")
    if target == who.username:
        return t("不能停用或启用自己", "You cannot disable or enable yourself.")
    disable = dash.ctx.triggered_id == "us-disable"
    ctx().store.set_disabled(target, disable)
    _log(who, "user_disabled" if disable else "user_enabled", target)
    return t(f"已{'停用' if disable else '启用'} {target}", f"{'Disabled' if disable else 'Enabled'} {target}")
