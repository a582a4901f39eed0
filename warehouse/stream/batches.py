"""Stream batches as deliveries in the landing zone.

A fetched batch becomes one JSONL file per business date under
``landing/hotline/service_requests/<date>/stream-<first>-<last>-<i>of<n>.jsonl``: the
stream-sequence range of the batch and which of its ``n`` date parts this is. Each file is
written whole to a hidden temporary name, fsynced and renamed, so a file in the landing zone
is a whole part. The names alone say what has landed: a sequence ``s`` of business date ``d``
is landed when a range holding ``s`` is complete (all ``n`` parts present) or has the part of
``d``. A listener killed between parts, or between the last rename and its acknowledgement,
starts again at the first sequence not landed and skips what is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.contract.feeds import Feed
from warehouse.ingest.landing import STREAM_BATCH
from warehouse.stream.broker import Message


@dataclass
class Landed:
    """What the landing zone already holds of a stream: ranges -> (parts expected, dates present)."""

    ranges: dict[tuple[int, int], tuple[int, set[dt.date]]] = field(default_factory=dict)
    top: int = 0  # the highest sequence any range reaches: past it nothing is landed (the live case, checked first)

    def holds(self, seq: int, day: dt.date) -> bool:
        """Whether the event at ``seq`` of business date ``day`` is already in a landed file."""
        return seq <= self.top and any(a <= seq <= b and (len(days) == n or day in days) for (a, b), (n, days) in self.ranges.items())

    def start(self) -> int:
        """The first sequence to read: after every complete range, or at an incomplete range
        past them (its missing parts are read again; its present ones are skipped)."""
        complete = [b for (a, b), (n, days) in self.ranges.items() if len(days) == n]
        after = max(complete, default=0) + 1
        partial = [a for (a, b), (n, days) in self.ranges.items() if len(days) < n and b >= after]
        return min([after, *partial])

    def add(self, first: int, last: int, n: int, day: dt.date) -> None:
        self.ranges.setdefault((first, last), (n, set()))[1].add(day)
        self.top = max(self.top, last)


def landed(folder: Path) -> Landed:
    """Read the stream's files under a feed's landing folder (``landing/<dept>/<feed>``)."""
    out = Landed()
    if not folder.is_dir():
        return out
    for day_dir in folder.iterdir():
        try:
            day = dt.date.fromisoformat(day_dir.name)
        except ValueError:
            continue
        for f in day_dir.glob("stream-*.jsonl"):
            m = STREAM_BATCH.fullmatch(f.name)
            if m:
                out.add(int(m[1]), int(m[2]), int(m[4]), day)
    return out


def business_date(event: object, msg: Message) -> dt.date:
    """The business date of an event: the date of its ``event_time`` (local time, as the
    contract's timestamps are), else (an unreadable event) the local date the broker stored it."""
    if isinstance(event, dict) and isinstance(event.get("event_time"), str):
        try:
            return dt.datetime.fromisoformat(event["event_time"].strip()).date()
        except ValueError:
            pass
    return msg.at.astimezone().date()


def line_of(msg: Message, feed: Feed) -> tuple[str, object]:
    """The JSONL line of a message and the event it holds (None when it is not a JSON object).

    An object gets every contract column (an absent one as null, so a missing field is the
    row's ``missing_value``, as an empty CSV cell is, not the whole file's ``missing_column``),
    keeps its extra keys (schema drift) and is written on one line. Anything else is written
    as its text on one line (line breaks escaped), so ingest quarantines it as ``malformed_row``
    with the text the publisher sent."""
    text = msg.data.decode("utf-8", errors="replace")
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if isinstance(event, dict):
        full = {c: event.get(c) for c in feed.column_names} | event
        return json.dumps(full, ensure_ascii=False, separators=(",", ":")), event
    one_line = text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
    # A body that is valid JSON but not an object (a list, a number) stays visibly not one.
    return (one_line if one_line.strip() else '""'), None


def write_batch(folder: Path, feed: Feed, msgs: list[Message], known: Landed) -> list[Path]:
    """Land ``msgs`` (one fetched batch, in stream order) as one file per business date,
    leaving out what ``known`` says is landed; record the new files in ``known``. Returns them."""
    if not msgs:
        return []
    first, last = msgs[0].seq, msgs[-1].seq
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for m in msgs:
        line, event = line_of(m, feed)
        day = business_date(event, m)
        lines = by_day[day]  # parts count every date of the batch, landed or not: a range read again names its parts alike
        if not known.holds(m.seq, day):
            lines.append(line)
    written = []
    n = len(by_day)
    for i, day in enumerate(sorted(by_day), start=1):
        if not by_day[day]:
            continue
        target = folder / day.isoformat() / f"stream-{first:012d}-{last:012d}-{i}of{n}.jsonl"
        _atomic_write(target, ("\n".join(by_day[day]) + "\n").encode("utf-8"))
        known.add(first, last, n, day)
        written.append(target)
    return written


def _atomic_write(target: Path, data: bytes) -> None:
    """Write ``target`` whole or not at all: a hidden temporary file (the landing scan ignores
    it), fsync, rename, fsync of the folder so the rename survives a power cut."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
