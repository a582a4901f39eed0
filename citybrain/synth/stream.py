"""``citybrain stream``: the synthetic city's hotline as a live stream, with planted surges.

The events are the daily feed's (the same ``Hotline`` generator, columns and code lists),
ordered by ``event_time`` and published one by one at ``rate`` events per second. Surges
are planted on top: extra ``create`` events of one district and category inside a window,
written to ``<home>/truth/surges.json`` so a detector can be scored against them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import zlib
from pathlib import Path

import numpy as np

from citybrain.synth.hotline import Hotline
from citybrain.synth.world import SCALES
from warehouse.contract.city import load_city
from warehouse.contract.feeds import REQUEST_CATEGORIES, REQUEST_CHANNELS, feed
from warehouse.stream import broker as brokers

COLUMNS = feed("hotline", "service_requests").column_names  # type: ignore[union-attr]
SURGES_PER_DAY = 1
SURGE_MINUTES = (30, 120)
SURGE_EXTRA = (15, 40)


def events(days: list[dt.date], seed: int, scale: str = "small") -> tuple[list[dict], list[dict]]:
    """The events of ``days`` in time order (only steps that happen on those days) and the
    surges planted in them."""
    city = load_city()
    hotline = Hotline(city, SCALES[scale].residents, seed)
    rows: list[dict] = []

    def emit(_feed: str, _bdates: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        n = len(cols["event_id"])
        for i in range(n):
            rows.append({c: _plain(cols[c][i]) if c in cols else None for c in COLUMNS})

    for day in days:
        hotline.day(day, np.array([], dtype=str), emit)
    surges, extra = _plant(days, city.district_codes, seed)
    keep = {d.isoformat() for d in days}
    out = [r for r in rows + extra if r["event_time"][:10] in keep]
    out.sort(key=lambda r: (r["event_time"], r["event_id"]))
    return out, surges


def _plain(v: object) -> object:
    if v is None:
        return None
    return v.item() if isinstance(v, np.generic) else v


def _plant(days: list[dt.date], districts: list[str], seed: int) -> tuple[list[dict], list[dict]]:
    """Surges: a district and category, a window in the day, and extra requests spread over it."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}|surges".encode()))
    surges, rows = [], []
    for day in days:
        for k in range(SURGES_PER_DAY):
            district = str(rng.choice(districts))
            category = str(rng.choice(list(REQUEST_CATEGORIES)))
            start = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=int(rng.integers(0, 10 * 60)))
            end = start + dt.timedelta(minutes=int(rng.integers(*SURGE_MINUTES)))
            n = int(rng.integers(*SURGE_EXTRA))
            offsets = np.sort(rng.uniform(0, (end - start).total_seconds(), n))
            for j, off in enumerate(offsets):
                at = start + dt.timedelta(seconds=int(off))
                rows.append({c: None for c in COLUMNS} | {
                    "event_id": f"RS{day:%Y%m%d}{k:02d}{j:05d}", "ticket_no": f"12345-{day:%Y%m%d}-S{k:02d}{j:05d}",
                    "event_type": "create", "event_time": f"{at:%Y-%m-%d %H:%M:%S}", "district_code": district,
                    "category": category, "channel": str(rng.choice(list(REQUEST_CHANNELS)))})
            surges.append({"district": district, "category": category, "start": f"{start:%Y-%m-%d %H:%M:%S}",
                           "end": f"{end:%Y-%m-%d %H:%M:%S}", "extra": n})
    return surges, rows


async def publish(url: str, rows: list[dict], rate: float, *, stream: str = brokers.HOTLINE_STREAM,
                  subject: str = brokers.HOTLINE_SUBJECT) -> int:
    """Publish ``rows`` as JSON, each with its ``event_id`` as message id; the number stored (not duplicates)."""
    broker = await brokers.connect(url)
    stored = 0
    try:
        await broker.ensure_stream(stream, subject)
        t0 = time.monotonic()
        for i, row in enumerate(rows):
            if rate > 0 and (wait := t0 + i / rate - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            stored += await broker.publish(subject, json.dumps(row, ensure_ascii=False).encode(), row.get("event_id"))
    finally:
        await broker.close()
    return stored


def stream(home: Path, url: str, rate: float, days: int = 1, seed: int = 42, end: dt.date | None = None,
           scale: str = "small") -> dict:
    """Write the surges' truth, then publish ``days`` days ending ``end`` (default today). Returns a summary."""
    end = end or dt.date.today()
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    rows, surges = events(dates, seed, scale)
    truth = home / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    (truth / "surges.json").write_text(json.dumps(surges, ensure_ascii=False, indent=2), encoding="utf-8")
    stored = asyncio.run(publish(url, rows, rate))
    return {"events": len(rows), "stored": stored, "surges": len(surges), "start": dates[0].isoformat(), "end": end.isoformat()}
