"""The README's main command on a tiny city: the whole platform comes up, the demo users can
sign in, the pipeline runs once, Ctrl-C or SIGTERM stops every process it started however it was
started, and a second run reuses what exists."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import requests
from helpers import dash_post, sign_in

ROOT = Path(__file__).resolve().parents[1]
BANNER_END = "Ctrl-C (or SIGTERM) stops everything."  # the last line citybrain serve prints once up
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sessions():
    """scripts/up's sessions, killed whole at the end even if the test failed half-way."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        subprocess.run(["pkill", "-KILL", "-s", str(proc.pid)], check=False)


def _up(home: Path, cockpit: int, log: Path, sessions: list, *, background: bool = False) -> subprocess.Popen:
    """scripts/up in a session of its own, like a terminal (Ctrl-C is SIGINT to the whole
    foreground group), or ``background`` as a non-interactive shell's ``&`` starts it: with
    SIGINT ignored."""
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "CITYBRAIN_SCALE": "tiny", "COCKPIT_PORT": str(cockpit),
           "CITYBRAIN_LANDING_INTERVAL": "5"}
    for name in ("DAGSTER_HOME", "CITYBRAIN_DAGSTER_URL", "CITYBRAIN_DAGSTER_SOCKET"):
        env.pop(name, None)
    ignore_int = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if background else None
    proc = subprocess.Popen([str(ROOT / "scripts" / "up")], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=ignore_int)
    sessions.append(proc)
    return proc


def _dagster(home: Path) -> httpx.Client:
    """A client of Dagster's webserver through its socket in the data directory."""
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(home / "run" / "dagster.sock")), base_url="http://dagster", timeout=10)


def _wait_until_up(proc: subprocess.Popen, home: Path, cockpit: int, log: Path) -> None:
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with _dagster(home) as dagster:
                # Up means the services answer and the supervisor has said so (it prints its
                # banner once it has seen them answer; this loop may see them first).
                if (requests.get(f"http://127.0.0.1:{cockpit}/healthz", timeout=2).ok and dagster.get("/server_info").is_success
                        and BANNER_END in log.read_text()):
                    return
        except (requests.RequestException, httpx.HTTPError):
            pass
        time.sleep(2)
    raise AssertionError("the platform did not come up in 400 s:\n" + log.read_text()[-3000:])


def _stop(proc: subprocess.Popen, log: Path, sig: signal.Signals = signal.SIGINT, group: bool = True) -> None:
    """Ctrl-C (SIGINT to the group), or ``sig`` to scripts/up's own process as a service manager
    sends it: everything stops politely (nothing killed) within 45 s, and nothing is left."""
    (os.killpg if group else os.kill)(proc.pid, sig)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    assert log.read_text().rstrip().endswith("Stopped."), log.read_text()[-3000:]
    time.sleep(1)
    assert not _left(proc), _left(proc)


def _runs_once_the_sensor_has_looked(home: Path) -> list[tuple[str, str]]:
    """(job, trigger) of every run in the platform's Dagster instance, once the landing sensor
    has ticked at least twice."""
    import dagster as dg
    from dagster._core.scheduler.instigation import InstigatorType

    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                states = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
                          if s.instigator_name == "landing_sensor"]
                if states and len(instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id, limit=2)) >= 2:
                    break
                time.sleep(2)
            else:
                raise AssertionError("the landing sensor never ticked")
            return sorted((r.job_name, r.tags.get("citybrain/trigger", "")) for r in instance.get_runs())
    finally:
        os.environ.pop("DAGSTER_HOME")


def _left(proc: subprocess.Popen) -> list[str]:
    """Processes still alive in the session scripts/up ran in (zombies aside)."""
    out = subprocess.run(["ps", "-eo", "sid=,stat=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[0] == str(proc.pid) and not line.split()[1].startswith("Z")]


def _listening_ports(session: int) -> set[int]:
    """TCP ports listened on by processes of the session scripts/up runs in."""
    pids = {line.split()[1] for line in subprocess.run(["ps", "-eo", "sid=,pid="], capture_output=True, text=True).stdout.splitlines()
            if line.split()[0] == str(session)}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if set(re.findall(r"pid=(\d+)", line)) & pids}


def _daemon_health(home: Path) -> dict[str, bool]:
    """The daemons' health as Dagster's webserver reports it, once the scheduler and sensors have reported (60 s)."""
    query = {"query": "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"}
    deadline = time.monotonic() + 60
    with _dagster(home) as dagster:
        while True:
            statuses = dagster.post("/graphql", json=query).json()["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
            healthy = {d["daemonType"]: d["healthy"] for d in statuses}
            if (healthy.get("SENSOR") and healthy.get("SCHEDULER")) or time.monotonic() > deadline:
                return healthy
            time.sleep(2)


def test_scripts_up_serves_everything_stops_on_ctrl_c_and_reuses_what_exists(tmp_path: Path, sessions: list) -> None:
    home = tmp_path / "home"
    cockpit = _free_port()
    log = tmp_path / "up1.log"
    proc = _up(home, cockpit, log, sessions)
    _wait_until_up(proc, home, cockpit, log)
    text = log.read_text()
    password = re.search(r"password for every demo user: (\S+)", (home / "demo_users.txt").read_text()).group(1)
    # The addresses come last, after the services' start-up (in <home>/logs, not the terminal).
    assert text.rstrip().endswith(BANNER_END), text[-2000:]
    assert "City Brain is up" in text and "mayor" in text and "Warning" not in text, text[-3000:]
    http = requests.Session()
    assert sign_in(http, "mayor", password, f"http://127.0.0.1:{cockpit}").status_code == 302
    assert http.get(f"http://127.0.0.1:{cockpit}/").ok
    # The schedule and the sensors are live in the Dagster daemon.
    healthy = _daemon_health(home)
    assert healthy.get("SENSOR") and healthy.get("SCHEDULER"), healthy
    # Dagster answers only on its socket, in a folder no other user can enter; the only TCP
    # port of the platform is the cockpit's, and the analyst reaches Dagster through it.
    assert (home / "run").stat().st_mode & 0o077 == 0
    assert _listening_ports(proc.pid) == {cockpit}, _listening_ports(proc.pid)
    analyst = requests.Session()
    assert sign_in(analyst, "analyst", password, f"http://127.0.0.1:{cockpit}").status_code == 302
    runs = dash_post(analyst, f"http://127.0.0.1:{cockpit}", "ru-status.children")
    assert runs["ru-status"]["children"] == "调度服务在线", runs  # the runs page: Dagster answers
    # The pipeline ran once on start (the CLI's refresh); the sensor found nothing new after it.
    assert _runs_once_the_sensor_has_looked(home) == [("daily_refresh", "cli"), ("indicators_refresh", "cli")]
    assert "landing_sensor skipped" in (home / "logs" / "dagster-daemon.log").read_text()
    _stop(proc, log)
    landing_before = sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file())

    # Started again, in the background (SIGINT ignored, as `scripts/up &` starts it): it reuses
    # the city and the users it made, and stops on SIGTERM sent to scripts/up's process alone,
    # as a service manager or `kill` does. (SIGINT there goes to the same handler.)
    log2 = tmp_path / "up-background.log"
    proc = _up(home, cockpit, log2, sessions, background=True)
    _wait_until_up(proc, home, cockpit, log2)
    assert sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file()) == landing_before
    assert (home / "demo_users.txt").read_text().count("password for every demo user") == 1
    _stop(proc, log2, signal.SIGTERM, group=False)
