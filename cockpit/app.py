"""The digital cockpit (数字驾驶舱): one Dash app, a view per role, checked on the server.

The app factory builds the Dash app on a Flask server set up by ``cockpit/server.py``
(sign-in, sessions, CSRF, security headers). Navigation is built per request from the pages
the caller's role may open, and every page layout and callback checks the role again
(``cockpit.context.guard``). The factory receives the deployment's settings
(``warehouse/settings.py``) and hands them to the pages through ``cockpit.context``.
"""

from __future__ import annotations

import html as htmlmod
from functools import partial
from pathlib import Path

import dash
from dash import Dash, dcc, html
from flask_wtf.csrf import generate_csrf

from cockpit import context, daypicker, server
from cockpit.components import provider, scope_name
from cockpit.figures.city_map import boundaries_json
from cockpit.i18n import HTML_LANG, LANGUAGE_NAMES, N_, _, dark, label, lang
from cockpit.loading import on_callback_error
from warehouse.settings import Settings, settings
from warehouse.storage.home import Home, keep_private

_COCKPIT = N_("City Brain · Digital cockpit")


def create_app(home: Home, config: Settings | None = None) -> Dash:
    """The cockpit for one data directory (reads only its serving snapshot), run with the
    deployment's settings ``config`` (default: this process's)."""
    keep_private()
    config = config or settings()
    context.init(home, config)
    app = Dash(
        __name__, use_pages=True, pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(Path(__file__).parent / "assets"), title=_COCKPIT,
        suppress_callback_exceptions=True, update_title=None,
        on_error=on_callback_error,  # a failed query shows "could not load" where its content would be
    )
    daypicker.register(app)
    server.setup(app, home, config)

    # The page declares its language, which cockpit/assets/locale-zh.js reads to give the
    # charts and date pickers Chinese month and day names; its title is in that language too.
    interpolate = app.interpolate_index
    app.interpolate_index = lambda **kw: interpolate(**{**kw, "title": htmlmod.escape(tab_title())}).replace(
        "<html>", f'<html lang="{HTML_LANG[lang()]}">', 1)
    # Dash sets the tab's title from the page's on each navigation: the page's name, translated then.
    for page in dash.page_registry.values():
        page["title"] = partial(tab_title, page["name"] if page.get("allowed") else None)
    app.layout = _shell
    boundaries_json()  # simplify the district boundaries now (about a second), not in a user's first request
    return app


def tab_title(page: str | None = None) -> str:
    """The browser tab's title in the reader's language: the page's name (English, as registered)
    before the cockpit's."""
    return f"{_(page)} · {_(_COCKPIT)}" if page else _(_COCKPIT)


def _shell() -> html.Div:
    """The page frame for the current caller: navigation limited to what the role may open,
    the day shown (time travel), the language and big-screen switches, who is signed in; the
    "historical view" banner while a past day is shown."""
    who = context.caller()
    links = []
    if who is not None:
        for page in dash.page_registry.values():
            if who.may_open(page["path"]):  # each page declares who opens it where it is registered
                links.append(dcc.Link(_(page["name"]), href=page["path"], className="nav-link"))
    other = "en" if lang() == "zh" else "zh"
    switches = [
        _post_button("/prefs", "lang", other, LANGUAGE_NAMES[other], "lang-switch"),
        _post_button("/prefs", "theme", "light", _("Normal mode"), "theme-switch") if dark()
        else _post_button("/prefs", "theme", "dark", _("Big screen"), "theme-switch"),
    ]
    user = [] if who is None else [
        html.Span(f"{who.username} · {label('role', who.role)}" + (f" · {scope_name(who.scope)}" if who.scope else ""), className="who"),
        _post_button("/logout", None, None, _("Sign out"), "logout"),
    ]
    return provider(html.Div([
        html.Header([html.Div([_(_COCKPIT), *_demo_badge()], className="brand"), html.Nav(links),
                     *daypicker.picker(who), html.Div(switches, className="switches"), html.Div(user, className="user")]),
        *daypicker.banner(who),
        html.Main(dash.page_container),
    ], className="shell dark" if dark() else "shell", lang=lang()), dark())


def _demo_badge() -> list:
    """Says the city is synthetic when its data came from ``citybrain generate`` (which leaves
    its ground truth beside the warehouse): a newcomer otherwise takes a town of 100,000 for
    Hangzhou's figures."""
    if not (context.ctx().home.truth / "summary.json").exists():
        return []
    return [html.Span(_("Demo data"), className="demo-badge",
                      title=_("A synthetic city made by citybrain generate: its people, businesses and events are invented"))]


def _post_button(action: str, name: str | None, value: str | None, label: str, button_id: str) -> html.Form:
    """A link-looking button that POSTs (with the CSRF token): nothing changes state on GET."""
    try:
        token = generate_csrf()
    except RuntimeError:  # outside a request (Dash checking the layout): no form is served from it
        token = ""
    fields = [dcc.Input(type="hidden", name="csrf_token", value=token)]
    if name:
        fields.append(dcc.Input(type="hidden", name=name, value=value))
    return html.Form([*fields, html.Button(label, type="submit", id=button_id, className="link")],
                     action=action, method="POST", className="inline-form")


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
