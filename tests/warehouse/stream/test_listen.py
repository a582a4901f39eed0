"""The hotline stream through a real JetStream server into the warehouse, exactly once (issue #33).

Skipped when no NATS server answers at nats://127.0.0.1:4222. Each test uses a stream and
subject of its own, so runs do not see each other's events.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect
from warehouse.stream import broker as brokers

URL = "nats://127.0.0.1:4222"
ROOT = Path(__file__).resolve().parents[3]


def _nats_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _nats_up(), reason="no NATS server at 127.0.0.1:4222")


def _event(i: int, day: str = "2026-12-01", **over: object) -> dict:
    return {"event_id": f"T{i:06d}", "ticket_no": f"12345-T-{i:06d}", "event_type": "create",
            "event_time": f"{day} {8 + i % 10:02d}:{i % 60:02d}:00", "district_code": "330106",
            "category": "traffic", "channel": "phone", "handler": None, "due_at": None,
            "satisfaction": None, "caller_id_number": None} | over


def _messages() -> tuple[list[tuple[bytes, str | None]], set[str], int]:
    """What the test publishes: (body, message id) in order, the valid event ids, the malformed count.

    Valid events on two days, out of time order; every tenth published twice under its id
    (the broker's duplicate window keeps one); five malformed: broken JSON, a list, a number
    where a time belongs, a rating that is no number, an object without an event id."""
    valid = [_event(i, "2026-12-01" if i % 3 else "2026-12-02") for i in range(120)]
    valid.reverse()  # out of order: later events first
    out: list[tuple[bytes, str | None]] = []
    for i, e in enumerate(valid):
        out.append((json.dumps(e).encode(), e["event_id"]))
        if i % 10 == 0:
            out.append((json.dumps(e).encode(), e["event_id"]))  # the publisher's retry
        if i % 25 == 5:
            bad = [b'{"event_id": "B1", "event_time": ', b"[1, 2]",
                   json.dumps(_event(900, event_time=12345, event_id="B3")).encode(),
                   json.dumps(_event(901, event_type="rate", satisfaction="seven", event_id="B4")).encode(),
                   json.dumps({k: v for k, v in _event(902).items() if k != "event_id"}).encode()][i // 25]
            out.append((bad, f"bad-{i}"))
    return out, {e["event_id"] for e in valid}, 5


async def _publish(stream: str, subject: str, msgs: list[tuple[bytes, str | None]]) -> int:
    b = await brokers.connect(URL)
    try:
        await b.ensure_stream(stream, subject)
        return sum([await b.publish(subject, body, mid) for body, mid in msgs])
    finally:
        await b.close()


async def _drop(stream: str) -> None:
    import nats

    nc = await nats.connect(URL)
    try:
        await nc.jetstream().delete_stream(stream)
    except Exception:
        pass
    await nc.drain()


# The listener in a process of its own; CRASH names where it kills itself with SIGKILL the
# first time there: after the first part of a batch of two dates is renamed ("part"), or
# after a batch's files are in place and before its acknowledgement ("ack").
LISTENER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from warehouse.storage.home import Home
    from warehouse.stream import batches, broker, listen
    home, stream, subject, crash, flag, batch, url = sys.argv[1:8]
    def die():
        if not os.path.exists(flag):
            open(flag, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    if crash == "ack":
        real_ack = broker.Broker.ack
        async def ack(handle):
            die()
            await real_ack(handle)
        broker.Broker.ack = staticmethod(ack)
    if crash == "part":
        real_write = batches._atomic_write
        def write(target, data):
            real_write(target, data)
            if target.name.startswith("stream-") and "-1of2" in target.name:
                die()
        batches._atomic_write = write
    asyncio.run(listen.listen(Home(__import__("pathlib").Path(home)), url, stream=stream, subject=subject,
                              durable="t-" + stream, batch=int(batch), linger_s=0.5))
""")


def _listener(home: Path, stream: str, subject: str, crash: str, flag: Path, batch: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LISTENER, str(home), stream, subject, crash, str(flag), str(batch), URL],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _landed_events(home: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (home / "landing").rglob("stream-*.jsonl"))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("crash", ["ack", "part"])
def test_killed_listener_lands_every_event_once(tmp_path: Path, crash: str) -> None:
    stream, subject = f"T_{uuid.uuid4().hex[:10]}", f"test.{uuid.uuid4().hex[:10]}.events"
    home = tmp_path / "h"
    msgs, valid, n_bad = _messages()
    try:
        stored = asyncio.run(_publish(stream, subject, msgs))
        assert stored == len(valid) + n_bad  # the republished ones were dropped by the broker
        flag = tmp_path / "crashed"
        proc = _listener(home, stream, subject, crash, flag, batch=16)
        assert proc.wait(timeout=60) == -signal.SIGKILL and flag.exists()  # died where planted
        # Killed from outside too, at whatever it is doing, then left to finish.
        proc = _listener(home, stream, subject, "", flag, batch=7)
        time.sleep(1.5)
        proc.kill()
        proc.wait()
        proc = _listener(home, stream, subject, "", flag, batch=7)
        deadline = time.monotonic() + 60
        while _landed_events(home) < stored and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(3)  # past its start (imports, connecting), where SIGTERM is its signal to stop
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0  # SIGTERM stops it cleanly
    finally:
        asyncio.run(_drop(stream))
    assert _landed_events(home) == stored  # nothing landed twice, nothing lost

    con = connect(home / "warehouse.duckdb")
    outs = ingest_landing(con, home / "landing", home / "tmp")
    # No file rejected whole: a part holding only bad events is "rejected" row by row.
    whole = con.execute("SELECT path, error FROM ingest.deliveries WHERE rows_read > rows_accepted + rows_rejected "
                        "OR (status = 'rejected' AND rows_rejected = 0)").fetchall()
    assert not whole and outs
    ids = [r[0] for r in con.execute("SELECT event_id FROM staging.service_requests").fetchall()]
    assert sorted(ids) == sorted(valid)  # each valid event exactly once
    reasons = con.execute(
        """SELECT r.reason, r.column_name FROM ingest.rejections r JOIN ingest.deliveries d USING (delivery_id)
           WHERE d.department = 'hotline' ORDER BY ALL""").fetchall()
    assert reasons == [("bad_date", "event_time"), ("bad_number", "satisfaction"), ("malformed_row", None),
                       ("malformed_row", None), ("missing_value", "event_id")]
    assert len(con.execute("SELECT DISTINCT delivery_id, line_number FROM ingest.rejections").fetchall()) == n_bad
    assert con.execute("SELECT count(*) FROM ingest.rejected_rows").fetchone()[0] == n_bad
    raw = [r[0] for r in con.execute("SELECT raw FROM ingest.rejected_rows").fetchall()]
    assert any('"event_id": "B1"' in r for r in raw)  # the publisher's broken text, kept
    con.close()
