"""The Flask server under the cockpit's Dash app: who may come in, and how every response goes out.

Sign-in is a plain Flask form (argon2 hashes, a CSRF token, lockout per user and address);
every other request needs a live server-side session. State changes happen on POST only
(sign-in, sign-out, the language and display-mode switches at ``/prefs``); every response
carries the security headers (docs/security.md). ``/healthz`` answers without a session.
Requests under ``/api/`` go to the governed interfaces (``api/``), which check their own keys.

Behind a TLS-terminating reverse proxy, set ``CITYBRAIN_SECURE_COOKIES=1`` (cookies only
over HTTPS) and ``CITYBRAIN_TRUSTED_PROXIES=1`` (the number of proxies whose
``X-Forwarded-For`` is believed, for lockout and the audit log); by default neither.
"""

from __future__ import annotations

import html as htmlmod
import logging
import time
from urllib.parse import urlsplit

from dash import Dash
from flask import Response, g, redirect, request, session
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import ValidationError

from api import create_api, mount
from cockpit import catalog_export, context
from cockpit.auth import LoginRefused, authenticate, load_user, sign_out
from cockpit.figures.city_map import GEOJSON_PATH, boundaries_json
from cockpit.i18n import HTML_LANG, LANG_COOKIE, LANGS, LANGUAGE_NAMES, N_, THEME_COOKIE, THEMES, Refused, _
from warehouse.contract.translations import gettext
from warehouse.settings import Settings
from warehouse.storage.home import Home, private_key

log = logging.getLogger("citybrain.cockpit")
# Reachable without a session: these exact paths, and files under /assets/.
_PUBLIC = {"/login", "/_favicon.ico", "/healthz"}
MAX_REQUEST_BYTES = 4 * 2**20  # what a signed-in browser may send in one request

# The sign-in page, in one language: {lang} is the page's (zh or en); its words are _LOGIN_WORDS in that language.
_LOGIN_PAGE = """<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<link rel="stylesheet" href="/assets/cockpit.css"></head><body class="login">
<form method="post" action="/login" class="login-box"><h1>{heading}</h1>
{error}<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="lang" value="{lang}">
<label>{user}<input name="username" autocomplete="username" required></label>
<label>{password}<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">{submit}</button>
<a id="lang-switch" class="link" href="/login?lang={other}" hreflang="{other}" lang="{other}">{other_name}</a></form></body></html>"""
_LOGIN_WORDS = {"title": N_("City Brain · Sign in"), "heading": N_("City Brain cockpit"), "user": N_("User name"),
                "password": N_("Password"), "submit": N_("Sign in")}
_EXPIRED = N_("The page expired; sign in again.")


def login_language() -> str:
    """The sign-in page's language: the one chosen on it (``?lang=`` or the form's field), else the
    cockpit's language cookie, else the browser's preferred language (Chinese when it has none)."""
    chosen = request.values.get("lang")
    if chosen in LANGS:
        return chosen
    if request.cookies.get(LANG_COOKIE) in LANGS:
        return request.cookies[LANG_COOKIE]
    return request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValidationError:
        return False
    return True


def _is_public(path: str) -> bool:
    """Exact public paths, or a file under /assets/ (no way up out of it)."""
    return path in _PUBLIC or (path.startswith("/assets/") and ".." not in path.split("/"))


def _security_headers(app: Dash) -> dict[str, str]:
    """Headers for every response: no framing, no sniffing, no referrer leaving the site, and a
    content security policy allowing only this site's scripts (and Dash's own inline ones)."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return {
        "Content-Security-Policy": f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
                                   "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
                                   "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def setup(app: Dash, home: Home, config: Settings) -> None:
    """Set up ``app``'s Flask server for the data directory ``home`` with the deployment's
    settings ``config``: sessions (signed with a key kept in ``home``), sign-in and sign-out,
    the switches, the district boundaries the maps fetch, the security headers and the refusal
    of every request without a session."""
    ctx = context.ctx()
    server = app.server
    server.secret_key = private_key(home.root / "cockpit.key")  # signs the cookie that carries the session id
    secure = config.secure_cookies
    server.config.update(SESSION_COOKIE_NAME="cb_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=secure, WTF_CSRF_TIME_LIMIT=None,
                         # A callback carries a few components' state, the largest a grid's rows: far
                         # below this. A bigger body is refused (413) before it is read or parsed.
                         MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    # /api/...: the governed interfaces (api/), on this origin and port, with their own key check
    # and headers; the sign-in, sessions and CSRF below never see them.
    server.wsgi_app = mount(server.wsgi_app, create_api(home, config))
    proxies = config.trusted_proxies
    if proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    logins = LoginManager(server)
    logins.user_loader(lambda sid: load_user(ctx.store, sid))
    logins.session_protection = None  # the session is server-side and revocable; no second guess on the address
    headers: dict[str, str] = {}

    @server.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @server.after_request
    def server_timing(response: Response) -> Response:
        """How long the server spent (the standard Server-Timing header: browsers and bench/ read it),
        and the security headers."""
        if "started" in g:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        if not headers:
            headers.update(_security_headers(app))
        for k, v in headers.items():
            response.headers.setdefault(k, v)
        if request.path.startswith(("/assets/", "/_dash-component-suites/")):
            response.headers["Cache-Control"] = "private, max-age=3600"
        return response

    catalog_export.register(server)  # GET /catalog.jsonld (contract §6)

    @server.route("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @server.route(GEOJSON_PATH)
    def district_boundaries() -> Response:
        """The city's simplified district boundaries, which the maps fetch once (signed-in only,
        like every page; the browser keeps them for a day: they change only with the city file)."""
        body = boundaries_json()
        if body is None:
            return Response(_("This city has no district boundaries"), status=404)
        response = Response(body, mimetype="application/json")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response

    def login_page(error: Refused | None = None, status: int = 200) -> Response:
        lang_ = login_language()
        other = "en" if lang_ == "zh" else "zh"
        words = {k: gettext(v, lang_) for k, v in _LOGIN_WORDS.items()}
        shown = f'<p class="error">{htmlmod.escape(error.words(lang_))}</p>' if error else ""
        return Response(_LOGIN_PAGE.format(error=shown, csrf=generate_csrf(), lang=lang_, html_lang=HTML_LANG[lang_], other=other,
                                           other_name=LANGUAGE_NAMES[other], **words), status=status, mimetype="text/html")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            if not _csrf_ok():
                return login_page(Refused(_EXPIRED), 400)
            try:
                user = authenticate(ctx.store, request.form.get("username", ""), request.form.get("password", ""),
                                    request.remote_addr or "")
            except LoginRefused as e:
                return login_page(e, e.status)
            session.clear()  # a fresh cookie for the new session
            login_user(user)
            response = redirect(user.home_page())
            # The cockpit goes on in the language the person signed in with.
            response.set_cookie(LANG_COOKIE, login_language(), max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=secure)
            return response
        return login_page()

    @server.route("/prefs", methods=["POST"])
    def prefs():
        """Switch language (lang=zh|en) or display mode (theme=light|dark), back to the same page."""
        back = urlsplit(request.referrer or "/")
        same_site = not back.netloc or back.netloc == request.host
        response = redirect((back.path or "/") + (f"?{back.query}" if back.query else "") if same_site else "/", code=303)
        if not _csrf_ok():
            return response
        year = 365 * 24 * 3600
        if request.form.get("lang") in LANGS:
            response.set_cookie(LANG_COOKIE, request.form["lang"], max_age=year, samesite="Lax", httponly=True, secure=secure)
        if request.form.get("theme") in THEMES:
            response.set_cookie(THEME_COOKIE, request.form["theme"], max_age=year, samesite="Lax", httponly=True, secure=secure)
        return response

    @server.route("/logout", methods=["POST"])
    def logout():
        if _csrf_ok() and current_user.is_authenticated:
            sign_out(ctx.store, current_user._get_current_object())
            logout_user()
            session.clear()
        return redirect("/login", code=303)

    @server.before_request
    def require_session():
        if _is_public(request.path):
            return None
        if context.caller() is None:
            if request.path.startswith("/_dash"):
                return Response("sign in first", status=401)
            return redirect("/login")
        return None

    @server.errorhandler(Exception)
    def no_tracebacks(err: Exception):  # never show a traceback in the browser
        code = getattr(err, "code", 500)
        if not isinstance(code, int) or code >= 500:
            log.exception("cockpit error")
        return Response(_("Something went wrong; try again later."), status=code if isinstance(code, int) else 500)
