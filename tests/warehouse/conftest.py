"""Fixtures of the warehouse's suites."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import run_to_alerts


@pytest.fixture(scope="module")
def tiny(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """The tiny city ingested, its libraries built, its indicators and alerts computed, once per
    test module: a module's tests share it (one of the alerts' plants a late delivery in it), so
    no module sees what another's tests did."""
    home = tmp_path_factory.mktemp("marts") / "h"
    shutil.copytree(tiny_city, home)
    return home, run_to_alerts(home)
