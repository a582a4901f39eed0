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

import pytest
import requests
from helpers import sign_in

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(home: Path, cockpit: int, dagster: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CITYBRAIN_HOME": str(home), "CITYBRAIN_SCALE": "tiny", "COCKPIT_PORT": str(cockpit),
           "DAGSTER_PORT": str(dagster)}
    env.pop("DAGSTER_HOME", None)
    # A session of its own, like a terminal: Ctrl-C is SIGINT to the whole foreground group.
    return subprocess.Popen([str(ROOT / "scripts" / "up")], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _wait_until_up(proc: subprocess.Popen, urls: list[str], log: Path) -> None:
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if all(requests.get(u, timeout=2).ok for u in urls):
                return
        except requests.RequestException:
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


def test_scripts_up_serves_everything_stops_on_ctrl_c_and_reuses_what_exists(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cockpit, dagster = _free_port(), _free_port()
    urls = [f"http://127.0.0.1:{cockpit}/healthz", f"http://127.0.0.1:{dagster}/server_info"]
    log = tmp_path / "up1.log"
    proc = _up(home, cockpit, dagster, log)
    _wait_until_up(proc, urls, log)
    text = log.read_text()
    password = re.search(r"password for every demo user: (\S+)", (home / "demo_users.txt").read_text()).group(1)
    assert "City Brain is up" in text and "mayor" in text
    http = requests.Session()
    assert sign_in(http, "mayor", password, f"http://127.0.0.1:{cockpit}").status_code == 302
    assert http.get(f"http://127.0.0.1:{cockpit}/").ok
    # The schedule and the sensors are live in the Dagster daemon.
    status = requests.post(f"http://127.0.0.1:{dagster}/graphql", json={"query": "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"}).json()
    healthy = {d["daemonType"]: d["healthy"] for d in status["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]}
    assert healthy.get("SENSOR") and healthy.get("SCHEDULER"), healthy
    assert _ctrl_c(proc) < 45
    time.sleep(1)
    assert not _left(proc), _left(proc)
    landing_before = sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file())

    log2 = tmp_path / "up2.log"
    proc = _up(home, cockpit, dagster, log2)
    _wait_until_up(proc, urls, log2)
    assert sorted(p.stat().st_mtime_ns for p in (home / "landing").rglob("*") if p.is_file()) == landing_before
    assert (home / "demo_users.txt").read_text().count("password for every demo user") == 1
    assert _ctrl_c(proc) < 45
    time.sleep(1)
    assert not _left(proc), _left(proc)
