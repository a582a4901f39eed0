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
from collections.abc import Callable
from pathlib import Path

from warehouse.contract.feeds import feed
from warehouse.storage.home import Home
from warehouse.stream import broker as brokers
from warehouse.stream.batches import landed, write_batch

HOTLINE = feed("hotline", "service_requests")
DURABLE = "citybrain-listen"


class AlreadyListening(RuntimeError):
    """Another listener holds this data directory."""


async def listen(home: Home, url: str = brokers.DEFAULT_URL, *, stream: str = brokers.HOTLINE_STREAM,
                 subject: str = brokers.HOTLINE_SUBJECT, durable: str = DURABLE, batch: int = 500,
                 stop: asyncio.Event | None = None, on_batch: Callable[[int, list[Path]], None] | None = None) -> int:
    """Land the stream until ``stop`` is set (SIGTERM or SIGINT when None); the number of events landed."""
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
            batches = broker.batches(stream, subject, durable, known.start(), size=batch)
            while not stop.is_set():
                msgs, handle = await anext(batches)
                if not msgs:
                    continue
                written = write_batch(folder, HOTLINE, msgs, known)
                await broker.ack(handle)  # only now: the files are in place
                total += len(msgs)
                if on_batch:
                    on_batch(msgs[-1].seq, written)
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
