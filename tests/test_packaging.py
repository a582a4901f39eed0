"""City Brain installs like any package: the wheel carries every SQL and data file the code
reads, and the code finds them through importlib.resources wherever it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("warehouse", "assets", "pipelines", "cockpit", "citybrain")


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


def test_an_unpacked_wheel_reads_its_sql_from_its_own_files(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = """
import duckdb, warehouse
from warehouse.contract.city import load_city
from warehouse.ingest.schema import connect
from warehouse.libraries.build import ensure_schema
from warehouse.marts.indicators.compute import catalog, ensure_schema as ensure_marts
print(warehouse.__file__)
con = connect("wh.duckdb")
ensure_schema(con)
ensure_marts(con)
print(len(load_city().districts), len(catalog()), con.execute("SELECT count(*) FROM marts.indicator_catalog WHERE definition <> ''").fetchone()[0])
"""
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("CITYBRAIN_CITY", None)
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    where, counts = done.stdout.strip().splitlines()
    assert Path(where).is_relative_to(site), f"imported from {where}, not from the unpacked wheel"
    districts, indicators, defined = map(int, counts.split())
    assert districts == 13 and indicators == defined > 0
