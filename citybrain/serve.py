"""The whole platform as one service (``citybrain serve``, what ``scripts/up`` ends with): the
cockpit, Dagster's webserver on the data directory's private socket, and Dagster's daemon
(the schedule and the landing sensor).

One supervisor process, so that it stops the same way however it was started: Ctrl-C in a
terminal, SIGTERM from a service manager, SIGINT to a process started in the background
(where a shell script's own traps never see it: a non-interactive shell starts background
jobs with SIGINT ignored). Each service runs in its own process group and is stopped
politely (the daemon and the webserver on SIGINT, gunicorn on SIGTERM); they write to
``<home>/logs/<service>.log``, so Dagster's start-up chatter stays out of the terminal,
which shows where to go once everything answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipelines.run import alive
from warehouse.settings import child_environment
from warehouse.storage.home import Home

READY_TIMEOUT_S = 300
STOP_TIMEOUT_S = 40


@dataclass
class Service:
    name: str
    argv: list[str]
    stop_signal: signal.Signals
    process: subprocess.Popen | None = None


def _services(home: Home, port: int, api_port: int | None = None) -> list[Service]:
    bin_dir = Path(sys.executable).parent
    # The interfaces are always under the cockpit's /api/; with api_port also on a listener of
    # their own (uvicorn workers: the throughput other departments' systems need, docs/sharing.md).
    api = [Service("api", [str(bin_dir / "citybrain"), "api", "--home", str(home.root), "--port", str(api_port)],
                   signal.SIGTERM)] if api_port else []
    return [
        Service("cockpit", [str(bin_dir / "citybrain"), "cockpit", "--home", str(home.root), "--port", str(port)], signal.SIGTERM),
        *api,
        Service("dagster-webserver", [sys.executable, "-m", "pipelines.webserver", "--socket", str(home.dagster_socket)],
                signal.SIGINT),
        Service("dagster-daemon", [str(bin_dir / "dagster-daemon"), "run", "-m", "pipelines.definitions"], signal.SIGINT),
    ]


def _prepare_dagster(home: Home) -> Path:
    """``DAGSTER_HOME`` for the services, with its storage created or migrated here, once:
    Dagster's webserver and daemon starting together on a fresh folder can both write the
    storage's schema history and leave it unreadable ("more than one head")."""
    import dagster as dg

    from pipelines.run import ensure_dagster_home

    dagster_home = ensure_dagster_home(home)
    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass
    return dagster_home


def _cockpit_answers(port: int, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _dagster_answers(socket: Path) -> bool:
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://dagster", timeout=2) as c:
            return c.get("/server_info").is_success
    except httpx.HTTPError:
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def serve_platform(home: Home, port: int, notes: list[str] = (), api_port: int | None = None) -> int:
    """Start the services, print the addresses (and ``notes``) once they answer, and run until
    a stop signal or until a service exits on its own; then stop them all. Returns the exit
    code: 0 after a requested stop, 1 if a service failed."""
    stop = threading.Event()
    why: list[str] = []

    def on_signal(signum: int, _frame) -> None:
        why.append(signal.Signals(signum).name)
        stop.set()

    # Handlers, not SIG_IGN: the services then start with these signals at their defaults,
    # even if this process itself was started with SIGINT ignored.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    logs = home.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    dagster_home = _prepare_dagster(home)
    services = _services(home, port, api_port)
    # The services read the settings this process resolved (--home, Dagster's folder).
    env = child_environment(CITYBRAIN_HOME=str(home.root), DAGSTER_HOME=str(dagster_home))
    for svc in services:
        with (logs / f"{svc.name}.log").open("ab") as log:
            svc.process = subprocess.Popen(svc.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           env=env, process_group=0)

    failed = ""
    deadline = time.monotonic() + READY_TIMEOUT_S
    ready = False
    while not stop.is_set():
        dead = next((s for s in services if s.process.poll() is not None), None)
        if dead:
            failed = (f"{dead.name} stopped on its own (exit code {dead.process.returncode}); the end of "
                      f"{logs / (dead.name + '.log')}:\n{_tail(logs / (dead.name + '.log'))}")
            break
        if not ready and _cockpit_answers(port) and _dagster_answers(home.dagster_socket) \
                and (not api_port or _cockpit_answers(api_port, "/api/v1/openapi.json")):
            ready = True
            _banner(home, port, logs, notes, api_port)
        elif not ready and time.monotonic() > deadline:
            failed = f"the platform did not answer within {READY_TIMEOUT_S} s; logs in {logs}"
            break
        stop.wait(1 if ready else 0.5)

    if failed:
        print(failed, file=sys.stderr, flush=True)
    print(f"\nStopping City Brain{' (' + why[0] + ')' if why else ''}...", flush=True)
    forced = _stop_all(services)
    print("Stopped." if not forced else f"Stopped; {', '.join(forced)} had to be killed.", flush=True)
    return 1 if failed or forced else 0


def _stop_all(services: list[Service]) -> list[str]:
    """Signal every service's process group, wait for all, and kill (reporting it) only what
    outlives STOP_TIMEOUT_S."""
    for svc in services:
        try:
            os.killpg(svc.process.pid, svc.stop_signal)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    forced = []
    for svc in services:
        try:
            svc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            forced.append(svc.name)
    while time.monotonic() < deadline and any(alive(s.process.pid, group=True) for s in services):
        time.sleep(0.2)  # children of a service (code servers, workers) finishing after it
    for svc in services:
        if alive(svc.process.pid, group=True):
            os.killpg(svc.process.pid, signal.SIGKILL)
            if svc.name not in forced:
                forced.append(svc.name)
    return forced


def _banner(home: Home, port: int, logs: Path, notes: list[str], api_port: int | None = None) -> None:
    lines = [
        "",
        f"City Brain is up. Data directory: {home.root}",
        f"  Cockpit:  http://127.0.0.1:{port}  (pipeline runs: sign in as the analyst)",
        *([f"  Interfaces: http://127.0.0.1:{api_port}/api/v1/  (also under the cockpit's /api/v1/)"] if api_port else []),
        f"  Dagster:  {home.dagster_socket}  (this user only, through the cockpit)",
        f"  Logs:     {logs}",
        *notes,
        "  Ctrl-C (or SIGTERM) stops everything.",
        "",
    ]
    print("\n".join(lines), flush=True)
