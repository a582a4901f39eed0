"""The README's main command on a tiny city: the whole platform comes up, the demo users can
sign in, Ctrl-C stops every process it started, and a second run reuses what exists."""

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
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(home: Path, cockpit: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "CITYBRAIN_SCALE": "tiny", "COCKPIT_PORT": str(cockpit)}
    for name in ("DAGSTER_HOME", "CITYBRAIN_DAGSTER_URL", "CITYBRAIN_DAGSTER_SOCKET"):
        env.pop(name, None)
    # A session of its own, like a terminal: Ctrl-C is SIGINT to the whole foreground group.
    return subprocess.Popen([str(ROOT / "scripts" / "up")], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _dagster(home: Path) -> httpx.Client:
    """A client of Dagster's webserver through its socket in the data directory."""
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(home / "run" / "dagster.sock")), base_url="http://dagster", timeout=10)


def _wait_until_up(proc: subprocess.Popen, home: Path, cockpit: int, log: Path) -> None:
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with _dagster(home) as dagster:
                if requests.get(f"http://127.0.0.1:{cockpit}/healthz", timeout=2).ok and dagster.get("/server_info").is_success:
                    return
        except (requests.RequestException, httpx.HTTPError):
            pass
        time.sleep(2)
    raise AssertionError("the platform did not come up in 400 s:\n" + log.read_text()[-3000:])


def _ctrl_c(proc: subprocess.Popen) -> float:
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    return time.monotonic() - t0


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


def test_scripts_up_serves_everything_stops_on_ctrl_c_and_reuses_what_exists(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cockpit = _free_port()
    log = tmp_path / "up1.log"
    proc = _up(home, cockpit, log)
    _wait_until_up(proc, home, cockpit, log)
    text = log.read_text()
    password = re.search(r"password for every demo user: (\S+)", (home / "demo_users.txt").read_text()).group(1)
    assert "City Brain is up" in text and "mayor" in text
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
    assert runs["ru-status"]["children"].startswith("Dagster 在线"), runs
    assert _ctrl_c(proc) < 45
    time.sleep(1)
    assert not _left(proc), _left(proc)
    landing_before = sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file())

    log2 = tmp_path / "up2.log"
    proc = _up(home, cockpit, log2)
    _wait_until_up(proc, home, cockpit, log2)
    assert sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file()) == landing_before
    assert (home / "demo_users.txt").read_text().count("password for every demo user") == 1
    assert _ctrl_c(proc) < 45
    time.sleep(1)
    assert not _left(proc), _left(proc)
