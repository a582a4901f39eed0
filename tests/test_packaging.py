"""City Brain installs like any package: the wheel carries every SQL and data file the code
reads, and the code finds them through importlib.resources wherever it is installed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests
from helpers import PASSWORD, dash_post, sign_in

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("warehouse", "assets", "pipelines", "cockpit", "api", "citybrain")


def _git_files(*paths: str) -> list[str]:
    """Files git tracks (or would track) below ``paths``, as they are in the working tree."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *paths],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    return [p for p in listed if (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of the project's files, so the build leaves nothing in the checkout.
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"
    for rel in _git_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(src)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("citybrain-*.whl"))


def test_the_wheel_holds_every_tracked_file_of_the_packages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [p for p in _git_files(*PACKAGES) if p not in names]
    assert not missing, f"files the code ships but the wheel lacks: {missing}"


@pytest.mark.slow
def test_the_installed_wheel_generates_refreshes_and_serves_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    """The wheel is installed (not editable, its dependencies from the index) into a new
    environment; from a folder far from the checkout, the installed commands generate a
    city, refresh it and serve the cockpit, reading only the installed files. uv installs it
    as pip would, in a tenth of pip's time (the suite's budget)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
    install = subprocess.run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAGSTER_HOME", "CITYBRAIN_CITY", "VIRTUAL_ENV")}
    env["CITYBRAIN_HOME"] = str(elsewhere / "home")
    citybrain = str(venv / "bin" / "citybrain")

    def run(*args: str) -> str:
        done = subprocess.run([citybrain, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"citybrain {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import warehouse, cockpit; print(warehouse.__file__, cockpit.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(w).is_relative_to(venv) for w in where), where
    run("generate", "--scale", "tiny", "--days", "5", "--end", "2026-11-20", "--quiet")
    refreshed = run("refresh", "--as-of", "2026-11-21 07:00")
    assert "serving snapshot:" in refreshed and "alerts:" in refreshed, refreshed
    run("users", "add", "boss", "--role", "city_manager", "--password", PASSWORD)

    port = _free_port()
    server = subprocess.Popen([citybrain, "cockpit", "--port", str(port), "--workers", "1"], cwd=elsewhere, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", server)
        http = requests.Session()
        assert sign_in(http, "boss", PASSWORD, base).status_code == 302
        overview = dash_post(http, base, "ov-asof.children")  # the overview's data, read from the published snapshot
        assert "2026-11-21 07:00" in json.dumps(overview["ov-asof"], ensure_ascii=False), overview["ov-asof"]
        assert http.get(f"{base}/assets/cockpit.css").ok
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read()[-3000:]
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {seconds:.0f} s")
