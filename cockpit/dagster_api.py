"""Dagster's own GraphQL API, as the pipeline-runs page uses it: recent runs, launching the
daily refresh, and backfilling indicators over a range of days.

Under ``scripts/up`` Dagster's webserver listens on a unix socket inside the data directory
(``<home>/run/dagster.sock``, see ``pipelines/webserver.py``): only City Brain's user can
open it, so only the cockpit, which signs its users in, reaches Dagster.
``CITYBRAIN_DAGSTER_SOCKET`` names another socket; ``CITYBRAIN_DAGSTER_URL`` a webserver on
TCP instead (a development setup: anyone who can reach that port can launch runs). When
nobody answers, every call raises :class:`DagsterUnavailable` with words fit for the page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from cockpit import context

TIMEOUT_S = 5
# The cockpit speaks to Dagster over HTTP only, never by importing the pipelines; these
# names are the contract (a test checks them against the Definitions).
DAILY_JOB = "daily_refresh"
# The daily-partitioned asset a backfill covers, then the unpartitioned assets after it,
# rerun once for the whole range.
PARTITIONED_ASSET = ("marts", "indicator_values")
AFTER_INDICATORS = (("marts", "city_score"), ("marts", "alerts"), ("marts", "open_data"), ("serving", "snapshot"))


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


def _endpoint() -> tuple[str, str | None]:
    """(base URL, unix socket or None): a TCP URL if one is configured, else the data directory's socket."""
    if os.environ.get("CITYBRAIN_DAGSTER_URL"):
        return os.environ["CITYBRAIN_DAGSTER_URL"].rstrip("/"), None
    socket = os.environ.get("CITYBRAIN_DAGSTER_SOCKET") or str(context.ctx().home.dagster_socket)
    return "http://dagster", socket


def base_url() -> str:
    """Where Dagster is expected, in words for the page (the socket's path when there is one)."""
    url, socket = _endpoint()
    return socket or url


def _call(query: str, variables: dict | None = None) -> dict:
    url, socket = _endpoint()
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=socket) if socket else None, timeout=TIMEOUT_S) as client:
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
             ... on Runs { results { runId jobName status startTime endTime tags { key value } } }
             ... on Error { message } } }""",
        {"limit": limit},
    )["runsOrError"]
    if data["__typename"] != "Runs":
        raise DagsterUnavailable(f"Dagster could not list runs: {data.get('message')}")
    return [Run(r["runId"], r["jobName"], r["status"], r["startTime"], r["endTime"], {t["key"]: t["value"] for t in r["tags"]})
            for r in data["results"]]


def _location_of(job: str) -> tuple[str, str]:
    """(code location, repository) that holds ``job``."""
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
