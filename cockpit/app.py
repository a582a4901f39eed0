"""The digital cockpit (数字驾驶舱): one Dash app, a view per role, checked on the server.

Sign-in is a plain Flask form (argon2 hashes, rate limited); every other request needs a
session. Navigation is built per request from the pages the caller's role may open, and
every page layout and callback checks the role again (``cockpit.context.guard``).
"""

from __future__ import annotations

import html as htmlmod
import logging
import secrets
from pathlib import Path

import dash
from dash import Dash, dcc, html
from flask import Response, redirect, request
from flask_login import LoginManager, login_user, logout_user

from cockpit import context
from cockpit.auth import LoginRefused, authenticate, load_user
from cockpit.roles import HOME_PAGE, PAGES, ROLES
from warehouse.home import Home

log = logging.getLogger("citybrain.cockpit")
_PUBLIC = ("/login", "/assets/", "/_favicon.ico", "/healthz")

_LOGIN_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>城市大脑 · 登录</title>
<link rel="stylesheet" href="/assets/cockpit.css"></head><body class="login">
<form method="post" action="/login" class="login-box"><h1>城市大脑 · 数字驾驶舱</h1><p>City Brain cockpit</p>
{error}<label>用户名 User<input name="username" autocomplete="username" required></label>
<label>密码 Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">登录 Sign in</button></form></body></html>"""


def _secret(home: Home) -> bytes:
    path = home.root / "cockpit.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def create_app(home: Home) -> Dash:
    """The cockpit for one data directory (reads only its serving snapshot)."""
    ctx = context.init(home)
    app = Dash(
        __name__, use_pages=True, pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(Path(__file__).parent / "assets"), title="城市大脑 · 数字驾驶舱",
        suppress_callback_exceptions=True, update_title=None,
    )
    server = app.server
    server.secret_key = _secret(home)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    logins = LoginManager(server)
    logins.user_loader(lambda username: load_user(ctx.store, username))

    @server.route("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        if request.method == "POST":
            try:
                user = authenticate(ctx.store, request.form.get("username", ""), request.form.get("password", ""),
                                    request.remote_addr or "")
            except LoginRefused as e:
                status = 429 if "too many" in str(e) else 401
                body = _LOGIN_PAGE.format(error=f'<p class="error">{htmlmod.escape(str(e))}</p>')
                return Response(body, status=status, mimetype="text/html")
            login_user(user)
            return redirect(HOME_PAGE.get(user.role, "/"))
        return Response(_LOGIN_PAGE.format(error=error), mimetype="text/html")

    @server.route("/logout")
    def logout():
        logout_user()
        return redirect("/login")

    @server.before_request
    def require_session():
        if request.path.startswith(_PUBLIC):
            return None
        if context.caller() is None:
            if request.path.startswith("/_dash"):
                return Response("sign in first", status=401)
            return redirect("/login")
        return None

    @server.errorhandler(Exception)
    def no_tracebacks(err: Exception):  # never show a traceback in the browser
        log.exception("cockpit error")
        code = getattr(err, "code", 500)
        return Response("出错了，请稍后再试 (something went wrong)", status=code if isinstance(code, int) else 500)

    app.layout = _shell
    return app


def _shell() -> html.Div:
    """The page frame for the current caller: navigation limited to what the role may open."""
    who = context.caller()
    links = []
    if who is not None:
        for page in dash.page_registry.values():
            if page["path"] in PAGES and who.may_open(page["path"]):
                links.append(dcc.Link(page["name"], href=page["path"], className="nav-link"))
    user = [] if who is None else [
        html.Span(f"{who.username} · {ROLES[who.role][0]}" + (f" · {who.scope}" if who.scope else ""), className="who"),
        html.A("退出 Sign out", href="/logout", className="logout"),
    ]
    return html.Div([
        html.Header([html.Div("城市大脑 · 数字驾驶舱", className="brand"), html.Nav(links), html.Div(user, className="user")]),
        html.Main(dash.page_container),
    ], className="shell")


def serve(home: Home, port: int, host: str = "127.0.0.1") -> None:
    """Run the cockpit with Flask's server (use gunicorn with several workers in production)."""
    create_app(home).run(host=host, port=port, debug=False)
