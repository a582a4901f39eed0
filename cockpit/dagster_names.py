"""The names of City Brain's Dagster definitions as the cockpit needs them: the jobs and assets
it sends to Dagster, and what people call each job, step, schedule and sensor.

Read from the table derived from the definitions (``pipelines/names.json``, written by
``python -m pipelines.names``), so that no page needs the code location loaded and the
cockpit still imports nothing of Dagster.
"""

from __future__ import annotations

import json
from importlib import resources

_TABLE = json.loads(resources.files("pipelines").joinpath("names.json").read_text(encoding="utf-8"))

DAILY_JOB: str = _TABLE["daily_job"]
# The daily-partitioned asset an indicator backfill covers, then the assets of the indicators
# job after it, rerun once for the whole range.
PARTITIONED_ASSET: tuple[str, ...] = tuple(_TABLE["backfill"]["partitioned"])
AFTER_INDICATORS: tuple[tuple[str, ...], ...] = tuple(tuple(k) for k in _TABLE["backfill"]["after"])
KINDS = ("job", "step", "instigator")


def pair(kind: str, code: str) -> tuple[str, str] | None:
    """The (Chinese, English) name of a job, step (op) or instigator (schedule or sensor)."""
    found = _TABLE[kind].get(code)
    return tuple(found) if found else None
