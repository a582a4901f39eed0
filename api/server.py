"""The interfaces on a listener of their own (``citybrain api``; ``citybrain serve --api-port``):
the same app the cockpit mounts under ``/api/`` (:func:`api.create_api`), served by uvicorn's
workers (uvloop, httptools) under uvicorn's supervisor, which starts a worker again when one
dies. It spares each call the cockpit's WSGI path (gunicorn's HTTP parsing in Python, a2wsgi's
hand-over between a server thread and the event loop, and a server thread held per call in
flight): the throughput issue #32 asks for (``bench/sharing.py``, ``docs/performance.md``).
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI

from api.app import create_api
from warehouse.storage.home import Home


def _app(root: str) -> FastAPI:
    """The app one worker serves: each worker process builds its own (its store's connections
    and access-log writer, its snapshot connections, its rate-limit counts)."""
    return create_api(Home(Path(root)))


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
