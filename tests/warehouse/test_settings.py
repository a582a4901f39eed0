"""The deployment's settings: every variable declared once (``warehouse/settings.py``), with a
default and a meaning, listed in the docs, refused plainly when unusable, read once per
process and at import by no module but the code location's (pipelines.definitions builds its
definitions when Dagster loads it), and read by nobody else; the Dagster code location and the
cockpit receive them from their factories."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets.resources import WarehouseResource
from pipelines.definitions import build_definitions
from warehouse.settings import VARIABLES, SettingError, Settings, markdown_table, settings

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ("warehouse", "cockpit", "api", "assets", "pipelines", "citybrain", "scripts")

# Reading (or writing) the process environment: os.environ, os.getenv, a bare environ, a CLI
# option's envvar= (typer and click read the variable themselves).
READS_ENVIRONMENT = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|(?<![.\w])environ\s*[\[.(]|\benvvar\s*=")
# The only places allowed to touch the environment, and why.
MAY_TOUCH_ENVIRONMENT = {
    "warehouse/settings.py": "the one reader, and the environment a child process is started with",
    "warehouse/marts/forecasts.py": "sets the BLAS thread count its spawned forecast workers inherit "
                                    "(numpy reads it there at import; not a setting of the platform)",
}
# Names that look like variables and are not.
NOT_VARIABLES = {"CITYBRAIN_HOTLINE": "the NATS stream's name (CONTRACT §6)"}


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE for p in (ROOT / d).rglob("*.py"))


def test_nothing_but_the_settings_reads_the_environment() -> None:
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in _sources()
             if str(p.relative_to(ROOT)) not in MAY_TOUCH_ENVIRONMENT
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if READS_ENVIRONMENT.search(line)]
    assert not found, "read the settings (warehouse/settings.py) instead:\n" + "\n".join(found)
    for allowed in MAY_TOUCH_ENVIRONMENT:
        assert READS_ENVIRONMENT.search((ROOT / allowed).read_text(encoding="utf-8")), f"{allowed} no longer needs to be allowed"


def test_every_variable_named_in_the_source_is_a_declared_setting() -> None:
    declared = {v.name for v in VARIABLES}
    named = {(m, str(p.relative_to(ROOT))) for p in _sources()
             for m in re.findall(r"\b(?:CITYBRAIN_[A-Z0-9_]+|DAGSTER_HOME)\b", p.read_text(encoding="utf-8"))}
    unknown = sorted((name, where) for name, where in named if name not in declared and name not in NOT_VARIABLES)
    assert not unknown, f"declare these in warehouse/settings.py: {unknown}"


def test_every_variable_is_declared_once_with_a_default_and_a_meaning() -> None:
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
    for v in VARIABLES:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", v.name), v.name
        assert v.default.strip(), f"{v.name} shows no default"
        assert len(v.meaning) > 20 and v.meaning.endswith("."), f"{v.name}: say what it means, in a sentence"
    fields = {f for f in Settings.__dataclass_fields__ if f != "given"}
    assert fields == {v.attr for v in VARIABLES}, "every field of Settings is read from one variable"
    assert {"CITYBRAIN_OPS_URL", "CITYBRAIN_ICEBERG_URI", "CITYBRAIN_ICEBERG_WAREHOUSE", "CITYBRAIN_NATS_URL"} <= set(names)


def test_the_docs_list_every_setting_as_declared() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, "docs/operations.md, Settings: paste the output of python -m warehouse.settings"
    for v in VARIABLES:
        assert f"`{v.name}`" in doc


def test_defaults_hold_until_a_variable_sets_a_value() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"CITYBRAIN_LANDING_INTERVAL": "", "CITYBRAIN_HOME": "  "}) == Settings()  # empty is unset
    s = Settings.from_env({"CITYBRAIN_HOME": "/srv/city", "CITYBRAIN_LANDING_INTERVAL": "30", "CITYBRAIN_SECURE_COOKIES": "1",
                           "CITYBRAIN_TRUSTED_PROXIES": "2", "CITYBRAIN_SNAPSHOT_DAYS": "0", "UNRELATED": "x"})
    assert (s.home, s.landing_interval, s.secure_cookies, s.trusted_proxies, s.snapshot_days) == (Path("/srv/city"), 30, True, 2, 0)
    assert s.given == {"CITYBRAIN_HOME", "CITYBRAIN_LANDING_INTERVAL", "CITYBRAIN_SECURE_COOKIES", "CITYBRAIN_TRUSTED_PROXIES",
                       "CITYBRAIN_SNAPSHOT_DAYS"}
    secret = Settings.from_env({"CITYBRAIN_EXECUTOR": "celery", "CITYBRAIN_CELERY_BROKER": "pyamqp://u:hunter2@mq//",
                                "CITYBRAIN_CELERY_BACKEND": "rpc://"})
    assert "hunter2" not in repr(secret)  # settings may be logged; passwords stay out


@pytest.mark.parametrize("name, value", [
    ("CITYBRAIN_LANDING_INTERVAL", "abc"), ("CITYBRAIN_LANDING_INTERVAL", "0"), ("CITYBRAIN_SNAPSHOT_DAYS", "-1"),
    ("CITYBRAIN_SNAPSHOT_NEWEST", "0"), ("CITYBRAIN_TRUSTED_PROXIES", "one"), ("CITYBRAIN_SECURE_COOKIES", "maybe"),
    ("CITYBRAIN_EXECUTOR", "threads"), ("CITYBRAIN_DAGSTER_URL", "dagster:3000"), ("CITYBRAIN_OPS_URL", "mysql://db/ops"),
])
def test_a_value_that_cannot_be_used_is_refused_with_the_variables_name(name: str, value: str) -> None:
    with pytest.raises(SettingError, match=f"^{name}="):
        Settings.from_env({name: value})


def test_celery_needs_its_broker_and_backend() -> None:
    with pytest.raises(SettingError, match="CITYBRAIN_CELERY_BROKER is required"):
        Settings.from_env({"CITYBRAIN_EXECUTOR": "celery"})


def test_the_command_line_stops_plainly_on_a_bad_setting(tmp_path: Path) -> None:
    env = {**os.environ, "CITYBRAIN_LANDING_INTERVAL": "abc"}
    out = subprocess.run([sys.executable, "-m", "citybrain", "refresh", "--home", str(tmp_path)], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "CITYBRAIN_LANDING_INTERVAL='abc'" in out.stderr and "Traceback" not in out.stderr


def test_settings_are_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_LANDING_INTERVAL", "7")
    first = settings()
    monkeypatch.setenv("CITYBRAIN_LANDING_INTERVAL", "8")
    assert settings() is first and first.landing_interval == 7


def test_nothing_reads_the_settings_at_import() -> None:
    """Every module imports with an unusable setting; only building the code location reads them."""
    modules = ["warehouse.storage.home", "warehouse.contract.city", "warehouse.ops.retention", "warehouse.storage.failpoints",
               "assets.resources", "pipelines.jobs", "pipelines.sensors", "pipelines.run", "citybrain.serve", "citybrain.cli"]
    env = {**os.environ, "CITYBRAIN_LANDING_INTERVAL": "abc"}
    code = f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\nimport pipelines.definitions"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "SettingError: CITYBRAIN_LANDING_INTERVAL='abc'" in last
    assert "pipelines/definitions.py" in out.stderr and "pipelines/sensors.py" not in out.stderr


def test_the_code_location_takes_its_settings_from_the_factory() -> None:
    defs = build_definitions(Settings(landing_interval=30))
    assert defs.resolve_sensor_def("landing_sensor").minimum_interval_seconds == 30
    assert defs.resolve_job_def("daily_refresh").executor_def.name == "in_process"
    celery = build_definitions(Settings.from_env({"CITYBRAIN_EXECUTOR": "celery", "CITYBRAIN_CELERY_BROKER": "pyamqp://mq//",
                                                  "CITYBRAIN_CELERY_BACKEND": "rpc://"}))
    assert {celery.resolve_job_def(j).executor_def.name for j in ("daily_refresh", "indicators_refresh")} == {"celery"}


def test_the_warehouse_resource_names_the_variable_the_environment_sets(tmp_path: Path, monkeypatch) -> None:
    """Set, the resource names CITYBRAIN_HOME (Dagster resolves it where the run executes); unset,
    it holds the setting's default, since Dagster refuses a run whose EnvVar is unset."""
    assert WarehouseResource.from_settings(Settings()).home == "citybrain_home"
    named = WarehouseResource.from_settings(Settings.from_env({"CITYBRAIN_HOME": str(tmp_path)}))
    assert isinstance(named.home, dg.EnvVar) and named.home.env_var_name == "CITYBRAIN_HOME"

    @dg.asset
    def where(warehouse: WarehouseResource) -> str:
        return str(warehouse.paths.root)

    monkeypatch.setenv("CITYBRAIN_HOME", str(tmp_path))
    result = dg.materialize([where], resources={"warehouse": named})
    assert result.output_for_node("where") == str(tmp_path.resolve())
