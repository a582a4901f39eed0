"""A published tiny city served by the cockpit (with the interfaces under /api/), its officers,
a citizen who is in the population library, and grants made through the store as the request
pages make them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from calling import ITEMS, OFFICERS, OWNERS, STEWARDS, Clock, Granted, library
from helpers import PASSWORD, nothing, refreshed_copy, served

from cockpit.auth import add_user
from warehouse.ops.store import OpsStore
from warehouse.settings import Settings
from warehouse.storage.home import Home


@pytest.fixture(scope="module")
def home(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = refreshed_copy(tiny_city, tmp_path_factory.mktemp("api") / "h")
    store = OpsStore(h)
    for name, dept in OFFICERS.items():
        add_user(store, name, PASSWORD, "officer", dept)
    store.set_disabled("gone", True)
    for name, dept in STEWARDS.items():
        add_user(store, name, PASSWORD, "steward", dept)
    add_user(store, "aud", PASSWORD, "auditor", None)
    # A citizen the population library holds, deregistered (moved out or deceased) if any is.
    citizen = library(h, "SELECT id_number FROM population.persons ORDER BY status = 'registered', id_number LIMIT 1")[0][0]
    add_user(store, "wang", PASSWORD, "citizen", None, citizen)
    return h


@pytest.fixture(scope="module")
def store(home: Path) -> OpsStore:
    return OpsStore(home)


@pytest.fixture(scope="module")
def grant(store: OpsStore) -> Callable[..., Granted]:
    """Make a grant as the request pages do: an officer of ``department`` requests ``entry``'s
    ``items``, the owning department's steward approves, the officer takes a key."""

    def make(entry: str, items: list[str] | None = None, department: str = "civil", days: int = 30,
             purpose: str = "marriage registration: both parties' household status") -> Granted:
        owner = OWNERS[entry]
        officer = next(n for n, d in OFFICERS.items() if d == department)
        steward = next(n for n, d in STEWARDS.items() if d == owner)
        rid = store.add_share_request(entry_code=entry, owner=owner, sharing_class="conditional", items=items or ITEMS[entry],
                                      department=department, requester=officer, role="officer", purpose=purpose,
                                      scenario="marriage registration counter", legal_basis="Marriage Registration Regulations Art. 7",
                                      days=days)
        store.add_share_step(rid, "approve", actor=steward, role="steward", scope=owner)
        return Granted(store.issue_key(rid, actor=officer, role="officer", scope=department), rid, department)

    return make


@pytest.fixture(scope="module")
def cockpit_url(home: Path) -> Iterator[str]:
    """The cockpit served for real, the interfaces under /api/ (a rate limit the tests do not reach)."""
    from cockpit.app import create_app

    app = create_app(Home.resolve(home), Settings(dagster_url="http://127.0.0.1:9", api_rate_limit="1000/second"))
    with served(app.server) as url:
        yield url


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def strict_url(home: Path, clock: Clock) -> Iterator[str]:
    """The interfaces alone, mounted as the cockpit mounts them (over a WSGI app that answers
    404), with 3 calls a minute per key and a clock the test moves."""
    from api import create_api, mount

    api = create_api(Home.resolve(home), Settings(api_rate_limit="3/minute"), clock=clock)
    with served(mount(nothing, api)) as url:
        yield url
