"""The digital cockpit (数字驾驶舱): one Dash app, a view per role, checked on the server.

Sign-in is a plain Flask form (argon2 hashes, rate limited); every other request needs a
session. Navigation is built per request from the pages the caller's role may open, and
every page layout and callback checks the role again (``cockpit.context.guard``).
"""

from __future__ import annotations

import html as htmlmod
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import dash
from dash import Dash, dcc, html
from flask import Response, g, redirect, request
from flask_login import LoginManager, login_user, logout_user

from cockpit import context
from cockpit.auth import LoginRefused, authenticate, load_user
from cockpit.i18n import LANG_COOKIE, LANGS, THEME_COOKIE, THEMES, dark, lang, t
from cockpit.roles import PAGES, ROLES
from warehouse.storage.home import Home

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

    @server.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @server.after_request
    def server_timing(response: Response) -> Response:
        """How long the server spent (the standard Server-Timing header: browsers and bench/ read it)."""
        if "started" in g:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        return response

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
            return redirect(user.home_page())
        return Response(_LOGIN_PAGE.format(error=error), mimetype="text/html")

    @server.route("/prefs")
    def prefs():
        """Switch language (?lang=zh|en) or display mode (?theme=light|dark), back to the same page."""
        back = urlsplit(request.referrer or "/")
        same_site = not back.netloc or back.netloc == request.host
        response = redirect((back.path or "/") + (f"?{back.query}" if back.query else "") if same_site else "/")
        year = 365 * 24 * 3600
        if request.args.get("lang") in LANGS:
            response.set_cookie(LANG_COOKIE, request.args["lang"], max_age=year, samesite="Lax", httponly=True)
        if request.args.get("theme") in THEMES:
            response.set_cookie(THEME_COOKIE, request.args["theme"], max_age=year, samesite="Lax", httponly=True)
        return response

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
    """The page frame for the current caller: navigation limited to what the role may open,
    the language and big-screen switches, who is signed in."""
    who = context.caller()
    links = []
    if who is not None:
        for page in dash.page_registry.values():
            if page["path"] in PAGES and who.may_open(page["path"]):
                links.append(dcc.Link(t(page["name"], page.get("name_en", page["name"])), href=page["path"], className="nav-link"))
    switches = [
        html.A("English", href="/prefs?lang=en", id="lang-switch") if lang() == "zh"
        else html.A("中文", href="/prefs?lang=zh", id="lang-switch"),
        html.A(t("常规模式", "Normal mode"), href="/prefs?theme=light", id="theme-switch") if dark()
        else html.A(t("大屏模式", "Big screen"), href="/prefs?theme=dark", id="theme-switch"),
    ]
    user = [] if who is None else [
        html.Span(f"{who.username} · {t(*ROLES[who.role])}" + (f" · {who.scope}" if who.scope else ""), className="who"),
        html.A(t("退出", "Sign out"), href="/logout", className="logout"),
    ]
    return html.Div([
        html.Header([html.Div(t("城市大脑 · 数字驾驶舱", "City Brain · Digital cockpit"), className="brand"), html.Nav(links),
                     html.Div(switches, className="switches"), html.Div(user, className="user")]),
        html.Main(dash.page_container),
    ], className="shell dark" if dark() else "shell", lang=lang())


def serve(home: Home, port: int, host: str = "127.0.0.1", workers: int = 2, threads: int = 4) -> None:
    """Serve the cockpit with gunicorn: ``workers`` processes of ``threads`` threads each.
    Every worker builds its own app (its own snapshot connection and store handles)."""
    from gunicorn.app.base import BaseApplication

    class _Cockpit(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                               "accesslog": None, "errorlog": "-", "loglevel": "warning", "timeout": 60}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(home).server

    _Cockpit().run()
