"""The broker client: NATS JetStream, and the only module that knows it.

Everything else speaks in ``Message`` (stream sequence, body, broker time) and the four
calls below, so a city on Kafka replaces this module alone (docs/scaling.md): a partition
offset plays the stream sequence, the record key the ``Nats-Msg-Id``, and a producer with
idempotence the duplicate window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as FetchTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)
# CONTRACT §6: the hotline stream.
HOTLINE_STREAM = "CITYBRAIN_HOTLINE"
HOTLINE_SUBJECT = "citybrain.hotline.events"
DEFAULT_URL = "nats://127.0.0.1:4222"
# How long the broker remembers a Nats-Msg-Id to drop a republished event (publisher retries).
DUPLICATE_WINDOW_S = 2 * 3600
# Redelivery of a fetched but unacknowledged batch: longer than a batch gathers (the
# listener's linger) and is landed.
ACK_WAIT_S = 180


@dataclass(frozen=True)
class Message:
    """One event as the broker delivered it."""

    seq: int  # the stream's sequence number: dense, increasing, the consumer's position
    data: bytes
    at: dt.datetime  # when the broker stored it (UTC)


class Broker:
    """A connection to JetStream."""

    def __init__(self, nc: nats.NATS) -> None:
        self._nc = nc
        self._js = nc.jetstream()

    async def close(self) -> None:
        """Disconnect (every publish and acknowledgement was already confirmed; draining
        would wait on the pull subscription's open fetch)."""
        await self._nc.close()

    async def ensure_stream(self, stream: str, subject: str) -> None:
        """Create the stream when absent: durable (file storage), with a duplicate window so
        that an event published twice under one id is stored once."""
        try:
            await self._js.stream_info(stream)
        except NotFoundError:
            await self._js.add_stream(StreamConfig(
                name=stream, subjects=[subject], storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S))

    async def publish(self, subject: str, data: bytes, msg_id: str | None) -> bool:
        """Publish and wait for the broker's acknowledgement; False when it was a duplicate of ``msg_id``."""
        ack = await self._js.publish(subject, data, headers={"Nats-Msg-Id": msg_id} if msg_id else None)
        return not ack.duplicate

    async def batches(self, stream: str, subject: str, durable: str, start_seq: int,
                      size: int = 500, wait_s: float = 1.0) -> AsyncIterator[tuple[list[Message], object]]:
        """Batches of messages from ``start_seq`` on, in stream order, each with a handle to ``ack``.

        The durable consumer is made afresh at ``start_seq`` each time: the position lives
        with the data (the landing zone), not in the broker, so what was landed and what is
        consumed cannot disagree (the sink keeps its offsets, as Kafka Connect's do)."""
        try:
            await self._js.delete_consumer(stream, durable)
        except NotFoundError:
            pass
        await self._js.add_consumer(stream, ConsumerConfig(
            durable_name=durable, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, start_seq),
            ack_policy=AckPolicy.ALL, ack_wait=ACK_WAIT_S, filter_subject=subject, max_ack_pending=-1))
        sub = await self._js.pull_subscribe_bind(durable, stream)
        while True:
            try:
                msgs = await sub.fetch(size, timeout=wait_s)
            except (FetchTimeout, TimeoutError):  # nats-py raises either when nothing came
                yield [], None
                continue
            except (NatsError, OSError) as e:  # the broker away (restarting): wait for the client's reconnection
                log.warning("nats: fetch failed (%s); trying again", e)
                await asyncio.sleep(1.0)
                yield [], None
                continue
            if not msgs:  # a fetch can also end empty without raising
                yield [], None
                continue
            yield [Message(m.metadata.sequence.stream, m.data, m.metadata.timestamp) for m in msgs], msgs[-1]

    @staticmethod
    async def ack(handle: object) -> None:
        """Acknowledge a batch (everything up to its last message)."""
        if handle is None:
            return
        try:
            await handle.ack_sync()  # type: ignore[attr-defined]
        except (NatsError, OSError, TimeoutError) as e:
            # The files are in place, so nothing is lost: the broker sends these again after
            # its ack wait, and the listener skips them as landed.
            log.warning("nats: acknowledgement failed (%s); the batch will be skipped when sent again", e)


async def _quiet(e: Exception) -> None:
    """nats-py's default prints a traceback per failed attempt: one line in the log instead."""
    log.warning("nats: %s", e)


async def _silent(e: Exception) -> None:
    """The first attempt's failure is said once, by the ConnectionError."""


async def connect(url: str = DEFAULT_URL, timeout_s: float = 2.0) -> Broker:
    """Connect to the broker at ``url``; ConnectionError when it cannot be reached now.

    Once connected the client reconnects for ever (a broker restart is waited out, the
    stream being durable); the first connection is tried once, so a wrong URL is said at once."""
    try:
        probe = await nats.connect(url, connect_timeout=timeout_s, allow_reconnect=False, max_reconnect_attempts=1,
                                    reconnect_time_wait=0.2, error_cb=_silent)
        await probe.close()
        nc = await nats.connect(url, connect_timeout=timeout_s, max_reconnect_attempts=-1, error_cb=_quiet)
    except Exception as e:  # nats raises its own errors and OSError for an unreachable server
        raise ConnectionError(f"no NATS server answers at {url} ({e or type(e).__name__})") from None
    return Broker(nc)
