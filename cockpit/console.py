"""The analyst's console in words: who launched a run, how long it took, when a schedule
fires, what a backfill will recompute; and the audit-log entries of every console action.

Pure helpers for ``cockpit/pages/runs.py``: they read Dagster's answers (``dagster_api``)
and the operational store, and render in the reader's language."""

from __future__ import annotations

import datetime as dt

from cockpit import dagster_api
from cockpit.context import ctx
from cockpit.i18n import N_, _, label, ngettext, pgettext, time_text
from cockpit.roles import Principal

# Audit-log actions per console action (labels.CONSOLE_ACTIONS, each once); the entry's
# purpose names the target ("run <id>").
ACTIONS = {"refresh": "run_launch", "reexecute": "run_reexecute", "cancel": "run_cancel", "backfill": "backfill_launch",
           "backfill_cancel": "backfill_cancel", "on": "instigator_on", "off": "instigator_off", "schedule_time": "schedule_time"}


def record(who: Principal, action: str, target: str) -> None:
    """Write a console action to the audit log: who, when (the log's clock), what it touched."""
    ctx().store.log_access(who.username, who.role, ACTIONS[action], delivery_id=None, rows=0, id_numbers=[], purpose=target)


def when(ts: float | None) -> str:
    """A moment Dagster gives in seconds since the epoch, to the second as the cockpit shows times."""
    return time_text(dt.datetime.fromtimestamp(ts) if ts else None, seconds=True)


def duration(start: float | None, end: float | None) -> str:
    """A duration in words ('1 分 05 秒' / '1 min 05 s'); up to now while still running."""
    if not start:
        return ""
    seconds = int(round((end or dt.datetime.now().timestamp()) - start))
    minutes, seconds = divmod(max(seconds, 0), 60)
    if not minutes:
        return _("{seconds} s").format(seconds=seconds)
    return _("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=seconds)


def launchers(runs: list[dagster_api.Run]) -> dict[str, str]:
    """Who started each run, by run id: the signed-in analyst from the audit log (a backfill's
    runs: whoever launched the backfill), else the schedule or sensor that did, else a plain
    word. A ``launched_by`` tag is never believed: anyone who can launch can write one."""
    targets = [f"run {r.run_id}" for r in runs] + [f"backfill {r.tags['dagster/backfill']}" for r in runs
                                                      if "dagster/backfill" in r.tags]
    known = ctx().store.launched_by(targets)
    out = {}
    for r in runs:
        by = known.get(f"run {r.run_id}") or known.get(f"backfill {r.tags.get('dagster/backfill')}")
        if by:
            out[r.run_id] = by
        elif "dagster/schedule_name" in r.tags:
            out[r.run_id] = label("instigator", r.tags["dagster/schedule_name"])
        elif "dagster/sensor_name" in r.tags:
            out[r.run_id] = label("instigator", r.tags["dagster/sensor_name"])
        elif "dagster/retry_number" in r.tags:
            out[r.run_id] = _("Automatic retry")
        else:
            out[r.run_id] = _("Command line or Dagster")
    return out


def backfill_launchers(backfills: list[dagster_api.Backfill]) -> dict[str, str]:
    """Who launched each backfill, by id, from the audit log ('' when not from the cockpit)."""
    known = ctx().store.launched_by(f"backfill {b.backfill_id}" for b in backfills)
    return {b.backfill_id: known.get(f"backfill {b.backfill_id}", "") for b in backfills}


def cron_in_words(cron: str | None, timezone: str | None) -> str:
    """'每天 06:30（北京时间）' / 'daily at 06:30 (China Standard Time (UTC+8))' for a daily cron;
    other crons as written (the platform has only daily schedules)."""
    zone = label("timezone", timezone) if timezone else ""
    parts = (cron or "").split()
    if len(parts) == 5 and parts[2:] == ["*", "*", "*"] and parts[0].isdigit() and parts[1].isdigit():
        at = f"{int(parts[1]):02d}:{int(parts[0]):02d}"
        return _("daily at {at} ({zone})").format(at=at, zone=zone)
    return cron or ""


def every(seconds: int | None) -> str:
    return _("checks every {seconds} s").format(seconds=seconds) if seconds else ""


def backfill_preview(first: str, last: str) -> str:
    """What a backfill of first..last will recompute, before it is launched."""
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    return _("Will recompute every indicator from {first} to {last} (days: {days}), then rescore the city, re-evaluate "
             "the alerts, export open data and publish a new snapshot.").format(first=first, last=last, days=days)


# Failures the platform knows, by a phrase of their message: what happened and what to do
# (the message itself stays in the details, for whoever fixes it).
KNOWN_FAILURES: tuple[tuple[str, str], ...] = (
    ("a fault planted for testing",
     N_("a fault planted for testing stopped this step: remove the fault file and re-execute from the failure")),
    ("is full", N_("the disk holding the warehouse is full; the warehouse is unchanged: free space and re-execute")),
    ("Could not set lock", N_("the warehouse was locked by another process: re-execute from the failure shortly")),
    ("cannot be read", N_("files or folders in the landing zone cannot be read: check their permissions and re-execute")),
)


def plain_error(message: str) -> str:
    """Why a step failed, in the reader's words: a known failure's sentence, else the error's
    own message (without Python's class path) in English and a pointer to the details in Chinese."""
    for phrase, words in KNOWN_FAILURES:
        if phrase in message:
            return _(words)
    head, sep, rest = message.partition(": ")
    # The error's own words are English: the Chinese leaves them out and points to them.
    return _("{error} (more in the details below)").format(error=rest if sep and "." in head and " " not in head else message)


# Worst first: a stage is as late as its latest asset.
_VERDICT_ORDER = ("DEGRADED", "WARNING", "UNKNOWN", "HEALTHY", "NOT_APPLICABLE")


def _stage(asset: dagster_api.Freshness) -> tuple[int, str] | None:
    """(order, stage) of an asset: each feed's ingest on its own, then the libraries,
    indicators, forecasts and publishing; None for what no stage shows (unrecognised files)."""
    if asset.key[0] == "staging" and len(asset.key) == 3:
        return 0, f"{asset.key[1]}/{asset.key[2]}"
    if asset.group == "libraries":
        return 1, "libraries"
    if asset.key == ("marts", "forecasts"):
        return 3, "forecasts"
    if asset.group == "marts":
        return 2, "indicators"
    if asset.group == "serving":
        return 4, "publish"
    return None


def freshness_rows(assets: list[dagster_api.Freshness]) -> list[dict]:
    """The console's freshness table: per feed and stage, when it was last brought up to date
    (its stalest asset's last materialization) and Dagster's verdict against the daily policy."""
    stages: dict[tuple[int, str], list[dagster_api.Freshness]] = {}
    for a in assets:
        if (key := _stage(a)) is not None:
            stages.setdefault(key, []).append(a)
    rows = []
    for (order, stage), members in sorted(stages.items(), key=lambda kv: (kv[0][0], label("feed", kv[0][1]) if kv[0][0] == 0 else "")):
        lasts = [m.last for m in members]
        verdicts = [m.status for m in members if m.status]
        worst = min(verdicts, key=lambda v: _VERDICT_ORDER.index(v) if v in _VERDICT_ORDER else len(_VERDICT_ORDER)) if verdicts else None
        rows.append({"stage": label("feed", stage) if order == 0 else label("stage", stage),
                     "last_materialized": when(None if None in lasts else min(lasts)) or _("never"),
                     "verdict": label("freshness", worst) if worst else "—"})
    return rows


def tick_outcome(tick: dagster_api.Tick | None, runs: dict[str, dagster_api.Run]) -> str:
    """What the last tick did: the runs it requested (and, for the landing sensor, the feeds
    whose new or corrected deliveries it found), or why it skipped, in the reader's words."""
    if tick is None:
        return ""
    if tick.status == "SUCCESS":
        found = [f for r in tick.run_ids if r in runs for f in runs[r].tags.get("citybrain/feeds", "").split(",") if f]
        feeds = pgettext("list separator", ", ").join(label("feed", f) for f in found)
        what = _(": new deliveries of {feeds}").format(feeds=feeds) if found else ""
        count = len(tick.run_ids)
        return ngettext("{count} run requested", "{count} runs requested", count).format(count=count) + what
    if tick.status == "SKIPPED":
        return _("no new or corrected deliveries") if "deliver" in tick.note else label("tick_state", "SKIPPED")
    return label("tick_state", tick.status)
