"""Fixtures of the warehouse's suites."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import run_to_alerts


@pytest.fixture(scope="session")
def tiny(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """The tiny city ingested, its libraries built, its indicators and alerts computed, once:
    tests read it; one that changes it works on a copy."""
    home = tmp_path_factory.mktemp("marts") / "h"
    shutil.copytree(tiny_city, home)
    return home, run_to_alerts(home)
