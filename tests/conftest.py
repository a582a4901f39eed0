"""Fixtures shared by the suites: small generated cities, built once per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import make_city  # noqa: E402

from warehouse.settings import settings  # noqa: E402


@pytest.fixture(autouse=True)
def _settings_read_afresh() -> Iterator[None]:
    """Each test's process settings read from the environment as that test leaves it
    (``monkeypatch.setenv``): a process reads them once, and a test stands for a process."""
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def tiny_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny city (seed 1), generated once; tests that change it must copy it."""
    return make_city(tmp_path_factory.mktemp("tiny"), seed=1)
