"""The interfaces on a listener of their own (``citybrain api``: uvicorn workers) answer and log
exactly as under the cockpit, and close a kept-alive connection now and then; the rate limit
is a moving window per grant; a snapshot published
before the certificate lookup's number key still answers certificates."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from calling import ENTRY, library
from test_interfaces import call, calls_logged, headers

from api.guard import Gate, Refused
from warehouse.serving.publish import POINTER, current, snapshot_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api_url(home: Path) -> Iterator[str]:
    """``citybrain api`` served for real: two uvicorn workers on a port of their own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "citybrain", "api", "--home", str(home), "--port", str(port)],
                            cwd=ROOT, env={**os.environ, "CITYBRAIN_API_RATE_LIMIT": "1000/second"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/api/v1/openapi.json", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"citybrain api did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_own_listener_answers_and_logs_as_the_cockpit_does(api_url, cockpit_url, home, store, grant) -> None:
    g = grant(ENTRY["persons_status"])
    person = library(home, "SELECT id_number FROM population.persons ORDER BY id_number LIMIT 1")[0][0]
    before = len(calls_logged(store))
    alone = call(api_url, "persons_status", {"id_number": person}, headers(g, case="OWN-1"))
    mounted = call(cockpit_url, "persons_status", {"id_number": person}, headers(g, case="OWN-2"))
    assert alone.status_code == mounted.status_code == 200, (alone.text, mounted.text)
    assert alone.json() == mounted.json()
    assert alone.headers["X-Snapshot"] == mounted.headers["X-Snapshot"]
    assert alone.headers["Cache-Control"] == "no-store"
    # Each answered call once in the log; a refused one (no case number) answers and logs nothing.
    assert call(api_url, "persons_status", {"id_number": person}, headers(g, case=None)).status_code == 400
    logged = calls_logged(store)[: len(calls_logged(store)) - before]
    assert sorted(e["purpose"].split(":")[0] for e in logged) == ["case OWN-1", "case OWN-2"]
    assert store.verify_audit_chain()[1] is None
    assert requests.get(api_url + "/api/v1/openapi.json", timeout=10).json()["paths"].keys() == \
        requests.get(cockpit_url + "/api/v1/openapi.json", timeout=10).json()["paths"].keys()


def test_the_rate_limit_is_a_moving_window_per_grant(store, grant) -> None:
    gate = Gate(store, {"officer"}, "3/second;5/minute")
    g, other = grant(ENTRY["persons_status"]), grant(ENTRY["persons_status"])
    for _ in range(3):
        gate.grant(g.key)
    with pytest.raises(Refused) as refused:
        gate.grant(g.key)
    assert (refused.value.status, refused.value.code, refused.value.headers["Retry-After"]) == (429, "rate_limited", "1")
    gate.grant(other.key)  # another grant has its own count
    time.sleep(1.05)
    gate.grant(g.key)  # the second is over: one more, until the minute's five
    gate.grant(g.key)
    with pytest.raises(Refused) as refused:
        gate.grant(g.key)
    assert 50 <= int(refused.value.headers["Retry-After"]) <= 60  # a refused call is not counted


def test_a_snapshot_published_before_the_certificate_key_still_answers(cockpit_url, home, grant) -> None:
    g = grant(ENTRY["certificates_verify"])
    no, holder = library(home, "SELECT certificate_no, holder_id FROM e_certificate.certificate_state "
                               "ORDER BY certificate_no LIMIT 1")[0]
    body = {"certificate_no": no, "holder_id": holder}
    now = call(cockpit_url, "certificates_verify", body, headers(g))
    assert now.status_code == 200 and now.json()["status"] != "unknown", now.text
    serving = home / "serving"
    was = current(serving)
    old = serving / snapshot_name(dt.datetime.now().strftime("%Y%m%dT%H%M%S%f"), "0dd0e1", dt.date.today())
    shutil.copy2(was, old)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE certificate_lookup DROP COLUMN cert_key")
    con.close()
    (serving / POINTER).write_text(old.name)
    try:
        before = call(cockpit_url, "certificates_verify", body, headers(g))
        assert before.headers["X-Snapshot"] == old.name
        assert before.json() == now.json()
        unknown = call(cockpit_url, "certificates_verify", {**body, "certificate_no": "NO-SUCH-1"}, headers(g))
        assert unknown.json()["status"] == "unknown"
    finally:
        (serving / POINTER).write_text(was.name)


def test_the_own_listener_closes_a_kept_alive_connection_now_and_then() -> None:
    """Each connection is closed after about KEEPALIVE_REQUESTS requests (half to one and a half
    times), its callers' next connection going to whichever worker accepts it first."""
    import asyncio

    from api.server import _Rebalanced

    async def answer(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    app = _Rebalanced(answer, limit=10)

    async def closes_after(port: int) -> int:
        starts: list[dict] = []

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                starts.append(message)

        for n in range(1, 100):
            await app({"type": "http", "client": ("127.0.0.1", port)}, None, send)
            if (b"connection", b"close") in starts[-1]["headers"]:
                return n
        return 0

    async def run() -> list[int]:
        return [await closes_after(port) for port in range(40000, 40040)]

    counts = asyncio.run(run())
    assert all(5 <= n <= 15 for n in counts), counts
    assert len(set(counts)) > 1  # drawn per connection, not all closed together
