"""Shared test helpers: generate a city, ingest it, and compare with the ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
from werkzeug.serving import make_server

from citybrain.synth.generate import generate
from warehouse.contract.city import load_city
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect
from warehouse.libraries.build import build_all
from warehouse.marts.alerts import evaluate
from warehouse.marts.indicators.compute import refresh

KEY = ["department", "feed", "business_date", "file_name"]

# The cockpit tests' city: refreshed as of this time, one user per role (and a second steward).
AS_OF = "2026-11-21 07:00"
AS_OF_TIME = dt.datetime.fromisoformat(AS_OF)
PASSWORD = "correct horse"
USERS = {"boss": ("city_manager", None), "xihu": ("district_manager", "330106"), "ana": ("analyst", None),
         "police": ("steward", "psb"), "doctor": ("steward", "health"), "roads": ("steward", "urban"), "aud": ("auditor", None),
         "root": ("admin", None)}
# A citizen whose row a steward can read (the planted rejected rows are theirs), and one whose no one reads.
CITIZENS = {"zhang": "11010519491231002X", "li": "110105194912310038"}
EVIL = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"  # runs a program when a spreadsheet opens the cell as a formula
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, base: str = "") -> str:
    """The CSRF token of the sign-in form, as a browser gets it (``client``: a Flask test
    client or a requests session; both keep the cookie the token is bound to)."""
    return _CSRF.search(client.get(f"{base}/login").text).group(1)


def sign_in(client, username: str, password: str = PASSWORD, base: str = ""):
    """Post the sign-in form the way a browser does (token included); the response, unfollowed."""
    data = {"username": username, "password": password, "csrf_token": csrf_token(client, base)}
    extra = {"allow_redirects": False} if hasattr(client, "mount") else {}
    return client.post(f"{base}/login", data=data, **extra)


def make_city(home: Path, *, scale: str = "tiny", seed: int = 1, days: int | None = None, end: str = "2026-11-20") -> Path:
    import datetime as dt

    generate(home, scale, days, dt.date.fromisoformat(end), seed, progress=False)
    return home


def refreshed_copy(city: Path, dest: Path, *, as_of: str = AS_OF, before_refresh=None) -> Path:
    """A copy of a generated city at ``dest``, refreshed once in process (a throwaway Dagster
    instance); ``before_refresh(dest)`` may change the copy first."""
    import shutil

    import dagster as dg

    from pipelines.run import run_daily_job
    from warehouse.storage.home import Home

    shutil.copytree(city, dest)
    if before_refresh is not None:
        before_refresh(dest)
    with dg.instance_for_test() as instance:
        assert run_daily_job(Home.resolve(dest), as_of, instance).success
    return dest


def dash_call(client, app, output_fragment: str, inputs: list, state: list | None = None, changed: str | None = None):
    """Post the Dash callback whose output contains ``output_fragment`` as the browser would
    (also as a forger would: nothing the page shows is needed); ``changed`` names the input that
    triggered it (``id.property``; default: the first)."""
    import json

    key, cb = next((k, v) for k, v in app.callback_map.items() if output_fragment in k)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
    body = {
        "output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": i["id"], "property": i["property"], "value": v} for i, v in zip(cb["inputs"], inputs)],
        "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(cb.get("state", []), state or [])],
        "changedPropIds": [changed or f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"],
    }
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def dash_post(http, base: str, output_fragment: str, inputs: list | None = None, state: list | None = None,
              changed: str | None = None) -> dict:
    """Post, over HTTP to a served cockpit (a signed-in requests session), the callback whose
    output contains ``output_fragment``, found in the cockpit's own ``_dash-dependencies``;
    inputs default to None, ``state`` to none sent; ``changed`` names the input that triggered
    it (``id.property``; default: none). Returns the callback's response, by component id."""
    deps = {d["output"]: d for d in http.get(f"{base}/_dash-dependencies").json()}
    key = next(k for k in deps if output_fragment in k)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
    values = inputs or [None] * len(deps[key]["inputs"])
    body = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": i["id"], "property": i["property"], "value": v} for i, v in zip(deps[key]["inputs"], values)],
            "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(deps[key].get("state", []), state or [])],
            "changedPropIds": [changed] if changed else []}
    answer = http.post(f"{base}/_dash-update-component", json=body)
    assert answer.ok, answer.text[:500]
    return answer.json()["response"]


def ingest_all(home: Path) -> duckdb.DuckDBPyConnection:
    con = connect(home / "warehouse.duckdb")
    ingest_landing(con, home / "landing", home / "tmp")
    return con


def truth_rejections(home: Path) -> set[tuple]:
    with open(home / "truth" / "rejections.csv", encoding="utf-8") as fh:
        return {(r["department"], r["feed"], r["business_date"], r["file_name"], int(r["line_number"]), r["reason"], r["column_name"])
                for r in csv.DictReader(fh)}


def truth_deliveries(home: Path) -> list[dict]:
    with open(home / "truth" / "deliveries.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def found_rejections(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    rows = con.execute(
        """SELECT d.department, d.feed, strftime(d.business_date, '%Y-%m-%d'), d.file_name, r.line_number, r.reason,
                  coalesce(r.column_name, '')
           FROM ingest.rejections r JOIN ingest.deliveries d USING (delivery_id)"""
    ).fetchall()
    return {tuple(r) for r in rows}


def found_deliveries(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple]:
    rows = con.execute(
        """SELECT department, feed, strftime(business_date, '%Y-%m-%d'), file_name, coalesce(reason, ''), status,
                  rows_read, rows_accepted, rows_rejected, extra_columns
           FROM ingest.deliveries"""
    ).fetchall()
    return {tuple(r[:4]): tuple(r[4:]) for r in rows}


_LOADED = "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name } } } }"


@contextmanager
def served_dagster(root: Path, *, daemon: bool = False) -> Iterator[tuple[Path, Path]]:
    """Dagster as scripts/up serves it, for ``root``'s own throwaway instance and data directory
    (``root/home``): the webserver on the data directory's private socket and, with ``daemon``,
    Dagster's daemon (it dequeues launched runs, runs backfills, schedules and sensors), each
    logging to ``root/<n>.log``. Yields (socket, DAGSTER_HOME)."""
    import httpx

    dagster_home = root / "dagster"
    dagster_home.mkdir()
    shutil.copy(Path(__file__).parents[1] / "pipelines" / "dagster.yaml", dagster_home)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "CITYBRAIN_HOME": str(root / "home")}
    procs: list[subprocess.Popen] = []

    def start(command: list[str]) -> None:
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                      stderr=open(root / f"{len(procs)}.log", "w")))

    sock = root / "home" / "run" / "dagster.sock"
    try:
        start([sys.executable, "-m", "pipelines.webserver"])
        deadline = time.monotonic() + 120
        while True:
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=5) as client:
                    # Up, and the code location loaded (the webserver answers before it has).
                    answer = client.post("http://dagster/graphql", json={"query": _LOADED})
                    if answer.is_success and answer.json()["data"]["repositoriesOrError"].get("nodes"):
                        break
            except httpx.HTTPError:
                pass
            assert all(p.poll() is None for p in procs), "Dagster exited"
            assert time.monotonic() < deadline, "the Dagster webserver did not start in 120 s"
            time.sleep(1)
        if daemon:  # once the webserver has created the instance's storage: two creating it at once corrupt it
            start([str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m", "pipelines.definitions"])
        yield sock, dagster_home
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


# ---------------------------------------------------------------- oracles of the warehouse's suites

CITY = load_city().code


def clean_rows(home: Path, feed: str) -> pd.DataFrame:
    """The rows of one feed the generator wrote without defects (its ground truth), in delivery order."""
    df = pd.read_parquet(home / "truth" / "clean" / f"{feed}.parquet")
    return df.sort_values(["_business_date", "_line"], kind="stable")


def expected_persons(home: Path) -> pd.DataFrame:
    """Status, district and death of every person, computed in pandas from clean rows."""
    psb = clean_rows(home, "psb__household_events")
    health = clean_rows(home, "health__death_records")
    psb = psb.assign(day=psb.event_date, src="psb")
    deaths = health.assign(day=health.death_date, src="health", event_type="death")
    ev = pd.concat([psb, deaths[["id_number", "day", "src", "event_type", "_business_date", "_line", "district_code"]]])
    ev = ev[ev.id_number.isin(set(psb.id_number))].sort_values(["day", "_business_date", "_line"], kind="stable")
    last = ev[ev.src == "psb"].groupby("id_number").tail(1).set_index("id_number")
    dead = set(ev[ev.event_type == "death"].id_number)
    status = pd.Series("registered", index=last.index).where(last.event_type != "move_out", "moved_out")
    status[status.index.isin(dead)] = "deceased"
    health_death = ev[ev.src == "health"].groupby("id_number").day.min()
    psb_death = ev[(ev.src == "psb") & (ev.event_type == "death")].groupby("id_number").day.min()
    death_date = health_death.combine_first(psb_death).reindex(last.index)
    return pd.DataFrame({"status": status, "district_code": last.district_code, "name": last["name"],
                         "death_date": death_date.astype(object).where(death_date.notna(), None)})


def run_to_alerts(home: Path, as_of: dt.datetime = AS_OF_TIME) -> duckdb.DuckDBPyConnection:
    """Ingest ``home``'s landing zone, build the libraries, compute the indicators and alerts."""
    con = connect(home / "warehouse.duckdb")
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, as_of)
    refresh(con, as_of)
    evaluate(con, as_of)
    return con


@contextmanager
def served(app) -> Iterator[str]:
    """A WSGI app served on a free local port for the block; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def nothing(environ, start_response):
    """A WSGI app that has nothing (404): what the interfaces are mounted over when served alone."""
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]
