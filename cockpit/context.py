"""What every page and callback needs: the snapshot, the operational store, the settings, the caller."""

from __future__ import annotations

from dataclasses import dataclass

from dash.exceptions import PreventUpdate
from flask_login import current_user

from cockpit.roles import Principal
from warehouse.ops.store import OpsStore
from warehouse.serving.snapshot import Snapshot
from warehouse.settings import Settings
from warehouse.storage.home import Home


@dataclass
class Context:
    home: Home
    snapshot: Snapshot
    store: OpsStore
    settings: Settings  # the deployment's, as the app factory received them


_CTX: Context | None = None


def init(home: Home, settings: Settings) -> Context:
    """The context of the cockpit for ``home``, run with ``settings``."""
    global _CTX
    _CTX = Context(home, Snapshot(home.serving), OpsStore(home.root), settings)
    return _CTX


def ctx() -> Context:
    assert _CTX is not None, "cockpit.context.init() was not called"
    return _CTX


def caller() -> Principal | None:
    """The signed-in user of this request, or None."""
    if not current_user or not current_user.is_authenticated:
        return None
    return Principal(current_user.username, current_user.role, current_user.scope, current_user.subject)


def guard(path: str) -> Principal:
    """The caller, if allowed to use ``path``; otherwise the callback does nothing.

    Every callback starts with this: hiding a link is not authorization.
    """
    who = caller()
    if who is None or not who.may_open(path):
        raise PreventUpdate
    return who
