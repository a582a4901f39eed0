"""The platform's own settings that people change while it runs: ``<home>/settings.json``.

Today one: the time of day the daily refresh's schedule fires (``daily_refresh_at``,
"HH:MM", in the schedule's time zone), changed by an analyst on the cockpit's console.
The Dagster code location reads it when it loads (``pipelines/jobs.py``); the cockpit
writes it and asks Dagster to reload the code location, so the new time holds at once and
after any restart. A missing or unreadable file means the defaults."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

FILE = "settings.json"
DEFAULTS = {"daily_refresh_at": "06:30"}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def load(root: Path) -> dict:
    """The settings of the data directory ``root``, defaults filled in."""
    try:
        saved = json.loads((root / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    out = dict(DEFAULTS)
    if isinstance(saved, dict) and valid_time(saved.get("daily_refresh_at")):
        out["daily_refresh_at"] = saved["daily_refresh_at"]
    return out


def valid_time(value) -> bool:
    return isinstance(value, str) and bool(_TIME.match(value))


def set_daily_refresh_at(root: Path, at: str) -> None:
    """Save the daily refresh's time ("HH:MM"); written whole or not at all."""
    if not valid_time(at):
        raise ValueError(f"not a time of day (HH:MM): {at!r}")
    settings = {**load(root), "daily_refresh_at": at}
    tmp = root / f".{FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    tmp.replace(root / FILE)


def daily_cron(root: Path) -> str:
    """The daily refresh's cron, from the saved time."""
    hours, minutes = load(root)["daily_refresh_at"].split(":")
    return f"{int(minutes)} {int(hours)} * * *"
