"""Dagster's own GraphQL API, as the analyst's console (the pipeline-runs page) uses it: runs
with their steps and errors, launching the daily refresh, re-executing and cancelling runs,
backfilling indicators over a range of days, schedules and sensors.

Who launched what is not Dagster's to say (a tag is written by whoever launches): the
cockpit records it in its own audit log, keyed by the run or backfill id (``cockpit/console.py``).

Under ``scripts/up`` Dagster's webserver listens on a unix socket inside the data directory
(``<home>/run/dagster.sock``, see ``pipelines/webserver.py``): only City Brain's user can
open it, so only the cockpit, which signs its users in, reaches Dagster.
``CITYBRAIN_DAGSTER_SOCKET`` names another socket; ``CITYBRAIN_DAGSTER_URL`` a webserver on
TCP instead (a development setup: anyone who can reach that port can launch runs). When
nobody answers, every call raises :class:`DagsterUnavailable` with words fit for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from cockpit import context
from cockpit.cache import Key, cached
from cockpit.dagster_names import AFTER_INDICATORS, DAILY_JOB, PARTITIONED_ASSET

TIMEOUT_S = 5
RELOAD_TIMEOUT_S = 45  # reloading imports the pipelines again: seconds on a busy machine (under gunicorn's 60 s)
# The cockpit speaks to Dagster over HTTP only, never by importing the pipelines; the job and
# asset names it sends come from the table derived from the definitions (cockpit/dagster_names.py).


_RUN_FIELDS = "runId jobName status startTime endTime tags { key value }"


class DagsterUnavailable(Exception):
    """Dagster's webserver did not answer, or answered with an error."""


@dataclass(frozen=True)
class Run:
    run_id: str
    job: str
    status: str
    started: float | None
    ended: float | None
    tags: dict[str, str]


@dataclass(frozen=True)
class Step:
    key: str
    status: str | None  # SUCCESS, FAILURE, SKIPPED, IN_PROGRESS; None: not started
    started: float | None
    ended: float | None


@dataclass(frozen=True)
class Failure:
    step: str | None  # None: the run failed outside any step
    message: str
    traceback: str


@dataclass(frozen=True)
class RunDetail:
    run: Run
    steps: list[Step]  # in the order Dagster reports them
    planned: int  # steps the run will execute
    failures: list[Failure]
    can_cancel: bool
    parent_run_id: str | None


@dataclass(frozen=True)
class Tick:
    at: float
    status: str  # STARTED, SKIPPED, SUCCESS, FAILURE
    run_ids: list[str]
    note: str  # the skip reason or the error's message


@dataclass(frozen=True)
class Instigator:
    """A schedule or a sensor."""
    kind: str  # "schedule" or "sensor"
    name: str
    running: bool
    cron: str | None
    timezone: str | None
    interval_s: int | None
    next_tick: float | None
    ticks: list[Tick]
    state_id: str
    selector_id: str


@dataclass(frozen=True)
class Backfill:
    backfill_id: str
    status: str
    created: float
    ended: float | None
    targeted: int
    done: int
    failed: int
    in_progress: int
    tags: dict[str, str]
    cancelable: bool


def _endpoint() -> tuple[str, str | None]:
    """(base URL, unix socket or None): a TCP URL if one is configured, else the configured
    socket, else the data directory's (the settings the cockpit was started with)."""
    ctx = context.ctx()
    if ctx.settings.dagster_url:
        return ctx.settings.dagster_url.rstrip("/"), None
    socket = str(ctx.settings.dagster_socket or ctx.home.dagster_socket)
    return "http://dagster", socket


def base_url() -> str:
    """Where Dagster is expected, in words for the page (the socket's path when there is one)."""
    url, socket = _endpoint()
    return socket or url


def _call(query: str, variables: dict | None = None, timeout: float = TIMEOUT_S) -> dict:
    url, socket = _endpoint()
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=socket) if socket else None, timeout=timeout) as client:
            response = client.post(f"{url}/graphql", json={"query": query, "variables": variables or {}})
    except httpx.HTTPError as e:
        raise DagsterUnavailable(f"Dagster is not answering at {base_url()} ({type(e).__name__}); "
                                 "start the platform with scripts/up") from e
    if response.status_code != 200:
        raise DagsterUnavailable(f"Dagster at {base_url()} answered HTTP {response.status_code}")
    body = response.json()
    if body.get("errors"):
        raise DagsterUnavailable("Dagster refused the request: " + "; ".join(e.get("message", "?") for e in body["errors"]))
    return body["data"]


def _outcome(result: dict, success_field: str) -> str:
    if success_field in result:
        return result[success_field]
    raise DagsterUnavailable(f"Dagster refused: {result.get('message') or result.get('__typename')}")


def recent_runs(limit: int = 25) -> list[Run]:
    """The newest runs, newest first."""
    data = _call(
        """query Runs($limit: Int) { runsOrError(limit: $limit) { __typename
             ... on Runs { results { %s } }
             ... on Error { message } } }""".replace("%s", _RUN_FIELDS),
        {"limit": limit},
    )["runsOrError"]
    if data["__typename"] != "Runs":
        raise DagsterUnavailable(f"Dagster could not list runs: {data.get('message')}")
    return [_run(r) for r in data["results"]]


def _location_of(job: str) -> tuple[str, str]:
    """(code location, repository) that holds ``job``. Asked once per Dagster endpoint (kept in
    the cockpit's cache): the names do not change while it runs, and the console's every tick
    and action needs them."""
    return cached(Key("dagster location", _endpoint(), (job,)), lambda: _ask_location_of(job))


def _ask_location_of(job: str) -> tuple[str, str]:
    data = _call(
        """{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
             ... on Error { message } } }"""
    )["repositoriesOrError"]
    for repo in data.get("nodes", []):
        if any(j["name"] == job for j in repo["jobs"]):
            return repo["location"]["name"], repo["name"]
    raise DagsterUnavailable(f"no code location in Dagster has the job '{job}'")


def launch_refresh(launched_by: str) -> str:
    """Launch the daily refresh; its run id. (The indicators follow it, by sensor.)"""
    location, repository = _location_of(DAILY_JOB)
    result = _call(
        """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
             ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }""",
        {"params": {"selector": {"repositoryLocationName": location, "repositoryName": repository, "jobName": DAILY_JOB},
                    "runConfigData": {}, "executionMetadata": {"tags": [{"key": "citybrain/launched_by", "value": launched_by}]}}},
    )["launchRun"]
    return _outcome(result, "run")["runId"]


def launch_backfill(first: str, last: str, launched_by: str) -> str:
    """Backfill the indicators for the days first..last (YYYY-MM-DD), then rescore and republish; the backfill id."""
    assets = [{"assetKey": {"path": list(PARTITIONED_ASSET)}, "partitions": {"range": {"start": first, "end": last}}}] + [
        {"assetKey": {"path": list(key)}} for key in AFTER_INDICATORS]
    result = _call(
        """mutation Backfill($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) { __typename
             ... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }""",
        {"params": {"partitionsByAssets": assets, "title": f"indicators {first}..{last}",
                    "tags": [{"key": "citybrain/launched_by", "value": launched_by}]}},
    )["launchPartitionBackfill"]
    return _outcome(result, "backfillId")



def _run(r: dict) -> Run:
    return Run(r["runId"], r["jobName"], r["status"], r["startTime"], r["endTime"], {t["key"]: t["value"] for t in r["tags"]})


def _error_text(error: dict | None) -> tuple[str, str]:
    """(message, traceback) of a Dagster PythonError and its causes, innermost message last."""
    messages, stack = [], []
    while error:
        messages.append(error["message"].strip())
        stack.append("".join(error.get("stack") or []) + error["message"])
        error = error.get("cause")
    return (messages[-1] if messages else ""), "\n".join(stack)


def run_detail(run_id: str) -> RunDetail:
    """One run with its steps, failures (step, message, traceback) and whether it can be cancelled."""
    data = _call(
        """query Run($id: ID!) { runOrError(runId: $id) { __typename
             ... on Run { %s canTerminate parentRunId stepKeysToExecute
                          executionPlan { steps { key } }
                          stepStats { stepKey status startTime endTime }
                          eventConnection(limit: 5000) { events { __typename
                            ... on ExecutionStepFailureEvent { stepKey error { message stack cause { message stack cause { message stack } } } }
                            ... on RunFailureEvent { error { message stack cause { message stack } } } } } }
             ... on Error { message } } }""".replace("%s", _RUN_FIELDS),
        {"id": run_id},
    )["runOrError"]
    if data["__typename"] != "Run":
        raise DagsterUnavailable(f"Dagster has no run {run_id}: {data.get('message')}")
    failures = []
    for event in data["eventConnection"]["events"]:
        if event["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent") and event.get("error"):
            message, traceback = _error_text(event["error"])
            failures.append(Failure(event.get("stepKey"), message, traceback))
    planned = len(data["stepKeysToExecute"] or [s["key"] for s in (data["executionPlan"] or {}).get("steps", [])])
    steps = [Step(s["stepKey"], s["status"], s["startTime"], s["endTime"]) for s in data["stepStats"]]
    return RunDetail(_run(data), steps, max(planned, len(steps)), failures, data["canTerminate"], data["parentRunId"])


def reexecute(run_id: str, from_failure: bool) -> str:
    """Re-execute a finished run, from its failed steps or all of them; the new run's id."""
    result = _call(
        """mutation Reexecute($params: ReexecutionParams!) { launchRunReexecution(reexecutionParams: $params) { __typename
             ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }""",
        {"params": {"parentRunId": run_id, "strategy": "FROM_FAILURE" if from_failure else "ALL_STEPS"}},
    )["launchRunReexecution"]
    return _outcome(result, "run")["runId"]


def cancel_run(run_id: str) -> None:
    """Ask a queued or running run to stop (its current step is interrupted)."""
    result = _call(
        """mutation Cancel($id: String!) { terminateRun(runId: $id, terminatePolicy: SAFE_TERMINATE) { __typename
             ... on TerminateRunSuccess { run { runId } } ... on TerminateRunFailure { message } ... on Error { message } } }""",
        {"id": run_id},
    )["terminateRun"]
    _outcome(result, "run")


_TICKS = "ticks(limit: 5) { timestamp status runIds skipReason error { message } }"


def _ticks(state: dict) -> list[Tick]:
    return [Tick(k["timestamp"], k["status"], k["runIds"], k["skipReason"] or (k["error"] or {}).get("message") or "")
            for k in state["ticks"]]


def instigators() -> list[Instigator]:
    """Every schedule and sensor of the code location, with state, next tick and last ticks."""
    location, repository = _location_of(DAILY_JOB)
    selector = {"repositoryLocationName": location, "repositoryName": repository}
    data = _call(
        """query Instigators($repo: RepositorySelector!) {
             schedulesOrError(repositorySelector: $repo) { __typename ... on Schedules { results {
               name cronSchedule executionTimezone futureTicks(limit: 1) { results { timestamp } }
               scheduleState { id selectorId status %s } } } ... on Error { message } }
             sensorsOrError(repositorySelector: $repo) { __typename ... on Sensors { results {
               name minIntervalSeconds nextTick { timestamp }
               sensorState { id selectorId status %s } } } ... on Error { message } } }""".replace("%s", _TICKS),
        {"repo": selector},
    )
    out = []
    for s in data["schedulesOrError"].get("results", []):
        state, future = s["scheduleState"], s["futureTicks"]["results"]
        out.append(Instigator("schedule", s["name"], state["status"] == "RUNNING", s["cronSchedule"], s["executionTimezone"], None,
                              future[0]["timestamp"] if future and state["status"] == "RUNNING" else None, _ticks(state),
                              state["id"], state["selectorId"]))
    for s in data["sensorsOrError"].get("results", []):
        state = s["sensorState"]
        out.append(Instigator("sensor", s["name"], state["status"] == "RUNNING", None, None, s["minIntervalSeconds"],
                              (s["nextTick"] or {}).get("timestamp") if state["status"] == "RUNNING" else None,
                              _ticks(state), state["id"], state["selectorId"]))
    return out


@dataclass(frozen=True)
class Freshness:
    """One asset: its group, when it was last materialized (epoch seconds) and Dagster's verdict
    against its freshness policy (HEALTHY, WARNING, DEGRADED, UNKNOWN; None without a policy)."""

    key: tuple[str, ...]
    group: str
    last: float | None
    status: str | None


def freshness() -> list[Freshness]:
    """Every asset's last materialization and freshness verdict, as Dagster's UI shows them."""
    data = _call(
        """{ assetNodes { assetKey { path } groupName assetMaterializations(limit: 1) { timestamp }
               freshnessStatusInfo { freshnessStatus } } }"""
    )["assetNodes"]
    return [Freshness(tuple(n["assetKey"]["path"]), n["groupName"],
                      int(n["assetMaterializations"][0]["timestamp"]) / 1000 if n["assetMaterializations"] else None,
                      (n["freshnessStatusInfo"] or {}).get("freshnessStatus"))
            for n in data]


def set_running(kind: str, name: str, running: bool) -> None:
    """Turn a schedule or sensor (``kind``) on or off; Dagster keeps the state in its instance,
    so it survives a restart."""
    location, repository = _location_of(DAILY_JOB)
    selector = {"repositoryLocationName": location, "repositoryName": repository}
    if kind == "schedule" and running:
        query = """mutation On($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename
                     ... on ScheduleStateResult { scheduleState { status } } ... on Error { message } } }"""
        result = _call(query, {"s": {**selector, "scheduleName": name}})["startSchedule"]
    elif kind == "sensor" and running:
        query = """mutation On($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename
                     ... on Sensor { sensorState { status } } ... on Error { message } } }"""
        result = _call(query, {"s": {**selector, "sensorName": name}})["startSensor"]
    else:
        found = next((i for i in instigators() if i.kind == kind and i.name == name), None)
        if found is None:
            raise DagsterUnavailable(f"Dagster has no {kind} '{name}'")
        if kind == "schedule":
            query = """mutation Off($id: String!) { stopRunningSchedule(id: $id) { __typename
                         ... on ScheduleStateResult { scheduleState { status } } ... on Error { message } } }"""
            result = _call(query, {"id": found.state_id})["stopRunningSchedule"]
        else:
            query = """mutation Off($id: String!) { stopSensor(id: $id) { __typename
                         ... on StopSensorMutationResult { instigationState { status } } ... on Error { message } } }"""
            result = _call(query, {"id": found.state_id})["stopSensor"]
    if result["__typename"] in ("PythonError", "UnauthorizedError", "ScheduleNotFoundError", "SensorNotFoundError"):
        raise DagsterUnavailable(f"Dagster refused: {result.get('message')}")


def backfills(limit: int = 10) -> list[Backfill]:
    """The newest backfills with their progress counted in partitions of the indicators."""
    data = _call(
        """query Backfills($limit: Int) { partitionBackfillsOrError(limit: $limit) { __typename
             ... on PartitionBackfills { results { id status timestamp endTimestamp numCancelable tags { key value }
               assetBackfillData { assetBackfillStatuses { __typename
                 ... on AssetPartitionsStatusCounts { assetKey { path } numPartitionsTargeted numPartitionsInProgress
                                                      numPartitionsMaterialized numPartitionsFailed } } } } }
             ... on Error { message } } }""",
        {"limit": limit},
    )["partitionBackfillsOrError"]
    if data["__typename"] != "PartitionBackfills":
        raise DagsterUnavailable(f"Dagster could not list backfills: {data.get('message')}")
    out = []
    for b in data["results"]:
        counts = [c for c in (b["assetBackfillData"] or {}).get("assetBackfillStatuses", [])
                  if c["__typename"] == "AssetPartitionsStatusCounts" and tuple(c["assetKey"]["path"]) == PARTITIONED_ASSET]
        c = counts[0] if counts else {"numPartitionsTargeted": 0, "numPartitionsMaterialized": 0, "numPartitionsFailed": 0,
                                      "numPartitionsInProgress": 0}
        out.append(Backfill(b["id"], b["status"], b["timestamp"], b["endTimestamp"], c["numPartitionsTargeted"],
                            c["numPartitionsMaterialized"], c["numPartitionsFailed"], c["numPartitionsInProgress"],
                            {t["key"]: t["value"] for t in b["tags"]}, b["status"] == "REQUESTED"))
    return out


def cancel_backfill(backfill_id: str) -> None:
    """Cancel a backfill: no new runs are launched for it, and its runs in progress are cancelled."""
    result = _call(
        """mutation Cancel($id: String!) { cancelPartitionBackfill(backfillId: $id) { __typename
             ... on CancelBackfillSuccess { backfillId } ... on Error { message } } }""",
        {"id": backfill_id},
    )["cancelPartitionBackfill"]
    _outcome(result, "backfillId")


def reload_code_location() -> None:
    """Have Dagster load the code location again (the pipelines read the platform's settings
    when they load), and wait until it has."""
    location, _ = _location_of(DAILY_JOB)
    result = _call(
        """mutation Reload($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) { __typename
             ... on WorkspaceLocationEntry { loadStatus locationOrLoadError { __typename ... on PythonError { message } } }
             ... on Error { message } } }""",
        {"name": location},
        timeout=RELOAD_TIMEOUT_S,
    )["reloadRepositoryLocation"]
    if result["__typename"] != "WorkspaceLocationEntry":
        raise DagsterUnavailable(f"Dagster could not reload the pipelines: {result.get('message') or result['__typename']}")
    if (result.get("locationOrLoadError") or {}).get("__typename") == "PythonError":
        raise DagsterUnavailable(f"Dagster could not load the pipelines: {result['locationOrLoadError']['message']}")
