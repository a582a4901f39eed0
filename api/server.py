"""The interfaces on a listener of their own (``citybrain api``; ``citybrain serve --api-port``):
the same app the cockpit mounts under ``/api/`` (:func:`api.create_api`), served by uvicorn's
workers (uvloop, httptools) under uvicorn's supervisor, which starts a worker again when one
dies. It spares each call the cockpit's WSGI path (gunicorn's HTTP parsing in Python, a2wsgi's
hand-over between a server thread and the event loop, and a server thread held per call in
flight): the throughput issue #32 asks for (``bench/sharing.py``, ``docs/performance.md``).
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_api
from warehouse.storage.home import Home

# Requests a kept-alive connection may carry before it is closed (nginx's keepalive_requests).
KEEPALIVE_REQUESTS = 100


class _Rebalanced:
    """Closes a kept-alive connection after about :data:`KEEPALIVE_REQUESTS` requests (the
    answer says ``Connection: close``), so that the caller's next connection goes to whichever
    worker accepts it first, most often the less busy one. A worker's Python runs on one core at
    most (one event loop, one interpreter lock); without this, connections that happened to
    land unevenly when the callers connected stay so, and one worker's core is saturated while
    the other has room (42 and 18 of 50 clients in bench/sharing.py)."""

    def __init__(self, app: ASGIApp, limit: int = KEEPALIVE_REQUESTS) -> None:
        self.app = app
        self.limit = limit
        self.served: dict[tuple, int] = {}  # a connection (the caller's address and port): requests left

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("client"):
            await self.app(scope, receive, send)
            return
        connection = tuple(scope["client"])
        # A limit drawn per connection between half and one and a half times the mean, so that
        # connections opened together are not closed (and opened again) together.
        n = self.served.get(connection, random.randint(self.limit // 2, self.limit * 3 // 2)) - 1
        if n > 0:
            if len(self.served) > 10_000:  # connections closed by their callers before the limit
                self.served.clear()
            self.served[connection] = n
            await self.app(scope, receive, send)
            return
        self.served.pop(connection, None)

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


def _app(root: str) -> ASGIApp:
    """The app one worker serves: each worker process builds its own (its store's connections
    and access-log writer, its snapshot connections, its rate-limit counts)."""
    return _Rebalanced(create_api(Home(Path(root)), lookup_threads=1))


def serve(home: Home, port: int, host: str = "127.0.0.1", workers: int = 2) -> None:
    """Serve the interfaces of ``home`` on ``host:port`` with ``workers`` processes until SIGINT or SIGTERM."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(functools.partial(_app, str(home.root)), factory=True, host=host, port=port, workers=workers,
                            loop="uvloop", http="httptools", lifespan="off", access_log=False, log_level="warning",
                            server_header=False, timeout_keep_alive=5)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[config.bind_socket()]).run()
