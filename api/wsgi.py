"""The interfaces served on the cockpit's origin and port: its WSGI server (gunicorn, or a
test's werkzeug server) hands every request under ``/api/`` to the interfaces' ASGI app
(through a2wsgi) and every other to the cockpit.

Paths are passed whole (no ``SCRIPT_NAME`` split, unlike werkzeug's DispatcherMiddleware), so
the app's routes and its OpenAPI document carry the addresses callers use, mounted or served
alone. The cockpit's session check, CSRF and page headers never see these requests; the
interfaces check their own keys and send their own security headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from a2wsgi import ASGIMiddleware

PREFIX = "/api/"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def mount(cockpit: WSGIApp, api) -> WSGIApp:
    """A WSGI app sending ``/api`` and everything under ``/api/`` to the ASGI app ``api``, the rest to ``cockpit``."""
    interfaces = ASGIMiddleware(api)

    def dispatch(request: dict, start_response: Callable) -> Iterable[bytes]:  # the WSGI environ of one request
        path = request.get("PATH_INFO", "")
        if path == PREFIX.rstrip("/") or path.startswith(PREFIX):
            return interfaces(request, start_response)
        return cockpit(request, start_response)

    return dispatch
