"""The platform's settings, every one declared once, here.

Two kinds, for two kinds of people:

- **Deployment settings**, chosen by whoever runs the platform, from the environment: where
  the data directory is, which city, how long snapshots are kept, how the pipelines run, how
  the cockpit reaches Dagster and trusts its proxy. Each is one field of :class:`Settings`
  below, declared with its variable, default and meaning; the table of variables
  (``VARIABLES``, and the one in docs/operations.md, made by ``python -m warehouse.settings``)
  is derived from those fields. They are read once per process, by :func:`settings`, when an
  entry point first asks: the Dagster code location when it loads (Dagster loads it by
  importing ``pipelines.definitions``, which builds ``defs`` at module level, so importing that
  one module reads them), the cockpit's app factory, the command line. No other module reads
  them at import (``tests/warehouse/test_settings.py`` checks it). They reach Dagster through
  its resources and executor config and the cockpit through its app factory. Nothing else reads the
  environment (``tests/warehouse/test_settings.py`` greps for it). A value that cannot be used stops the
  process with the variable's name and why.
- **The runtime setting**, changed while the platform runs, saved in the data directory:
  the time of day the daily refresh fires (``<home>/settings.json``, ``daily_refresh_at``,
  "HH:MM" in the schedule's time zone). An analyst changes it on the cockpit's console,
  which then asks Dagster to reload the code location; the schedule reads it when the
  definitions are built (``pipelines/jobs.py``), so the new time holds at once and after
  any restart. A missing or unreadable file means the default.

Adding a deployment setting is one field here (docs/extending.md, "Adding a setting").
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingError(ValueError):
    """A variable holds a value the platform cannot use; the message names the variable."""


@dataclass(frozen=True)
class Variable:
    """One environment variable: the field of :class:`Settings` it sets, its default (as the
    docs show it), what it means, and how its text becomes a value (raising ValueError)."""

    name: str
    default: str
    meaning: str
    parse: Callable[[str], object]
    attr: str = ""


# --------------------------------------------------------------------------- value parsers
def _text(raw: str) -> str:
    return raw


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _count(least: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            n = int(raw)
        except ValueError:
            raise ValueError("not a whole number") from None
        if n < least:
            raise ValueError(f"must be at least {least}")
        return n
    return parse


def _flag(raw: str) -> bool:
    word = raw.lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError("not 1 or 0 (true/false, yes/no, on/off)")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"not one of {', '.join(options)}")
        return raw
    return parse


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if urlsplit(raw).scheme not in schemes:
            raise ValueError(f"not a {' or '.join(s + '://' for s in schemes)} URL")
        return raw
    return parse


_RATE = re.compile(r"^[1-9][0-9]*/(second|minute|hour|day)$")


def _rates(raw: str) -> str:
    parts = [p.strip() for p in raw.split(";")]
    if not all(_RATE.match(p) for p in parts):
        raise ValueError("not limits such as 20/second or 20/second;10000/day (N/second, minute, hour or day)")
    return ";".join(parts)


def _setting(name: str, default: object, meaning: str, parse: Callable[[str], object], shown: str | None = None, *,
             secret: bool = False):
    """A field of :class:`Settings` read from the variable ``name`` (``shown``: the default in
    the docs' words, when the value itself would not say it; ``secret``: it may hold a password,
    so the settings' repr leaves it out)."""
    return field(default=default, repr=not secret,
                 metadata={"variable": Variable(name, shown if shown is not None else str(default), meaning, parse)})


# --------------------------------------------------------------------------- the deployment's settings
@dataclass(frozen=True)
class Settings:
    """The deployment's settings. ``Settings.from_env(env)`` reads them from a mapping (tests
    build one from a dict); :func:`settings` is this process's, read once."""

    # Where and what
    home: Path = _setting(
        "CITYBRAIN_HOME", Path("citybrain_home"),
        "The data directory: landing zone, warehouse, serving snapshots, operational store, keys. "
        "A relative path is taken from the working directory; `--home` overrides it.",
        _path, "`./citybrain_home`")
    city: Path | None = _setting(
        "CITYBRAIN_CITY", None,
        "The city served: a JSON file shaped like `warehouse/contract/cities/hangzhou.json`.",
        _path, "Hangzhou")
    # Pipelines
    landing_interval: int = _setting(
        "CITYBRAIN_LANDING_INTERVAL", 5,
        "Seconds between the landing sensor's looks at the landing zone (Dagster's daemon turns its "
        "sensor loop every 5 s, so less changes nothing).", _count(1))
    executor: str = _setting(
        "CITYBRAIN_EXECUTOR", "in_process",
        "Where the jobs' steps run: `in_process` (the run's own process) or `celery` (Celery workers; "
        "`docs/scaling.md`). The webserver, daemon and workers must agree.", _choice("in_process", "celery"),
        "`in_process`")
    celery_broker: str = _setting(
        "CITYBRAIN_CELERY_BROKER", "",
        "The Celery broker's URL (e.g. `pyamqp://user:pass@rabbitmq:5672//`); required with "
        "`CITYBRAIN_EXECUTOR=celery`, passed to Dagster's Celery executor by name.", _text, "none", secret=True)
    celery_backend: str = _setting(
        "CITYBRAIN_CELERY_BACKEND", "",
        "The Celery result backend's URL (e.g. `rpc://`); required with `CITYBRAIN_EXECUTOR=celery`, "
        "passed to Dagster's Celery executor by name.", _text, "none", secret=True)
    dagster_home: Path | None = _setting(
        "DAGSTER_HOME", None,
        "Dagster's instance folder (runs, schedules, sensor cursors; `dagster.yaml` is copied there "
        "when it has none). Dagster reads it itself: `citybrain` passes it to the Dagster services it starts.",
        _path, "`<home>/dagster`")
    # Serving
    snapshot_days: int = _setting(
        "CITYBRAIN_SNAPSHOT_DAYS", 90,
        "Days for which the last serving snapshot of each day is kept (the cockpit's time travel); "
        "0 keeps only the newest.", _count(0))
    snapshot_newest: int = _setting(
        "CITYBRAIN_SNAPSHOT_NEWEST", 3,
        "Serving snapshots kept whatever their day, newest first.", _count(1))
    # Cockpit
    dagster_url: str = _setting(
        "CITYBRAIN_DAGSTER_URL", "",
        "A Dagster webserver on TCP for the cockpit's pipeline pages (e.g. `http://dagster:3000`), "
        "instead of the private socket.", _url("http", "https"), "none")
    dagster_socket: Path | None = _setting(
        "CITYBRAIN_DAGSTER_SOCKET", None,
        "The unix socket on which the cockpit finds Dagster's webserver, when no URL is set.",
        _path, "`<home>/run/dagster.sock`")
    secure_cookies: bool = _setting(
        "CITYBRAIN_SECURE_COOKIES", False,
        "`1` behind a TLS-terminating proxy: the cockpit's cookies are sent over HTTPS only.", _flag, "`0`")
    trusted_proxies: int = _setting(
        "CITYBRAIN_TRUSTED_PROXIES", 0,
        "How many proxies in front of the cockpit are believed about the client's address "
        "(`X-Forwarded-For`, for sign-in lockout and the audit log).", _count(0))
    # Governed interfaces (api/)
    api_rate_limit: str = _setting(
        "CITYBRAIN_API_RATE_LIMIT", "20/second;10000/day",
        "How many calls the keys of one sharing grant may make together (a moving window; `;` joins several limits, each applying): "
        "more get 429 with Retry-After. Counted per cockpit worker process.", _rates, "`20/second;10000/day`")
    # Scale-out (CONTRACT §6), declared for the configuration that comes next
    ops_url: str = _setting(
        "CITYBRAIN_OPS_URL", "",
        "Reserved, not read yet: the operational store's database (`postgresql://...` for several hosts). "
        "Today the store is always SQLite at `<home>/ops.sqlite`.",
        _url("sqlite", "postgresql"), "SQLite at `<home>/ops.sqlite`", secret=True)
    iceberg_uri: str = _setting(
        "CITYBRAIN_ICEBERG_URI", "",
        "Reserved, not read yet: the Iceberg SQL catalog `citybrain` the warehouse will publish to.",
        _text, "SQLite at `<home>/iceberg/catalog.db`", secret=True)
    iceberg_warehouse: str = _setting(
        "CITYBRAIN_ICEBERG_WAREHOUSE", "",
        "Reserved, not read yet: where the Iceberg tables' files will be written.", _text, "`<home>/iceberg/`")
    nats_url: str = _setting(
        "CITYBRAIN_NATS_URL", "nats://127.0.0.1:4222",
        "The NATS server (JetStream) of the hotline stream (`citybrain stream` and `listen`, "
        "whose `--nats URL` overrides it).", _url("nats", "tls"), "`nats://127.0.0.1:4222`")
    # Tests
    failpoint: str = _setting(
        "CITYBRAIN_FAILPOINT", "",
        "Fault-injection tests only: the named crash point (`warehouse/storage/failpoints.py`) at which "
        "the process kills itself.", _text, "none")

    # Which variables the environment set (the other fields hold their defaults): Dagster's
    # resources name those variables (dg.EnvVar) rather than copy their values.
    given: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """The settings ``env`` sets; an empty variable is an unset one. Raises
        :class:`SettingError`, naming the variable, for a value that cannot be used."""
        values: dict[str, object] = {}
        given = set()
        for v in VARIABLES:
            raw = (env.get(v.name) or "").strip()
            if not raw:
                continue
            try:
                values[v.attr] = v.parse(raw)
            except ValueError as e:
                raise SettingError(f"{v.name}={raw!r}: {e}") from None
            given.add(v.name)
        out = cls(**values, given=frozenset(given))
        if out.executor == "celery":
            for v in (variable("celery_broker"), variable("celery_backend")):
                if v.name not in given:
                    raise SettingError(f"{v.name} is required with CITYBRAIN_EXECUTOR=celery")
        return out


VARIABLES: tuple[Variable, ...] = tuple(
    dataclasses.replace(f.metadata["variable"], attr=f.name) for f in dataclasses.fields(Settings) if "variable" in f.metadata
)


def variable(attr: str) -> Variable:
    """The variable that sets :class:`Settings` field ``attr``."""
    return next(v for v in VARIABLES if v.attr == attr)


@functools.cache
def settings() -> Settings:
    """This process's settings, read from its environment the first time they are asked for."""
    return Settings.from_env(os.environ)


def child_environment(**values: str) -> dict[str, str]:
    """The environment a child process (a Dagster service, the cockpit) starts with: this
    process's, with ``values`` (settings this process resolved, e.g. ``CITYBRAIN_HOME`` from
    ``--home``) replacing what it had, so the child reads the same settings."""
    return {**os.environ, **values}


def markdown_table() -> str:
    """The variables as the table in docs/operations.md ("Settings")."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(rows)


# --------------------------------------------------------------------------- the runtime setting
FILE = "settings.json"
SAVED_DEFAULTS = {"daily_refresh_at": "06:30"}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def saved(root: Path) -> dict:
    """The runtime settings saved in the data directory ``root``, defaults filled in."""
    try:
        on_disk = json.loads((root / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        on_disk = {}
    out = dict(SAVED_DEFAULTS)
    if isinstance(on_disk, dict) and valid_time(on_disk.get("daily_refresh_at")):
        out["daily_refresh_at"] = on_disk["daily_refresh_at"]
    return out


def valid_time(value) -> bool:
    """Whether ``value`` is a time of day, "HH:MM"."""
    return isinstance(value, str) and bool(_TIME.match(value))


def set_daily_refresh_at(root: Path, at: str) -> None:
    """Save the daily refresh's time ("HH:MM"); written whole or not at all."""
    if not valid_time(at):
        raise ValueError(f"not a time of day (HH:MM): {at!r}")
    values = {**saved(root), "daily_refresh_at": at}
    tmp = root / f".{FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(values, indent=2), encoding="utf-8")
    tmp.replace(root / FILE)


def daily_cron(root: Path) -> str:
    """The daily refresh's cron, from the saved time."""
    hours, minutes = saved(root)["daily_refresh_at"].split(":")
    return f"{int(minutes)} {int(hours)} * * *"


if __name__ == "__main__":
    print(markdown_table())
