"""A published tiny city with one user per role (and a markup-named rejected row), for the
cockpit's HTTP and browser tests; each test module gets its own copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import AS_OF, CITIZENS, EVIL, FORMULA, PASSWORD, USERS, refreshed_copy

from cockpit.auth import add_user
from warehouse.ops.store import OpsStore


@pytest.fixture(scope="module")
def home(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    def plant_markup(h: Path) -> None:
        # Two psb rows of one person that will be rejected (bad district): one whose name is
        # markup, one whose name is a spreadsheet formula.
        folder = h / "landing" / "psb" / "household_events" / "2026-11-20"
        (folder / "extra.csv").write_text(
            "event_id,id_number,name,gender,birth_date,ethnicity,district_code,event_type,event_date\n"
            f"EVIL1,11010519491231002X,{EVIL},2,1949-12-31,01,999999,update,2026-11-20\n"
            f"EVIL2,11010519491231002X,{FORMULA},2,1949-12-31,01,999999,update,2026-11-20\n", encoding="utf-8")

    h = refreshed_copy(tiny_city, tmp_path_factory.mktemp("cockpit") / "h", before_refresh=plant_markup)
    store = OpsStore(h)
    for name, (role, scope) in USERS.items():
        add_user(store, name, PASSWORD, role, scope)
    for name, id_number in CITIZENS.items():
        add_user(store, name, PASSWORD, "citizen", None, id_number)
    return h


@pytest.fixture(scope="module")
def past_day(home: Path) -> str:
    """A second, earlier day in the serving folder: the warehouse published again with the clock
    two days back (a real snapshot, as a refresh on that day would have left), while the
    refresh's own snapshot stays current. Returns that day (YYYY-MM-DD)."""
    import datetime as dt

    import duckdb

    from warehouse.serving.publish import POINTER, current, publish

    serving = home / "serving"
    now = current(serving)
    clock = dt.datetime.fromisoformat(AS_OF) - dt.timedelta(days=2)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        publish(con, serving, clock, run_id="past-day")
    finally:
        con.close()
    (serving / f".{POINTER}.test").write_text(now.name, encoding="utf-8")
    (serving / f".{POINTER}.test").replace(serving / POINTER)  # the refresh's snapshot is current again
    return clock.date().isoformat()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium driven through Playwright (skipped when either is missing)."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CITYBRAIN_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium,
                              args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def session(browser, cockpit_url: str) -> Iterator:
    """Open a signed-in browser session on the module's served cockpit (``cockpit_url``):
    ``session(user, viewport=..., lang=...)``; every session opened is closed after the test."""
    from browsing import Session

    opened: list[Session] = []

    def open_as(user: str, **kw) -> Session:
        opened.append(Session(browser, cockpit_url, user, **kw))
        return opened[-1]

    yield open_as
    for s in opened:
        s.close()
