"""The governed interfaces (共享接口) under load, as production serves them: ``citybrain cockpit``
(gunicorn; the interfaces under ``/api/v1/``) on a refreshed data directory, N concurrent
clients calling ``/api/v1/persons/status`` and ``/api/v1/certificates/verify`` with numbers
the libraries hold and numbers they do not, each call with its own case number.

Prints calls/s, p50/p95/p99 of the answered calls, the errors by status, the CPU the server
and the load client each used (and what the rest of the machine did meanwhile), and then
checks the access log against the answers: every answered call's case number in the log
exactly once (none missing, none twice), no refused call in it, and the whole chain intact
(``verify_audit_chain``). Issue #32's target: >= 500 calls/s for 60 s with 50 clients on 2
cores, p95 <= 50 ms, log count = answers.

``--kill-worker`` sends SIGKILL to one server worker halfway through: calls in flight in
that worker get no answer (the connection drops). Each answered call must still be in the log;
calls that were in flight may be logged without their answer having been received (the entry is
committed before the answer is written to the socket, and the process can die between the two):
those are counted and shown apart, never as answered.

``--persons 12500000`` measures the lookups at city size without a city refresh: the scratch
copy of the snapshot gets its ``person_lookup`` and ``certificate_lookup`` rebuilt by the SQL
``warehouse/serving/publish.py`` publishes them with (``SERVING``), run over SYNTHETIC library
tables: the real persons and certificates plus made-up ones (identity numbers starting ``99``,
certificates ``SYZ3301…``, numbered as the real ones are) up to that many persons and as many certificates per person as the real
data has. Everything else (the ops store, the log, the server) is real.

The load client is a separate process (asyncio, raw HTTP/1.1 keep-alive sockets: the cheapest
client Python has, so it takes as little of the 2 cores as possible); its CPU is reported.

    .venv/bin/python bench/sharing.py                       # makes a small city (about a minute)
    .venv/bin/python bench/sharing.py --home /data/small --persons 12500000 --kill-worker
    .venv/bin/python bench/sharing.py --home H --tree /tmp/before   # serve another checkout's code
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 1"
OFFICERS = ("clerk1", "clerk2", "clerk3", "clerk4", "clerk5")  # civil affairs' officers the calls are made for
PERSONS = "library/population/persons"
CERTIFICATES = "library/e_certificate/certificate_state"
SYNTHETIC = "synthetic.json"  # what a scratch directory's synthetic snapshot was built from
_MADE_UP = "2: certificates SYZ3301 + 12 digits"  # how the made-up rows look (a change rebuilds a kept snapshot)


# ------------------------------------------------------------------ the data directory
def make_city(work: Path, days: int, seed: int) -> Path:
    """A small city generated and refreshed once in ``work`` (what --home otherwise names)."""
    home = work / "small"
    cli = [sys.executable, "-m", "citybrain"]
    print(f"making a small city in {home} ({days} days): generate + refresh ...", flush=True)
    subprocess.run([*cli, "generate", "--home", str(home), "--scale", "small", "--days", str(days), "--seed", str(seed),
                    "--end", "2026-11-20"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    subprocess.run([*cli, "refresh", "--home", str(home)], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return home


def scratch(home: Path, work: Path) -> Path:
    """A data directory of the bench's own: ``home``'s snapshots and hashing key (the lookup
    tables are keyed with it), a new operational store (so the real users and audit log are
    never touched)."""
    root = work / "root"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy2(home / "audit.key", root / "audit.key")
    (root / "serving").symlink_to((home / "serving").resolve())
    return root


def _built(source: Path) -> str:
    """What a kept synthetic snapshot was built from: the source snapshot and publish's SQL of the two tables."""
    import hashlib

    from warehouse.serving.publish import SERVING

    sql = SERVING["person_lookup"][1] + SERVING["certificate_lookup"][1]
    return f"{source.name}:{hashlib.sha256((sql + _MADE_UP).encode()).hexdigest()[:12]}"


def synthetic_snapshot(home: Path, root: Path, work: Path, persons: int) -> dict:
    """Give ``root`` a serving folder of its own whose current snapshot is ``home``'s with
    person_lookup and certificate_lookup rebuilt at ``persons`` persons by publish's own SQL
    over synthetic library tables (the real rows plus made-up ones); kept in ``work`` for the
    next run. Returns what was built."""
    import duckdb

    from warehouse.serving.publish import SERVING, current, snapshot_name
    from warehouse.storage.subjects import register_subject_hash

    source = current(home / "serving")
    cache = work / f"serving-{persons}"
    made = cache / SYNTHETIC
    if made.exists() and json.loads(made.read_text()).get("built") == _built(source):
        info = json.loads(made.read_text())
    else:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        t0 = time.perf_counter()
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        day = dt.datetime.strptime(source.name.split("-d")[-1].split(".")[0], "%Y%m%d").date()
        target = cache / snapshot_name(stamp, "bench0", day)
        shutil.copy2(source, target)
        con = duckdb.connect(str(work / "synthetic.duckdb"))  # on disk: the sort may spill
        try:
            register_subject_hash(con, root)  # the home's key, copied into root
            con.execute("ATTACH ? AS wh (READ_ONLY)", [str(home / "warehouse.duckdb")])
            real_persons = con.execute("SELECT count(*) FROM wh.population.persons").fetchone()[0]
            real_certs = con.execute("SELECT count(*) FROM wh.e_certificate.certificate_state").fetchone()[0]
            certificates = round(persons * real_certs / real_persons)
            districts = [r[0] for r in con.execute("SELECT DISTINCT district_code FROM wh.population.persons "
                                                   "WHERE district_code IS NOT NULL ORDER BY 1").fetchall()]
            con.execute("CREATE SCHEMA IF NOT EXISTS population")
            con.execute("CREATE SCHEMA IF NOT EXISTS e_certificate")
            # Only the columns the lookup tables' SQL reads; made-up rows after the real ones.
            con.execute("""CREATE OR REPLACE TABLE population.persons AS
                SELECT id_number, status, district_code FROM wh.population.persons
                UNION ALL
                SELECT '99' || lpad(i::VARCHAR, 15, '0') || 'X',
                       CASE WHEN i % 50 = 0 THEN 'deceased' WHEN i % 33 = 0 THEN 'moved_out' ELSE 'registered' END,
                       $d[1 + i % len($d)]
                FROM range($n) t(i)""", {"n": max(0, persons - real_persons), "d": districts})
            con.execute("""CREATE OR REPLACE TABLE e_certificate.certificate_state AS
                SELECT certificate_no, holder_id, certificate_type, issuer, valid_from, valid_to, lifecycle
                FROM wh.e_certificate.certificate_state
                UNION ALL
                SELECT 'SYZ3301' || lpad(i::VARCHAR, 12, '0'), '99' || lpad((i % $p)::VARCHAR, 15, '0') || 'X',
                       'household_register', 'psb', DATE '2020-01-01' + (i % 2000)::INTEGER,
                       CASE WHEN i % 4 = 0 THEN NULL ELSE DATE '2031-01-01' + (i % 1000)::INTEGER END,
                       CASE WHEN i % 40 = 0 THEN 'cancelled' WHEN i % 97 = 0 THEN 'revoked' ELSE 'valid' END
                FROM range($n) t(i)""", {"n": max(0, certificates - real_certs), "p": max(1, persons - real_persons)})
            con.execute("DETACH wh")
            con.execute("ATTACH ? AS snap", [str(target)])
            for name in ("person_lookup", "certificate_lookup"):  # publish's statement, as publish runs it
                con.execute(f"DROP TABLE IF EXISTS snap.{name}")
                con.execute(f"CREATE TABLE snap.{name} AS {SERVING[name][1]}")
                rows = con.execute(f"SELECT count(*) FROM snap.{name}").fetchone()[0]
                con.execute("UPDATE snap.snapshot_info SET value = ? WHERE key = ?", [str(rows), f"rows:{name}"])
            con.execute("DETACH snap")
        finally:
            con.close()
            (work / "synthetic.duckdb").unlink(missing_ok=True)
        info = {"built": _built(source), "source": source.name, "snapshot": target.name, "persons": persons, "real_persons": real_persons,
                "certificates": certificates, "real_certificates": real_certs, "seconds": round(time.perf_counter() - t0, 1)}
        (cache / "CURRENT").write_text(target.name)
        made.write_text(json.dumps(info))
    (root / "serving").unlink()
    (root / "serving").symlink_to(cache.resolve())
    return info


def grants(root: Path, clients: int) -> list[dict]:
    """Officers of civil affairs, the owners' stewards, one grant of each interface's entry
    (requested, approved and keyed through the store, as the requests page does) and one key per
    client (each client a counter's system), alternating between the two interfaces."""
    from cockpit.auth import add_user
    from warehouse.ops.store import OpsStore

    store = OpsStore(root)
    for name in OFFICERS:
        add_user(store, name, PASSWORD, "officer", "civil")
    add_user(store, "police", PASSWORD, "steward", "psb")
    add_user(store, "bureau", PASSWORD, "steward", "dsb")
    made = {}
    for entry, owner, steward, items in ((PERSONS, "psb", "police", ["status", "district_code"]),
                                         (CERTIFICATES, "dsb", "bureau",
                                          ["lifecycle", "certificate_type", "issuer", "valid_from", "valid_to"])):
        rid = store.add_share_request(entry_code=entry, owner=owner, sharing_class="conditional", items=items,
                                      department="civil", requester=OFFICERS[0], role="officer",
                                      purpose="bench: counter checks", scenario="service counter",
                                      legal_basis="bench", days=30)
        store.add_share_step(rid, "approve", actor=steward, role="steward", scope=owner)
        made[entry] = rid
    keys = []
    for i in range(clients):
        entry = (PERSONS, CERTIFICATES)[i % 2]
        keys.append({"entry": entry, "officer": OFFICERS[i % len(OFFICERS)],
                     "key": store.issue_key(made[entry], actor=OFFICERS[0], role="officer", scope="civil")})
    return keys


def samples(home: Path, synthetic: dict | None, seed: int) -> dict[str, list]:
    """Bodies to send: numbers on record (some synthetic ones at city size) and unknown ones (one in five)."""
    import duckdb

    rng = random.Random(seed)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        ids = [r[0] for r in con.execute("SELECT id_number FROM population.persons USING SAMPLE 3000 ROWS").fetchall()]
        certs = [list(r) for r in con.execute("SELECT certificate_no, holder_id FROM e_certificate.certificate_state "
                                              "USING SAMPLE 3000 ROWS").fetchall()]
    finally:
        con.close()
    if synthetic:
        made_p = synthetic["persons"] - synthetic["real_persons"]
        made_c = synthetic["certificates"] - synthetic["real_certificates"]
        ids += [f"99{i:015d}X" for i in rng.sample(range(made_p), min(made_p, 3000))]
        certs += [[f"SYZ3301{i:012d}", f"99{i % made_p:015d}X"] for i in rng.sample(range(made_c), min(made_c, 3000))]
    persons = [{"id_number": i} for i in ids]
    persons += [{"id_number": f"88{rng.randrange(10**15):015d}{rng.randrange(10)}"} for _ in range(len(persons) // 4)]
    certificates = [{"certificate_no": c, "holder_id": h} for c, h in certs]
    certificates += [{"certificate_no": f"NONE{rng.randrange(10**9)}", "holder_id": f"{rng.randrange(10**17):017d}X"}
                     for _ in range(len(certificates) // 4)]
    rng.shuffle(persons)
    rng.shuffle(certificates)
    return {PERSONS: persons, CERTIFICATES: certificates}


# ------------------------------------------------------------------ the server
def start_server(server: str, root: Path, port: int, workers: int, threads: int, tree: Path, rate_limit: str) -> subprocess.Popen:
    """``citybrain cockpit`` (gunicorn, the interfaces mounted) or ``citybrain api`` (uvicorn, a
    listener of their own) from the checkout ``tree``, waiting until it answers."""
    env = {**os.environ, "PYTHONPATH": str(tree), "CITYBRAIN_API_RATE_LIMIT": rate_limit}
    argv = [sys.executable, "-m", "citybrain", server, "--home", str(root), "--port", str(port), "--workers", str(workers)]
    if server == "cockpit":
        argv += ["--threads", str(threads)]
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "ab"))
    ready = "/healthz" if server == "cockpit" else "/api/v1/openapi.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"the server did not start; see {root / 'server.log'}")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (gunicorn's workers, for its master; uvicorn's workers and
    multiprocessing's helper, for its supervisor)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def workers_of(pid: int) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    out = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            out.append(child)
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (and their reaped children) so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy so far (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


# ------------------------------------------------------------------ the load client (its own process)
PATHS = {PERSONS: "/api/v1/persons/status", CERTIFICATES: "/api/v1/certificates/verify"}


async def _client(n: int, spec: dict, start: float, deadline: float, out: list) -> None:
    """One client: a keep-alive connection, one call after another until ``deadline``; each
    call ``(case, status or 0 for no answer, ms)``; a dropped connection is opened again.
    Paced (``spec["rate"]``: calls/s of all clients together), a client sends its k-th call at
    its k-th turn and a call's time counts from its turn, so a server that falls behind shows
    in the latencies (no coordinated omission); unpaced, each sends as soon as it has its answer."""
    key = spec["keys"][n]
    every = len(spec["keys"]) / spec["rate"] if spec["rate"] else 0.0
    turn = start + every * n / len(spec["keys"])
    bodies = spec["bodies"][key["entry"]]
    path = PATHS[key["entry"]]
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key['key']}\r\n"
            f"X-Officer-Id: {key['officer']}\r\nContent-Type: application/json\r\n").encode()
    i = n * 7919
    reader = writer = None
    while time.monotonic() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
            except OSError:
                await asyncio.sleep(0.05)
                continue
        case = f"{spec['prefix']}-{n}-{i}"
        body = json.dumps(bodies[i % len(bodies)]).encode()
        i += 1
        if every:
            wait = turn - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            t0 = time.perf_counter() - max(0.0, time.monotonic() - turn)  # from its turn
            turn += every
        else:
            t0 = time.perf_counter()
        try:
            writer.write(head + f"X-Case-No: {case}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            status_line = await asyncio.wait_for(reader.readline(), 30)
            if not status_line:
                raise ConnectionResetError
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            out.append((case, int(status_line.split()[1]), (time.perf_counter() - t0) * 1000, time.monotonic() - start))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            out.append((case, 0, (time.perf_counter() - t0) * 1000, time.monotonic() - start))
            close = True
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def client_main(spec_path: str) -> None:
    """The load client's process: runs the clients for the spec's seconds and writes what each call got."""
    spec = json.loads(Path(spec_path).read_text())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out: list = []

    async def run() -> None:
        start = time.monotonic()
        deadline = start + spec["seconds"]
        await asyncio.gather(*(_client(n, spec, start, deadline, out) for n in range(len(spec["keys"]))))

    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(run())
    Path(spec["out"]).write_text(json.dumps({"calls": out, "cpu": time.process_time() - cpu0,
                                             "wall": time.perf_counter() - t0}))


def load(spec: dict, work: Path) -> subprocess.Popen:
    path = work / f"spec-{spec['prefix']}.json"
    spec = {**spec, "out": str(work / f"calls-{spec['prefix']}.json")}
    path.write_text(json.dumps(spec))
    return subprocess.Popen([sys.executable, __file__, "--client", str(path)])


def results(spec_prefix: str, work: Path) -> dict:
    return json.loads((work / f"calls-{spec_prefix}.json").read_text())


# ------------------------------------------------------------------ the report
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def logged_since(root: Path, mark: int) -> tuple[list[tuple[str, str]], int]:
    """(action, case number) of every api_* entry written after rowid ``mark``, and the last rowid."""
    import sqlite3

    con = sqlite3.connect(root / "ops.sqlite")
    try:
        rows = con.execute("SELECT rowid, action, purpose FROM access_log WHERE rowid > ? ORDER BY rowid", [mark]).fetchall()
    finally:
        con.close()
    out = [(a, p.split(":", 1)[0].removeprefix("case ")) for _, a, p in rows if a.startswith("api_")]
    return out, (rows[-1][0] if rows else mark)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="A refreshed data directory (default: make a small city in --work).")
    ap.add_argument("--work", type=Path, help="Where the bench keeps its scratch data directory and a synthetic "
                                              "snapshot for the next run (default: a temporary folder, removed).")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=500,
                    help="Calls/s the clients send together, each at its turn (0: each sends as soon as it has its "
                         "answer, to find the most the server answers; 50 clients at N calls/s then wait 50/N s a call).")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5, help="Seconds of calls before the measured run (not counted).")
    ap.add_argument("--server", choices=("cockpit", "api"), default="cockpit",
                    help="cockpit: `citybrain cockpit` (gunicorn, the interfaces mounted under /api/); "
                         "api: `citybrain api` (uvicorn workers on a listener of their own).")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="Threads per cockpit worker (gunicorn).")
    ap.add_argument("--persons", type=int, help="Rebuild the lookup tables at this many persons (synthetic rows; e.g. 12500000).")
    ap.add_argument("--kill-worker", action="store_true", help="SIGKILL one server worker halfway through.")
    # The limiter runs on every call; the deployment's 20/second per grant is not what is
    # measured (25 clients share each grant here), so each grant may go further.
    ap.add_argument("--rate-limit", default="1000/second;10000000/day",
                    help="CITYBRAIN_API_RATE_LIMIT for the server (counted per grant and worker).")
    ap.add_argument("--tree", type=Path, default=ROOT, help="The checkout whose code serves (to compare with another).")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client_main(args.client)
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="cb-bench-sharing-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        home = args.home or (work / "small" if (work / "small" / "serving" / "CURRENT").exists()
                             else make_city(work, days=3, seed=args.seed))
        root = scratch(home, work)
        synthetic = synthetic_snapshot(home, root, work, args.persons) if args.persons else None
        if synthetic:
            print(f"SYNTHETIC lookup tables: person_lookup {synthetic['persons']:,} persons "
                  f"({synthetic['real_persons']:,} real, the rest made up), certificate_lookup {synthetic['certificates']:,} "
                  f"certificates ({synthetic['real_certificates']:,} real), built by publish's SQL in {synthetic['seconds']} s "
                  f"(or kept from an earlier run); the rest of the snapshot, the store and the server are real", flush=True)
        keys = grants(root, args.clients)
        bodies = samples(home, synthetic, args.seed)
        from socket import socket

        with socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(args.server, root, port, args.workers, args.threads, args.tree, args.rate_limit)
        try:
            spec = {"port": port, "keys": keys, "bodies": bodies, "rate": args.rate}
            if args.warmup > 0:
                warm = load({**spec, "seconds": args.warmup, "prefix": "W"}, work)
                warm.wait()
            _, mark = logged_since(root, 0)
            pids = [server.pid, *children(server.pid)]
            cpu0, busy0, load0, t0 = cpu_seconds(pids), machine_cpu(), os.getloadavg()[0], time.perf_counter()
            client = load({**spec, "seconds": args.seconds, "prefix": "R"}, work)
            killed = None
            if args.kill_worker:
                time.sleep(args.seconds / 2)
                killed = workers_of(server.pid)[0]
                os.kill(killed, signal.SIGKILL)  # its CPU then counts in the master's, once it reaps it
                t_kill = time.perf_counter() - t0
            client.wait()
            wall = time.perf_counter() - t0
            pids_after = [server.pid, *children(server.pid)]
            server_cpu = cpu_seconds(pids_after) - cpu0
            busy = machine_cpu() - busy0
            load1 = os.getloadavg()[0]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        got = results("R", work)
        report(args, root, mark, got, wall, server_cpu, busy, (load0, load1), killed and (killed, t_kill))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def report(args, root: Path, mark: int, got: dict, wall: float, server_cpu: float, busy: float,
           loads: tuple[float, float], killed) -> None:
    from warehouse.ops.store import OpsStore

    calls = got["calls"]
    answered = [c for c in calls if c[1] == 200]
    statuses = collections.Counter(c[1] for c in calls)
    lat = [c[2] for c in answered]
    seconds = args.seconds
    client_cpu = got["cpu"]
    served = f"citybrain cockpit (gunicorn {args.workers}x{args.threads})" if args.server == "cockpit" \
        else f"citybrain api (uvicorn, {args.workers} workers)"
    print(f"\n{args.clients} clients {f'sending {args.rate:.0f} calls/s together' if args.rate else 'each as fast as answered'} "
          f"for {seconds:.0f} s against {served} "
          f"(rate limit {args.rate_limit!r} per grant and worker; one grant per interface, one key per client){'; code of ' + str(args.tree) if args.tree != ROOT else ''}")
    print(f"answered {len(answered):,} calls: {len(answered) / seconds:.1f} calls/s; "
          f"p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {max(lat, default=float('nan')):.1f} ms")
    print("by status: " + ", ".join(f"{'no answer' if s == 0 else s}: {n:,}" for s, n in sorted(statuses.items())))
    windows: dict[int, list[float]] = collections.defaultdict(list)
    for c in answered:
        windows[int(c[3] // 10)].append(c[2])
    print("answered calls by when they finished, calls/s p50/p95 ms: " + "; ".join(
        f"{w * 10}-{w * 10 + 10} s {len(v) / min(10, seconds - w * 10):.0f} {pct(v, 50):.0f}/{pct(v, 95):.0f}"
        for w, v in sorted(windows.items())
        if w * 10 < seconds))
    others = busy - server_cpu - client_cpu
    print(f"CPU over {wall:.1f} s: server {server_cpu:.1f} s ({server_cpu / wall:.2f} cores, "
          f"{server_cpu / max(1, len(answered)) * 1000:.2f} ms a call), load client {client_cpu:.1f} s "
          f"({client_cpu / wall:.2f} cores), everything else on the machine {max(0.0, others):.1f} s "
          f"({max(0.0, others) / wall:.2f} cores); load average {loads[0]:.1f} before, {loads[1]:.1f} after")

    logged, _ = logged_since(root, mark)
    cases = collections.Counter(case for _, case in logged)
    ours = {c[0] for c in calls}
    answered_cases = {c[0] for c in answered}
    no_answer = {c[0] for c in calls if c[1] == 0}
    refused = {c[0] for c in calls if c[1] not in (0, 200)}
    missing = answered_cases - set(cases)
    twice = [c for c, n in cases.items() if n > 1]
    in_flight_logged = no_answer & set(cases)
    strangers = set(cases) - ours
    print(f"access log: {len(logged):,} api entries added during the run; answered calls {len(answered_cases):,}; "
          f"answered and logged {len(answered_cases & set(cases)):,}; missing {len(missing)}; logged twice {len(twice)}; "
          f"refused but logged {len(refused & set(cases))}; entries of no call of this run {len(strangers)}")
    if killed:
        pid, at = killed
        print(f"kill -9 of worker {pid} at {at:.1f} s: {len(no_answer)} calls got no answer (their connection dropped); "
              f"{len(in_flight_logged)} of them are in the log: committed before the worker died, the answer never sent "
              f"(logged, not answered: a disclosure that did not happen is over-reported, never under-reported)")
    count, broken = OpsStore(root).verify_audit_chain()
    print(f"chain: {count:,} entries, {'intact' if broken is None else f'BROKEN at entry {broken}'}")
    ok = not missing and not twice and not (refused & set(cases)) and broken is None \
        and len(logged) == len(answered_cases) + len(in_flight_logged)
    print(f"log count = answers{' + logged in flight' if killed else ''}: {'yes' if ok else 'NO'}; "
          f"target >= 500 calls/s and p95 <= 50 ms: {'met' if len(answered) / seconds >= 500 and pct(lat, 95) <= 50 else 'not met'}")


if __name__ == "__main__":
    main()
