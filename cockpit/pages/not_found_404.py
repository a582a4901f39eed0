"""The page for an address the cockpit does not have, in the reader's language (Dash's own says
"404 - Page not found" in English), with the way back to the reader's home page."""

import dash
from dash import dcc, html

from cockpit.context import caller
from cockpit.i18n import _

dash.register_page(__name__, path="/404")


def layout(**_unused) -> html.Div:
    who = caller()
    home = who.home_page() if who is not None else "/login"
    return html.Div([html.P(_("There is no such page.")),
                     dcc.Link(_("Back to your home page"), href=home)], className="notice")
