"""The ``citybrain`` command line (CONTRACT §5)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from warehouse.ops.retention import DEFAULT_DAYS
from warehouse.settings import SettingError, settings
from warehouse.storage.home import Home, keep_private

app = typer.Typer(help="City Brain (城市大脑): ingest a city's feeds, build its libraries, indicators and cockpit.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data directory (default: CITYBRAIN_HOME, else ./citybrain_home).")]


class ScaleName(str, Enum):
    tiny = "tiny"
    small = "small"
    city = "city"


@app.callback()
def _root() -> None:
    """City Brain (城市大脑)."""
    keep_private()
    try:
        settings()  # read once, here: a setting that cannot be used stops every command plainly
    except SettingError as e:
        typer.echo(f"Error: {e} (docs/operations.md, \"Settings\")", err=True)
        raise typer.Exit(2) from None


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date (YYYY-MM-DD)") from None


@app.command()
def generate(
    home: HomeOpt = None,
    scale: Annotated[ScaleName, typer.Option(help="tiny ≈2k residents, small ≈100k, city ≈12.5M")] = ScaleName.tiny,
    days: Annotated[int | None, typer.Option(min=1, help="Days of deliveries (default: 14 tiny, 90 small, 1 city).")] = None,
    end: Annotated[str | None, typer.Option(help="Last business date, YYYY-MM-DD (default yesterday).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 42,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows copied with a planted defect.")] = 0.01,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    clean: Annotated[bool, typer.Option("--clean", help="No defects, no missing or late files, no planted inconsistencies.")] = False,
) -> None:
    """Write a synthetic city's deliveries into the landing zone, with the ground truth of its defects."""
    from citybrain.synth.generate import generate as run

    h = Home.resolve(home).ensure()
    summary = run(h.root, scale.value, days, _date(end), seed, defect_rate, progress=not quiet, clean=clean)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


def _as_of(text: str | None) -> str:
    if not text:
        return ""
    try:
        return dt.datetime.fromisoformat(text).isoformat(sep=" ", timespec="minutes")
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a time: use 'YYYY-MM-DD HH:MM'") from None


@app.command()
def refresh(
    home: HomeOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Clock for deadlines, 'YYYY-MM-DD HH:MM' (default now).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show Dagster's warnings and errors as they happen.")] = False,
) -> None:
    """Run the daily job (the one the schedule runs) over whatever the landing zone holds now."""
    from pipelines.run import failure_reason, run_daily_job
    from warehouse.ingest.schema import connect
    from warehouse.serving.publish import current

    clock = _as_of(as_of)
    h = Home.resolve(home).ensure()
    if not h.landing.is_dir() or not any(h.landing.iterdir()):
        typer.echo(f"The landing zone {h.landing} is empty: nothing to refresh. Try 'citybrain generate' first.", err=True)
    result = run_daily_job(h, clock, log_level="WARNING" if verbose else "CRITICAL")
    if not result.success:
        failed = [e for e in result.all_events if e.is_step_failure]
        for e in failed:
            typer.echo(f"step {e.step_key} failed: {failure_reason(e.step_failure_data.error)}", err=True)
        typer.echo("(the whole record is in the Dagster UI, or run again with --verbose)", err=True)
        raise typer.Exit(1)
    typer.echo(f"refresh finished (run {result.run_id[:8]})")
    with connect(h.warehouse, read_only=True) as con:
        for line in _refresh_report(con):
            typer.echo(line)
    snapshot = current(h.serving)
    typer.echo(f"serving snapshot: {snapshot}; open data: {h.root / 'open_data'}" if snapshot else
               "nothing published yet: no delivery has given the warehouse a day of data to show")


NatsOpt = Annotated[str | None, typer.Option("--nats", help="The NATS server (default: CITYBRAIN_NATS_URL).")]


def _nats_url(url: str | None) -> str:
    return url or settings().nats_url


@app.command()
def stream(
    rate: Annotated[float, typer.Option(min=0, help="Events published per second (0: as fast as the broker takes them).")],
    home: HomeOpt = None,
    nats: NatsOpt = None,
    days: Annotated[int, typer.Option(min=1, help="Days replayed, ending --end.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same events and surges.")] = 42,
    end: Annotated[str | None, typer.Option(help="Last day replayed, YYYY-MM-DD (default today).")] = None,
) -> None:
    """Publish the synthetic city's hotline events to the stream, with planted surges (truth/surges.json)."""
    from citybrain.synth.stream import stream as run

    h = Home.resolve(home).ensure()
    with _plain_failure("stream failed", ConnectionError):
        summary = run(h.root, _nats_url(nats), rate, days, seed, _date(end))
    typer.echo(json.dumps(summary, ensure_ascii=False))


@app.command()
def listen(
    home: HomeOpt = None,
    nats: NatsOpt = None,
    linger: Annotated[float, typer.Option(min=0.1, help="Seconds a batch gathers events before it is landed as files.")] = 30.0,
) -> None:
    """Land the platform's streams in the landing zone until SIGTERM (a later refresh ingests them)."""
    import asyncio

    from warehouse.stream.listen import AlreadyListening
    from warehouse.stream.listen import listen as run

    h = Home.resolve(home).ensure()
    url = _nats_url(nats)
    typer.echo(f"listening to {url} into {h.landing}")
    with _plain_failure("listen failed", ConnectionError, AlreadyListening):
        n = asyncio.run(run(h, url, linger_s=linger))
    typer.echo(f"stopped: {n} events landed")


def _refresh_report(con) -> list[str]:
    """What a refresh leaves in the warehouse, for the operator: the delivery ledger by
    status, why files were rejected whole, and the libraries and alerts where they exist (a
    landing zone with nothing ingestible leaves only the ledger)."""
    present = {f"{s}.{t}" for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    rows = con.execute(
        """SELECT status, count(*), sum(rows_read), sum(rows_accepted), sum(rows_rejected)
           FROM ingest.deliveries GROUP BY status ORDER BY status"""
    ).fetchall()
    if not rows:
        return ["the delivery ledger is empty: no file has landed yet"]
    out = ["deliveries in the ledger:"]
    out += [f"  {status:<11} {n:>6} files  {read or 0:>10} rows read  {acc or 0:>10} accepted  {rej or 0:>8} rejected"
            for status, n, read, acc, rej in rows]
    if not con.execute("SELECT count(*) FROM ingest.live_deliveries").fetchone()[0]:
        out.append("no delivery was accepted, so there are no libraries, indicators or alerts yet; files rejected whole:")
        out += [f"  {path}: {error}" for path, error in con.execute(
            "SELECT path, error FROM ingest.deliveries WHERE status = 'rejected' ORDER BY delivery_id DESC LIMIT 10").fetchall()]
        return out
    if {"population.persons", "legal_person.entities", "e_certificate.certificate_state", "quality.findings"} <= present:
        libs = con.execute(
            """SELECT (SELECT count(*) FROM population.persons), (SELECT count(*) FROM legal_person.entities),
                      (SELECT count(*) FROM e_certificate.certificate_state), (SELECT count(*) FROM quality.findings)"""
        ).fetchone()
        out.append(f"libraries: {libs[0]} persons, {libs[1]} entities, {libs[2]} certificates, {libs[3]} consistency findings")
    if "marts.alerts" in present:
        alerts = dict(con.execute("SELECT status, count(*) FROM marts.alerts GROUP BY status").fetchall())
        out.append(f"alerts: {alerts.get('open', 0)} open, {alerts.get('resolved', 0)} resolved")
    return out


users_app = typer.Typer(help="Cockpit users (stored in <home>/ops.sqlite, passwords hashed with argon2).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="A role of the cockpit (docs/security.md); an unknown one is refused with the list.")],
    scope: Annotated[str | None, typer.Option(help="District code or department, for a role limited to one.")] = None,
    id_number: Annotated[str | None, typer.Option(help="A citizen's identity number (kept only as its keyed hash).")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked for when omitted).")] = None,
    home: HomeOpt = None,
) -> None:
    """Create a cockpit user, or update its role, scope and password (which ends its sessions)."""
    from cockpit.auth import add_user
    from warehouse.ops.store import OpsStore

    h = Home.resolve(home).ensure()
    pw = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(OpsStore(h.root), name, pw, role, scope, id_number)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(f"user {name}: {role}" + (f" ({scope})" if scope else ""))


# Where the demo users limited to a district or a department are limited to: the district of
# the synthetic city's Xihu, and the police, whose rejected rows name the demo citizen.
DEMO_SCOPES = {"district": "330106", "department": "psb"}


@users_app.command("demo")
def users_demo(home: HomeOpt = None) -> None:
    """Create one demo user per role of the cockpit, all with one new password, and print them:
    each role's demo user (``demo_user`` on its registry entry, else the role's id), limited to
    Xihu or the police where its role is limited to a district or a department, and for a role
    limited to one person a citizen named in the police's rejected rows (none when the
    warehouse names nobody)."""
    import secrets

    from cockpit.auth import add_user
    from cockpit.roles import REGISTRY
    from warehouse.ops.store import OpsStore

    h = Home.resolve(home).ensure()
    store = OpsStore(h.root)
    pw = secrets.token_urlsafe(9)
    for role in REGISTRY.values():
        name, scope, id_number = role.demo_user or role.id, role.demo_scope or DEMO_SCOPES.get(role.scope or ""), None
        if role.scope == "person":
            id_number = _demo_citizen(h.warehouse, DEMO_SCOPES["department"])
            if not id_number:
                continue
        try:
            add_user(store, name, pw, role.id, scope, id_number)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
        typer.echo(f"user {name}: {role.id}" + (f" ({scope})" if scope else ""))
    typer.echo(f"password for every demo user: {pw}")


def _demo_citizen(warehouse: Path, department: str) -> str | None:
    """A valid identity number named in ``department``'s rejected rows (so its steward can open
    that citizen's record), else the first person's; None when the warehouse has neither."""
    import duckdb
    from stdnum.cn import ric

    if not warehouse.is_file():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rejected = con.execute("""
            SELECT i FROM (SELECT CASE WHEN json_valid(raw) THEN json_extract_string(raw, '$.id_number') END AS i
                           FROM ingest.rejected_rows JOIN ingest.deliveries USING (delivery_id) WHERE department = ?)
            WHERE regexp_full_match(i, '[0-9]{17}[0-9X]') ORDER BY i""", [department]).fetchall()
        persons = con.execute("SELECT id_number FROM population.persons ORDER BY id_number LIMIT 1").fetchall()
    finally:
        con.close()
    return next((i for (i,) in rejected + persons if ric.is_valid(i)), None)


audit_app = typer.Typer(help="The access audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(home: HomeOpt = None) -> None:
    """Check the access log's chain of keyed hashes; exit 1 naming the first entry that no longer matches."""
    from warehouse.ops.store import OpsStore

    checked, broken = OpsStore(Home.resolve(home).ensure().root).verify_audit_chain()
    if broken is not None:
        typer.echo(f"access log: entry {broken} of {checked} does not match its chain (edited, removed or inserted)", err=True)
        raise typer.Exit(1)
    typer.echo(f"access log: {checked} entries, chain intact")


@users_app.command("list")
def users_list(home: HomeOpt = None) -> None:
    """List cockpit users."""
    from warehouse.ops.store import OpsStore

    for u in OpsStore(Home.resolve(home).ensure().root).users():
        typer.echo(f"{u['username']:<20} {u['role']:<17} {u['scope'] or '':<8} {'disabled' if u['disabled'] else ''}")


@app.command()
def cockpit(
    home: HomeOpt = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8050,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(min=1, help="Server processes (gunicorn workers).")] = 2,
    threads: Annotated[int, typer.Option(min=1, help="Threads per process.")] = 4,
) -> None:
    """Serve the digital cockpit with gunicorn (reads only the serving snapshot)."""
    from cockpit.app import serve

    h = Home.resolve(home).ensure()
    typer.echo(f"cockpit: http://{host}:{port}  (data: {h.root}; {workers} processes x {threads} threads)")
    serve(h, port, host, workers, threads)


@app.command()
def api(
    home: HomeOpt = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8051,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(min=1, help="Server processes (uvicorn workers).")] = 2,
) -> None:
    """Serve the governed interfaces (/api/v1/) on a listener of their own, with uvicorn (the cockpit serves them too)."""
    from api.server import serve as serve_api

    h = Home.resolve(home).ensure()
    typer.echo(f"interfaces: http://{host}:{port}/api/v1/  (data: {h.root}; {workers} processes)")
    serve_api(h, port, host, workers)


@app.command()
def serve(
    home: HomeOpt = None,
    port: Annotated[int, typer.Option(help="The cockpit's port.")] = 8050,
    demo_users: Annotated[Path | None, typer.Option(help="A file of demo users to show once the platform is up.")] = None,
    api_port: Annotated[int | None, typer.Option(help="Also serve the interfaces (/api/v1/) on this port, with uvicorn "
                                                      "workers (`citybrain api`); they are always under the cockpit's port too.")] = None,
) -> None:
    """Serve the whole platform: the cockpit, Dagster's webserver (private socket) and daemon; Ctrl-C or SIGTERM stops it."""
    from citybrain.serve import serve_platform

    h = Home.resolve(home).ensure()
    notes = [f"  Demo users ({demo_users}):", *("    " + line for line in demo_users.read_text(encoding="utf-8").splitlines())] \
        if demo_users and demo_users.is_file() else []
    raise typer.Exit(serve_platform(h, port, notes, api_port))


@contextmanager
def _plain_failure(what: str, *errors: type[Exception]) -> Iterator[None]:
    """Turn the expected errors of a command into one line for the operator and exit code 1."""
    try:
        yield
    except errors as e:
        typer.echo(f"{what}: {e}", err=True)
        raise typer.Exit(1) from None


@app.command()
def backup(
    to: Annotated[Path, typer.Option("--to", help="A .tar file to write, or a folder to put a dated one in.")],
    home: HomeOpt = None,
) -> None:
    """Back up the warehouse, the serving snapshots, the operational store and the keys."""
    from warehouse.ops.backup import BackupError
    from warehouse.ops.backup import backup as run_backup

    h = Home.resolve(home)
    with _plain_failure("backup failed", BackupError):
        path = run_backup(h, to)
    typer.echo(f"backup of {h.root}: {path} ({path.stat().st_size / 2**20:.1f} MiB; it holds personal data and keys: keep it safe)")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="A backup written by 'citybrain backup'.")],
    home: HomeOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the data directory's existing warehouse.")] = False,
) -> None:
    """Restore a backup into the data directory (stop the cockpit and Dagster first)."""
    from warehouse.ops.backup import BackupError
    from warehouse.ops.backup import restore as run_restore

    h = Home.resolve(home)
    with _plain_failure("restore failed", BackupError):
        manifest = run_restore(archive, h, force=force)
    typer.echo(f"restored {len(manifest['files'])} files from the backup of {manifest['created_at']} into {h.root}")


@app.command()
def retention(
    by: Annotated[str, typer.Option("--by", help="The cockpit user who authorises the purge (one whose role may: the auditor's).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")],
    home: HomeOpt = None,
    days: Annotated[int, typer.Option(min=1, help="Keep rejected rows of the last N business days.")] = DEFAULT_DAYS,
) -> None:
    """Delete the original text of rejected rows older than --days (logged in the audit log)."""
    from cockpit.roles import Principal, role_of
    from warehouse.ingest.schema import connect
    from warehouse.ops.retention import purge_rejected_rows
    from warehouse.ops.store import OpsStore

    h = Home.resolve(home)
    before = dt.date.today() - dt.timedelta(days=days)
    with _plain_failure("retention refused", PermissionError, ValueError), connect(h.warehouse) as con:
        n = purge_rejected_rows(con, OpsStore(h.root), before=before, authorised_by=by, reason=reason,
                                may_authorise=lambda role: Principal(by, role).can("authorise_purge"),
                                acts_for=lambda role: getattr(role_of(role), "acts_for", None))
    typer.echo(f"deleted the original text of {n} rejected rows of business dates before {before} (logged for {by}); "
               "the serving snapshots that still hold them age out as new ones are published")


def main() -> None:  # pragma: no cover - console entry point
    app()
