"""A request body longer than the interfaces read (api.app.MAX_BODY) is refused with 413 before
anything reads or parses it, with or without a key, declared or sent in chunks; a body up to
the bound is answered as before; the OpenAPI document declares the 413."""

from __future__ import annotations

import asyncio
import json

import httpx
import requests
from calling import ENTRY

from api import create_api
from api.app import MAX_BODY, SECURITY_HEADERS
from api.interfaces import INTERFACES
from warehouse.storage.home import Home

CASE = "MZ-2026-000413"


def _calls(store) -> int:
    return sum(1 for e in store.access_log(limit=100_000) if e["action"].startswith("api_"))


def _padded(n: int) -> bytes:
    """A valid persons_status body of exactly ``n`` bytes (JSON whitespace as padding)."""
    body = json.dumps({"id_number": "110105194912310011"}).encode()
    return body[:-1] + b" " * (n - len(body)) + b"}"


def test_a_body_over_the_bound_is_refused_unread_and_not_logged(cockpit_url, store, grant) -> None:
    g = grant(ENTRY["persons_status"])
    path = cockpit_url + INTERFACES["persons_status"].path
    keyed = {"Authorization": f"Bearer {g.key}", "X-Officer-Id": "clerk", "X-Case-No": CASE, "Content-Type": "application/json"}
    before = _calls(store)
    r = requests.post(path, data=_padded(MAX_BODY), headers=keyed, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "unknown", r.text
    for hdrs in (keyed, {"Content-Type": "application/json"}):  # the key is not looked at: the body is not read
        r = requests.post(path, data=_padded(MAX_BODY + 1), headers=hdrs, timeout=30)
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large"), r.text
        assert all(r.headers[k] == v for k, v in SECURITY_HEADERS.items())
        r = requests.post(path, data=b"1" * (20 * MAX_BODY), headers=hdrs, timeout=30)
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large"), r.text
    assert _calls(store) == before + 1


def test_a_chunked_body_over_the_bound_is_refused(home, grant) -> None:
    g = grant(ENTRY["persons_status"])
    app = create_api(Home.resolve(home))
    keyed = {"Authorization": f"Bearer {g.key}", "X-Officer-Id": "clerk", "X-Case-No": CASE, "Content-Type": "application/json"}

    async def chunks(body: bytes):  # no Content-Length: sent as it comes
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
            path = INTERFACES["persons_status"].path
            return [await c.post(path, content=chunks(_padded(n)), headers=keyed) for n in (MAX_BODY + 1, MAX_BODY)]

    over, at = asyncio.run(run())
    assert "content-length" not in {k.lower() for k in over.request.headers}
    assert (over.status_code, over.json()["error"]) == (413, "body_too_large"), over.text
    assert at.status_code == 200 and at.json()["status"] == "unknown", at.text


def test_the_openapi_document_declares_the_bound(home) -> None:
    doc = create_api(Home.resolve(home)).openapi()
    assert doc["paths"] and all("413" in p["post"]["responses"] for p in doc["paths"].values())
    assert str(MAX_BODY) in doc["paths"][INTERFACES["persons_status"].path]["post"]["responses"]["413"]["description"]
