"""A simulated cockpit user for the benches: signs in and posts the same callback requests
the browser's Dash renderer posts, timing each one (client side, and the server's own
figure from the Server-Timing header)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cockpit.auth import add_user  # noqa: E402
from warehouse.ops_store import OpsStore  # noqa: E402

PASSWORD = "bench password"
BENCH_USERS = {"boss": ("city_manager", None), "xihu": ("district_manager", "330106"), "ana": ("analyst", None),
               "police": ("steward", "psb"), "aud": ("auditor", None)}


def scratch_home(home: Path) -> Path:
    """A data directory that shares ``home``'s serving snapshots but has its own operational
    store with the bench's users, so a bench never touches the real users or audit log."""
    root = Path(tempfile.mkdtemp(prefix="cb-bench-cockpit-"))
    (root / "serving").symlink_to((home / "serving").resolve())
    store = OpsStore(root)
    for name, (role, scope) in BENCH_USERS.items():
        add_user(store, name, PASSWORD, role, scope)
    return root


def start_cockpit(root: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    """``citybrain cockpit`` (gunicorn) on ``root``, waiting until it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "citybrain", "cockpit", "--home", str(root), "--port", str(port),
                             "--workers", str(workers), "--threads", str(threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the cockpit did not start: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")


class DashUser:
    """One signed-in user posting callbacks; durations land in ``timings[name]`` as
    (client ms, server ms); failures in ``errors``."""

    def __init__(self, url: str, username: str) -> None:
        self.url = url
        self.http = requests.Session()
        r = self.http.post(f"{url}/login", data={"username": username, "password": PASSWORD}, allow_redirects=False)
        if r.status_code != 302:
            raise RuntimeError(f"{username} could not sign in: HTTP {r.status_code}")
        self.deps = {d["output"]: d for d in self.http.get(f"{url}/_dash-dependencies").json()}
        self.timings: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: list[str] = []

    def _key(self, fragment: str) -> str:
        return next(k for k in self.deps if fragment in k)

    def call(self, name: str, output: str, inputs: list, state: list | None = None) -> dict | None:
        """Post the callback whose output contains ``output``; its response, or None."""
        key = self._key(output)
        dep = self.deps[key]
        outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
        body = {
            "output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": i["id"], "property": i["property"], "value": v} for i, v in zip(dep["inputs"], inputs)],
            "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(dep["state"], state or [])],
            "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
        }
        t0 = time.perf_counter()
        try:
            r = self.http.post(f"{self.url}/_dash-update-component", data=json.dumps(body),
                               headers={"Content-Type": "application/json"}, timeout=60)
        except requests.RequestException as e:
            self.errors.append(f"{name}: {type(e).__name__}")
            return None
        client_ms = (time.perf_counter() - t0) * 1000
        server_ms = float(r.headers.get("Server-Timing", "app;dur=nan").split("dur=")[-1])
        self.timings[name].append((client_ms, server_ms))
        if r.status_code != 200:
            self.errors.append(f"{name}: HTTP {r.status_code}")
            return None
        return r.json()

    def page(self, path: str) -> dict | None:
        return self.call(f"page {path}", "_pages_content.children", [path, ""])


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]
