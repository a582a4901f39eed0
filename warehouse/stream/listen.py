"""``citybrain listen``: the hotline stream into the landing zone, exactly once.

One listener per data directory (a lock file says so). It fetches a batch, writes it as
delivery files (``warehouse.stream.batches``), and acknowledges only once they are renamed
into place; on start it reads from the landing zone where it stands. The warehouse itself is
written only by the refresh, which ingests these files as any delivery (the one-writer rule).
"""

from __future__ import annotations

import asyncio
import fcntl
import signal
import time
from collections.abc import Callable
from pathlib import Path

from warehouse.contract.feeds import feed
from warehouse.storage.home import Home
from warehouse.stream import broker as brokers
from warehouse.stream.batches import landed, write_batch

HOTLINE = feed("hotline", "service_requests")
DURABLE = "citybrain-listen"
# How long a batch gathers events before it is landed (and so how many files a day makes:
# 2,880 at most with 30 s).
LINGER_S = 30.0


class AlreadyListening(RuntimeError):
    """Another listener holds this data directory."""


async def listen(home: Home, url: str = brokers.DEFAULT_URL, *, stream: str = brokers.HOTLINE_STREAM,
                 subject: str = brokers.HOTLINE_SUBJECT, durable: str = DURABLE, batch: int = 5000,
                 linger_s: float = LINGER_S, stop: asyncio.Event | None = None,
                 on_batch: Callable[[int, list[Path]], None] | None = None) -> int:
    """Land the stream until ``stop`` is set (SIGTERM or SIGINT when None); the number of events landed.

    A batch is what arrived within ``linger_s`` of its first event, up to ``batch`` events: the
    files only need to be there by the next refresh (the live figures read the stream, not
    the warehouse), and fewer, larger files ingest faster. A stop lands the batch in hand."""
    assert HOTLINE is not None
    lock = _lock(home.root / f".listen-{stream}.lock")
    try:
        folder = home.landing / HOTLINE.department / HOTLINE.name
        known = landed(folder)
        broker = await brokers.connect(url)
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
        total = 0
        try:
            await broker.ensure_stream(stream, subject)
            batches = broker.batches(stream, subject, durable, known.start(), size=min(batch, 500),
                                     wait_s=min(1.0, linger_s) or 0.1)
            held: list = []
            handle = None
            since = 0.0
            while True:
                stopping = stop.is_set()
                if not stopping:
                    msgs, h = await anext(batches)
                    if msgs:
                        since = since if held else time.monotonic()
                        held, handle = held + msgs, h
                if held and (stopping or len(held) >= batch or time.monotonic() - since >= linger_s):
                    written = write_batch(folder, HOTLINE, held, known)
                    await broker.ack(handle)  # only now: the files are in place
                    total += len(held)
                    if on_batch:
                        on_batch(held[-1].seq, written)
                    held, handle = [], None
                if stopping:
                    break
        finally:
            await broker.close()
        return total
    finally:
        lock.close()


def _lock(path: Path):
    """Hold an exclusive lock on ``path`` for the listener's life (released by the OS if it dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise AlreadyListening(f"another listener already lands this stream into {path.parent}") from None
    return fh
