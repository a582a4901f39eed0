"""A simulated cockpit user for the benches: signs in and posts the same callback requests
the browser's Dash renderer posts, timing each one (client side, and the server's own
figure from the Server-Timing header)."""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cockpit.auth import add_user  # noqa: E402
from warehouse.ops.store import OpsStore  # noqa: E402

PASSWORD = "bench password"
BENCH_USERS = {"boss": ("city_manager", None), "xihu": ("district_manager", "330106"), "ana": ("analyst", None),
               "police": ("steward", "psb"), "aud": ("auditor", None), "root": ("admin", None),
               "clerk": ("officer", "civil")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_home(home: Path) -> Path:
    """A data directory that shares ``home``'s serving snapshots (and a generated city's ground
    truth, which marks it as demo data) but has its own operational store with the bench's
    users, so a bench never touches the real users or audit log."""
    root = Path(tempfile.mkdtemp(prefix="cb-bench-cockpit-"))
    (root / "serving").symlink_to((home / "serving").resolve())
    if (home / "truth").is_dir():
        (root / "truth").symlink_to((home / "truth").resolve())
    store = OpsStore(root)
    for name, (role, scope) in BENCH_USERS.items():
        add_user(store, name, PASSWORD, role, scope)
    return root


def snapshot_choices(root: Path) -> tuple[str, list[str], list[str], list[str]]:
    """What the simulated users pick from in ``root``'s current snapshot: the city code, the
    districts, the indicators and the days with values."""
    from cockpit import context
    from cockpit.data import indicators, reference
    from warehouse.settings import settings
    from warehouse.storage.home import Home

    context.init(Home(root), settings())
    city = reference.info()["city_code"]
    days = [str(d)[:10] for d in indicators.series(["pop.registered"], [city], None, None).date]
    return city, list(reference.districts().district_code), list(reference.catalog().indicator_id), days


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
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.http.get(f"{url}/login").text).group(1)
        r = self.http.post(f"{url}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           allow_redirects=False)
        if r.status_code != 302:
            raise RuntimeError(f"{username} could not sign in: HTTP {r.status_code}")
        self.deps = {d["output"]: d for d in self.http.get(f"{url}/_dash-dependencies").json()}
        self.timings: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: list[str] = []
        self.seen_as_of: set[str] = set()  # the overview's "as of / published" lines this user saw

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
        body = r.json()
        asof = body.get("response", {}).get("ov-asof", {}).get("children")
        if asof:
            self.seen_as_of.add(asof)
        return body

    def page(self, path: str, search: str = "", name: str | None = None) -> dict | None:
        """The page at ``path`` (``search``: its query string, as ``?entry=...``), timed as ``name`` (default ``page <path>``)."""
        return self.call(name or f"page {path}", "_pages_content.children", [path, search])


class Scenario:
    """What one simulated user does in a round, with the choices a person would make."""

    def __init__(self, username: str, seed: int, districts: list[str], indicators: list[str], city: str, days: list[str],
                 entries: list[str] = (), departments: list[str] = ()):
        self.username, self.role = username, BENCH_USERS[username][0]
        self.rng = random.Random(seed)
        self.districts, self.indicators, self.city, self.days = districts, indicators, city, days
        self.entries, self.departments = list(entries), list(departments)  # the catalog's codes and owners

    def _areas(self) -> list[str]:
        if self.role == "district_manager":
            return [BENCH_USERS[self.username][1], self.city]
        return self.rng.sample(self.districts, self.rng.randint(1, 3)) + [self.city]

    def round(self, user: DashUser, think: float) -> None:
        def pause() -> None:
            time.sleep(think * self.rng.uniform(0.5, 1.5))

        if self.role == "officer":  # the catalog: the list, a search or a filter, an entry
            user.page("/catalog")
            words = self.rng.choice(["population", "人口", "certificate", "hotline", "births", "enterprise", ""])
            user.call("catalog list", "ca-table.rowData",
                      [words, self.rng.choice([None, *self.departments]), self.rng.choice([None, "conditional", "unconditional"]), None])
            pause()
            user.page("/catalog", f"?entry={self.rng.choice(self.entries)}", name="catalog entry")
            pause()
            return
        if self.role == "steward":
            user.page("/ingestion")
            pause()
            user.page("/alerts")
            user.call("alerts", "al-table.rowData", ["mine", None, None], [None])
            pause()
            return
        if self.role != "analyst":
            user.page("/")
            user.call("overview", "ov-asof.children", [None])
            pause()
            user.call("overview", "ov-asof.children", [self.rng.choice(self.districts)])
            pause()
        user.page("/explorer")
        first, last = sorted(self.rng.sample(self.days, 2)) if len(self.days) > 1 else (None, None)
        user.call("explorer", "ex-graph.figure",
                  [self.rng.sample(self.indicators, self.rng.randint(1, 3)), self._areas(), first, last])
        pause()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def drive(users: list[DashUser], scenarios: list[Scenario], think: float, keep_going) -> int:
    """Each user runs its scenario in its own thread while ``keep_going()``; total rounds."""
    rounds = [0] * len(users)

    def work(i: int) -> None:
        while keep_going():
            scenarios[i].round(users[i], think)
            rounds[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(rounds)


def report(users: list[DashUser], rounds: int, direct: dict[str, list[float]] | None = None) -> float:
    """Print p50/p95 (and p99) per callback, server and client side, beside ``direct`` query
    times when given; returns the worst p95 server time."""
    timings: dict[str, list[tuple[float, float]]] = {}
    for u in users:
        for name, values in u.timings.items():
            timings.setdefault(name, []).extend(values)
    errors = [e for u in users for e in u.errors]
    total = sum(len(v) for v in timings.values())
    print(f"\n{total} callbacks in {rounds} user rounds, {len(errors)} errors" + (f" (first: {errors[0]})" if errors else ""))
    head = f"{'callback':<16}{'n':>6}{'server p50':>12}{'server p95':>12}{'server p99':>12}{'client p50':>12}{'client p95':>12}"
    print(head + (f"{'direct p50':>12}{'direct p95':>12}{'p95 ratio':>11}" if direct is not None else ""))
    worst = 0.0
    for name, values in sorted(timings.items()):
        client = [c for c, _ in values]
        server = [s for _, s in values]
        p95 = percentile(server, 95)
        worst = max(worst, p95)
        line = (f"{name:<16}{len(values):>6}{percentile(server, 50):>12.1f}{p95:>12.1f}{percentile(server, 99):>12.1f}"
                f"{percentile(client, 50):>12.1f}{percentile(client, 95):>12.1f}")
        if direct is not None:
            d = direct.get(name, [])
            ratio = p95 / percentile(d, 95) if d else float("nan")
            line += f"{percentile(d, 50):>12.1f}{percentile(d, 95):>12.1f}{ratio:>10.1f}x"
        print(line)
    return worst
