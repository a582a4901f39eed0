"""The governed interfaces (共享接口, CONTRACT §6): HTTP APIs other departments' systems call
with the key of an active sharing grant, answering only the granted items from the current
serving snapshot, every answered call in the access log first.

``create_api(home)`` builds the ASGI app (FastAPI) for a data directory; ``mount`` serves it
under ``/api/`` beside the cockpit (``cockpit/server.py`` does). Declarations of what each
interface asks, answers and reads are in :mod:`api.interfaces`; who may call, in :mod:`api.guard`.
"""

from api.app import create_api
from api.wsgi import mount

__all__ = ["create_api", "mount"]
