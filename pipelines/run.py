"""Run the daily job in this process (``citybrain refresh``), recorded in the Dagster instance."""

import os
import shutil
import socket
from pathlib import Path

import dagster as dg

from warehouse.settings import settings
from warehouse.storage.home import Home

_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def ensure_dagster_home(home: Home) -> Path:
    """The ``DAGSTER_HOME`` setting (default ``<home>/dagster``), with the project's instance
    settings. Dagster's own processes read the variable themselves: ``citybrain serve`` passes
    this folder to them (``warehouse.settings.child_environment``)."""
    dh = (settings().dagster_home or home.root / "dagster").resolve()
    dh.mkdir(parents=True, exist_ok=True)
    if not (dh / "dagster.yaml").exists():
        shutil.copy(_TEMPLATE, dh / "dagster.yaml")
    return dh


_UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _owner_tags() -> dict[str, str]:
    """Which process runs an in-process run, so a later refresh can tell if it died."""
    return {"citybrain/host": socket.gethostname(), "citybrain/pid": str(os.getpid())}


def alive(pid: int, *, group: bool = False) -> bool:
    """Whether process ``pid`` (or, with ``group``, any process of group ``pid``) still runs."""
    try:
        (os.killpg if group else os.kill)(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs an earlier ``citybrain refresh`` on this machine started and never ended because
    its process died (kill -9, power cut): mark them failed and free their ``warehouse``
    pool slots, which would otherwise block every later run. Returns their run ids.
    (Runs launched by the daemon are watched by Dagster's run monitoring instead.)"""
    host = socket.gethostname()
    recovered = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED, tags={"citybrain/host": host})):
        pid = int(run.tags.get("citybrain/pid", "0") or 0)
        if pid and pid != os.getpid() and alive(pid):
            continue
        instance.report_run_failed(run, f"the refresh process (pid {pid}) died before the run ended; freed its slots")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered


def run_daily_job(home: Home, as_of: str = "", instance: dg.DagsterInstance | None = None,
                  log_level: str = "WARNING") -> dg.ExecuteInProcessResult:
    """Execute ``daily_refresh`` over whatever the landing zone holds now, then
    ``indicators_refresh`` over the days it marked dirty (what the run-status sensor does
    when the daemon runs). Returns the last run's result (the first one's if it failed).
    ``log_level`` is the console's (every event is recorded in the instance regardless)."""
    from pipelines.definitions import defs
    from pipelines.jobs import DAILY_JOB, INDICATOR_JOB, next_indicator_run

    if instance is None:
        instance = dg.DagsterInstance.from_config(str(ensure_dagster_home(home)))
    recover_abandoned_runs(instance)
    run_config = {
        "resources": {"warehouse": {"config": {"home": str(home.root), "as_of": as_of}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    first = defs.resolve_job_def(DAILY_JOB).execute_in_process(
        instance=instance, run_config=run_config, tags={"citybrain/trigger": "cli", **_owner_tags()}, raise_on_error=False
    )
    if not first.success:
        return first
    days = next_indicator_run(instance)  # as the run-status sensor decides under the daemon
    if days is None:
        return first
    return defs.resolve_job_def(INDICATOR_JOB).execute_in_process(
        instance=instance, run_config=run_config, tags={"citybrain/trigger": "cli", **_owner_tags(), **days}, raise_on_error=False,
    )


def failure_reason(error) -> str:
    """The message an operator needs from a step failure: the platform's own explanation
    (a :class:`~warehouse.storage.faults.PlatformFault`) if one is in the chain, else the root cause,
    rather than Dagster's wrapper ("Exceeded max_retries", "Error occurred while executing")."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    if not chain:
        return "unknown error"
    from warehouse.storage.faults import PlatformFault

    own = {PlatformFault.__name__, *(c.__name__ for c in PlatformFault.__subclasses__())}
    ours = [e for e in chain if e.cls_name in own]
    chosen = ours[0] if ours else chain[-1]
    message = chosen.message.strip()
    prefix = f"{chosen.cls_name}: "
    return message.split(prefix, 1)[1] if prefix in message else message


def daily_refresh_job() -> dg.JobDefinition:
    """The daily job, resolved: what ``dg.reconstructable`` needs to run it on other processes
    or machines (Celery workers rebuild it from this function)."""
    from pipelines.definitions import defs
    from pipelines.jobs import DAILY_JOB

    return defs.resolve_job_def(DAILY_JOB)
