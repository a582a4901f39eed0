"""The governed interfaces' ASGI app (FastAPI): one route per interface of
:mod:`api.interfaces`, the OpenAPI document generated from them at ``/api/v1/openapi.json``.

Every call passes the checks of :mod:`api.guard`; an answered call is written to the access
log (``store.log_access``: the officer and role, the grant's department, purpose and legal
basis, the case number, whose data) before its answer leaves, and a call whose entry cannot be
written gets 503 and no answer. Answers come from the current serving snapshot (reopened when
the pointer moves, as the cockpit's) and name it: ``as_of`` (its day) and the ``X-Snapshot``
header (its file). Errors are ``{"error": code, "message": text}`` with their status, never a
traceback.

The app's routes carry their full paths (``/api/v1/...``), so it answers at the same addresses
mounted in the cockpit (:func:`api.wsgi.mount`) or served alone (``uvicorn``, a test client).

Endpoints, dependencies and error handlers are coroutines: what a call does before its log
entry (the key's grant and the officer, two reads on open SQLite connections; the lookup, one
DuckDB point query) runs on the event loop, costing less than a hop to a worker thread (FastAPI
runs each sync dependency in a thread of its own, and under a2wsgi anyio starts new ones per
request); the wait for the entry's commit (:meth:`OpsStore.append_access`, group commit) is
awaited, so no thread is held while the log's fsync runs.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, which
# name models chosen per interface inside create_api.
import asyncio
import datetime as dt
import inspect
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import Body, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.guard import CASE_NO, OFFICER_ID, Caller, Gate, Refused, key_id, log
from api.interfaces import INTERFACES, Interface
from warehouse.ops.share_requests import Grant
from warehouse.ops.store import OpsStore
from warehouse.serving.snapshot import Snapshot
from warehouse.settings import Settings, settings
from warehouse.storage.home import Home
from warehouse.storage.subjects import subject_hash, subject_key

OPENAPI_URL = "/api/v1/openapi.json"
SNAPSHOT_HEADER = "X-Snapshot"
# The largest request body read (bytes). An interface's body is a number or two and a list of
# fields (well under 1 KiB); without a bound every worker read and parsed whatever it was sent
# (20 MB took a quarter of a second of CPU, with or without a key) before any check ran.
MAX_BODY = 16 * 1024
# Every response: JSON only, never framed, sniffed, cached or sent on as a referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Error(BaseModel):
    """A refused or failed call: a stable code and a message for the caller's developers."""

    error: str
    message: str


def _error(what: str) -> dict:
    return {"model": Error, "description": what}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("X-Officer-Id or X-Case-No missing or malformed (no_officer, bad_officer, no_case_no, bad_case_no)"),
    401: _error("No key, or a key unknown, revoked or whose grant is not active (no_key, bad_key)"),
    403: _error("The grant is for another entry, the officer may not use it, or a field asked for is outside it "
                     "(entry_not_granted, officer_not_allowed, field_not_granted)"),
    413: _error(f"The body is longer than {MAX_BODY} bytes: not read, whatever the key and headers (body_too_large)"),
    422: _error("The body is not JSON, or not the interface's (bad_body)"),
    429: {**_error("Too many calls with the keys of this grant (rate_limited)"),
          "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}},
    503: _error("Nothing published to answer from, or the access log could not be written: not answered "
                     "(no_snapshot, not_published, not_logged)"),
}
_ANSWERED = {"headers": {SNAPSHOT_HEADER: {"description": "The serving snapshot's file the answer comes from",
                                           "schema": {"type": "string"}}}}

_DESCRIPTION = """The interfaces other departments' systems call with a key of an active sharing grant
(CONTRACT §6). Every call carries `Authorization: Bearer <key>`, `X-Officer-Id` (the user name of an
officer of the grant's department) and `X-Case-No` (the case it serves: letters, digits, `-`, `_`, `/`,
up to 64). Only the items the grant holds are answered; each answered call is in the access log before
its answer is sent, and the person it is about sees it. Rate-limited per grant, all its keys together (429 with Retry-After)."""


class _SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response the app sends (a plain ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
            await send(message)

        await self.app(scope, receive, sending)


class _BodyLimit:
    """Refuses (413) a request whose body is longer than :data:`MAX_BODY` before anything reads
    it: by its Content-Length, or, sent in chunks, once what has arrived passes the bound (the
    body is read here, at most that much, and handed on whole)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await self._refuse(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_BODY:
                await self._refuse(scope, receive, send)
                return
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: a disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await _refusal(request, 413, "body_too_large", f"the body is longer than {MAX_BODY} bytes")(scope, receive, send)


class _Published:
    """The current serving snapshot, as the interfaces read it: its file, a cursor, its day and
    its tables (the last two read once per snapshot file)."""

    def __init__(self, serving: Path, threads: int | None = None) -> None:
        self.snapshot = Snapshot(serving)
        self.threads = threads
        self._known: dict[Path, tuple[dt.date, frozenset[str]]] = {}

    def open(self, table: str) -> tuple[Path, duckdb.DuckDBPyConnection, dt.date]:
        """(file, cursor, day) of the current snapshot, which must hold ``table`` (else 503)."""
        path, cur = self.snapshot.pinned()
        if path is None or cur is None:
            raise Refused(503, "no_snapshot", "nothing has been published to answer from yet")
        known = self._known.get(path)
        if known is None:
            if self.threads:  # the snapshot's database in this process, for every query on it
                cur.execute(f"SET threads = {int(self.threads)}")
            info = dict(cur.execute("SELECT key, value FROM snapshot_info").fetchall())
            tables = frozenset(r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall())
            known = (dt.datetime.fromisoformat(info["as_of"]).date(), tables)
            if len(self._known) > 16:
                self._known.clear()
            self._known[path] = known
        if table not in known[1]:
            cur.close()
            raise Refused(503, "not_published", "the current snapshot was published without this interface's table")
        return path, cur, known[0]


def _refusal(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The refusal's JSON, and its line in the application log (never the access log: nothing was answered)."""
    log.warning("api refused %s %s: %s %s (key %s, officer %r, case %r, from %s)", request.method, request.url.path, status,
                code, key_id((request.headers.get("authorization") or "").removeprefix("Bearer ").strip()),
                (request.headers.get("x-officer-id") or "")[:64], (request.headers.get("x-case-no") or "")[:64],
                request.client.host if request.client else "-")
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


_HEADER_CODES = {"x-officer-id": ("no_officer", "bad_officer"), "x-case-no": ("no_case_no", "bad_case_no")}


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 for the officer's and case's headers (missing or malformed), 422 for the body."""
    errors = exc.errors()
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        if loc[:1] == ["header"] and len(loc) > 1 and loc[1].lower() in _HEADER_CODES:
            missing, bad = _HEADER_CODES[loc[1].lower()]
            if e.get("type") == "missing" or e.get("input") == "":  # an empty header is no header
                return _refusal(request, 400, missing, f"the {loc[1]} header is required")
            return _refusal(request, 400, bad, f"the {loc[1]} header is malformed: {e.get('msg', '')}")
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return _refusal(request, 422, "bad_body", "the body is not valid JSON")
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "body"
    return _refusal(request, 422, "bad_body", f"{where}: {first.get('msg', 'invalid')}")


def create_api(home: Home | Path | str, config: Settings | None = None, *, clock: Callable[[], dt.datetime] | None = None,
               officer_roles: Collection[str] | None = None, lookup_threads: int | None = None) -> FastAPI:
    """The interfaces of the data directory ``home``, run with the deployment's settings
    ``config`` (default: this process's). ``clock``: the time grants are judged at (default: now;
    tests move it); ``officer_roles``: the roles whose users may be named as the officer
    (default: the role registry's roles that may request data); ``lookup_threads``: DuckDB's
    threads for the snapshot in this process (a process serving only the interfaces runs its
    point lookups on one: DuckDB's pool would add a thread hop and contention to each)."""
    home = home if isinstance(home, Home) else Home.resolve(home)
    config = config or settings()
    if officer_roles is None:
        from cockpit.roles import roles_that  # the one registry of who may do what

        officer_roles = roles_that("request_data")
    store = OpsStore(home.root)
    gate = Gate(store, officer_roles, config.api_rate_limit, clock)
    published = _Published(home.serving, lookup_threads)
    key = subject_key(home.root)

    def hasher(id_number: str) -> str:
        return subject_hash(key, id_number)

    app = FastAPI(title="City Brain · governed interfaces (共享接口)", version="1", description=_DESCRIPTION,
                  openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  root_path_in_servers=False)
    app.add_middleware(_BodyLimit)
    app.add_middleware(_SecurityHeaders)  # added last, so outermost: the 413 carries them too

    # Handlers as coroutines: Starlette runs a plain function in a worker thread.
    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return _refusal(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return await unreadable(request)
        return _validation(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's only 400: a body it could not read (not UTF-8, nested too deep, a number too long)
            return await unreadable(request)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:  # never a traceback to the caller
        log.exception("api error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal", "message": "something went wrong; nothing was answered"},
                            status_code=500, headers=SECURITY_HEADERS)

    bearer = HTTPBearer(auto_error=False, scheme_name="key", description="The key of an active sharing grant")

    async def keyed(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Grant:
        return gate.grant(credentials.credentials if credentials else None)

    async def unreadable(request: Request) -> JSONResponse:
        """422 for a body that is not JSON, once the checks the docs put first pass (FastAPI reads
        the body before the route's dependencies run them): the key and its rate limit, the
        headers, the entry and the officer."""
        try:
            credentials = await bearer(request)
            grant = gate.grant(credentials.credentials if credentials else None)
            sent = {}
            for name, pattern in (("X-Officer-Id", OFFICER_ID), ("X-Case-No", CASE_NO)):
                missing, bad = _HEADER_CODES[name.lower()]
                sent[name] = request.headers.get(name) or ""
                if not sent[name]:
                    raise Refused(400, missing, f"the {name} header is required")
                if not re.fullmatch(pattern, sent[name]):
                    raise Refused(400, bad, f"the {name} header is malformed")
            iface = next((i for i in INTERFACES.values() if i.path == request.url.path), None)
            if iface is not None:
                gate.caller(grant, iface.entry, sent["X-Officer-Id"], sent["X-Case-No"])
        except Refused as exc:
            return _refusal(request, exc.status, exc.code, exc.message, exc.headers)
        return _refusal(request, 422, "bad_body", "the body is not valid JSON (UTF-8)")

    for iface in INTERFACES.values():
        _route(app, iface, gate, keyed, published, store, hasher)
    return app


def _route(app: FastAPI, iface: Interface, gate: Gate, keyed: Callable, published: _Published, store: OpsStore,
           hasher: Callable[[str], str]) -> None:
    """The route of one interface: its checks, its lookup, its access-log entry, its answer."""

    async def caller(grant: Annotated[Grant, Depends(keyed)],
               officer: Annotated[str, Header(alias="X-Officer-Id", pattern=OFFICER_ID,
                                              description="The user name of the officer the call is made for")],
               case_no: Annotated[str, Header(alias="X-Case-No", pattern=CASE_NO,
                                              description="The case (办件编号) the call serves")]) -> Caller:
        return gate.caller(grant, iface.entry, officer, case_no)

    async def answer(query: Annotated[iface.query, Body()], who: Annotated[Caller, Depends(caller)]):
        fields = who.answerable(iface.items, query.fields)
        path, cur, as_of = published.open(iface.table)
        try:
            found = iface.lookup(cur, query, as_of, hasher)
        finally:
            cur.close()
        values = found.values if found.values is not None else iface.unknown
        # The answer is made (its model validates it) before the entry is written, and sent as
        # made: FastAPI would validate and serialize it once more for the response model.
        body = iface.answer(**{f: values[f] for f in fields}, as_of=as_of).model_dump_json(exclude_unset=True)
        try:  # in the log before the answer leaves, or no answer
            await asyncio.wrap_future(store.append_access(
                who.officer, who.role, iface.action, delivery_id=None, rows=int(found.values is not None),
                id_numbers=found.id_numbers, subject_hashes=found.subject_hashes, purpose=who.purpose,
                scope=who.grant.department, legal_basis=who.grant.legal_basis))
        except Exception:
            log.exception("api call not logged: %s for %s", iface.action, who.officer)
            raise Refused(503, "not_logged", "the access log could not be written; nothing was answered") from None
        return Response(body, media_type="application/json", headers={SNAPSHOT_HEADER: path.name})

    answer.__name__ = iface.name
    app.post(iface.path, response_model=iface.answer, response_model_exclude_unset=True, summary=iface.summary,
             description=inspect.cleandoc(iface.answer.__doc__ or ""), operation_id=iface.name,
             responses={200: _ANSWERED, **ERRORS},
             openapi_extra={"x-catalog-entry": iface.entry, "x-catalog-items": iface.items})(answer)
