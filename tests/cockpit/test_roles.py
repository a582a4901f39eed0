"""The role registry (cockpit/roles.py): each role declared once, each page saying which
capability opens it, no role named anywhere else, and a new role being one entry.

The search for role ids spelt outside the registry covers the platform's folders and
``scripts/`` (Python and shell: ``scripts/up`` makes its demo users with ``citybrain users
demo``, one per registry entry). It leaves out ``tests/`` and ``bench/``: both play particular
roles on purpose (a benchmark measures what a city manager's, a district manager's or a
steward's pages cost, each with the data that role is limited to), so naming them there is
the point, not a second declaration of what a role may do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dash
import pytest
from helpers import PASSWORD, dash_call, sign_in

from cockpit import roles
from cockpit.app import create_app
from cockpit.auth import UserRefused, add_user, check_user
from cockpit.roles import CAPABILITIES, REGISTRY, Principal, Role, page_capabilities, roles_that
from warehouse.contract import labels
from warehouse.ops.store import OpsStore
from warehouse.storage.home import Home

ROOT = Path(__file__).parents[2]
# The folders of the platform itself and its scripts (the tests and benchmarks name roles
# freely: they play them).
SOURCE = ("cockpit", "warehouse", "api", "assets", "pipelines", "citybrain", "scripts")
# The registry's roles, and the one CONTRACT §6 announces before it is declared.
ROLE_IDS = (*REGISTRY, "officer")
QUOTED_ROLE = re.compile("([\"'])(" + "|".join(ROLE_IDS) + r")\1")
REFUSED = "无权访问"

# Who may open what (DESIGN "Roles"), written out by hand: changing who may see a page is a
# change of this table too, made on purpose. Separation of duties: the administrator manages
# users and reads no personal data; the auditor audits and changes no user; a citizen sees only
# who used their own data.
WHO_OPENS = {
    "/": {"city_manager", "district_manager"},
    "/service": {"city_manager", "district_manager", "steward"},
    "/explorer": {"analyst", "city_manager", "district_manager"},
    "/trace": {"analyst", "city_manager", "district_manager"},
    "/alerts": {"city_manager", "district_manager", "analyst", "steward"},
    "/ingestion": {"steward", "auditor"},
    "/audit": {"auditor"},
    "/runs": {"analyst"},
    "/users": {"admin"},
    "/my-data": {"citizen"},
    "/catalog": set(REGISTRY),  # every signed-in role (see_catalog)
    "/requests": {"officer", "steward", "city_manager", "auditor"},
}


@pytest.fixture(scope="module")
def app(home: Path):
    return create_app(Home.resolve(home))


def _pages() -> dict[str, tuple[str, ...]]:
    """Every registered page's path and the capabilities it declares (any one opens it)."""
    return {p["path"]: page_capabilities(p["path"]) for p in dash.page_registry.values()}


def test_no_role_is_named_outside_the_registry() -> None:
    """Code asks what the caller may do or how it is limited, never which role it is; each
    role's entry holds its name. A role id is spelt in quotes in Python, SQL and the like, and
    in shell as a word of its own (``--role steward``)."""
    shell_role = re.compile(r"(?<![\w.-])(" + "|".join(ROLE_IDS) + r")(?![\w.-])")
    assert len(ROLE_IDS) > 7 and len(SOURCE) == len(set(SOURCE))
    found = []
    for folder in SOURCE:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path == ROOT / "cockpit" / "roles.py" or "__pycache__" in path.parts:
                continue
            if path.suffix in (".py", ".sql", ".toml", ".yaml", ".yml", ".js"):
                hits = [m[2] for m in QUOTED_ROLE.finditer(path.read_text(encoding="utf-8"))]
            elif path.suffix in ("", ".sh") and path.read_text(encoding="utf-8").startswith("#!"):
                # Comments aside: they speak of roles in words ("one demo user per role").
                code = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:])
                hits = shell_role.findall(code)
            else:
                continue
            found += [f"{path.relative_to(ROOT)}: {h}" for h in hits]
    assert not found, found


def test_every_role_has_names_a_home_it_may_open_and_only_known_capabilities(app) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert len({r.names for r in REGISTRY.values()}) == len(REGISTRY)  # no two roles called alike
    pages = _pages()
    for r in REGISTRY.values():
        zh, en = r.names
        assert en == r.name and cjk.search(zh) and not cjk.search(en), (r.id, zh)  # translated in the catalog
        assert r.may <= CAPABILITIES.keys()
        for home in filter(None, (r.home, r.handler_home)):
            assert r.may & set(pages.get(home, ())), (r.id, home)
        assert r.default_indicator in labels.names("indicator"), r.id
    with pytest.raises(ValueError, match="unknown capabilities"):
        Role("nobody", name="Nobody", may={"see_everything"}, home="/")


def test_every_page_declares_a_capability_some_role_has(app) -> None:
    declared = {path: caps for path, caps in _pages().items() if path != "/404"}
    assert set(declared) == set(WHO_OPENS)
    for path, caps in declared.items():
        assert caps and all(cap in CAPABILITIES and roles_that(cap) for cap in caps), path
    # Every capability is held by a role: none is a dead word.
    assert {c for r in REGISTRY.values() for c in r.may} == set(CAPABILITIES)
    # An address no page declares opens for nobody; a misspelt capability fails loudly.
    assert page_capabilities("/404") == () and not any(Principal("x", r).may_open("/404") for r in REGISTRY)
    assert not Principal("x", "city_manager").may_open("/nowhere")
    with pytest.raises(KeyError):
        Principal("x", "city_manager").can("dispatch_alert")


def test_who_opens_what_is_the_designed_table(app) -> None:
    derived = {path: {r for cap in caps for r in roles_that(cap)} for path, caps in _pages().items() if caps}
    assert derived == WHO_OPENS
    for path, opening in WHO_OPENS.items():
        for r in REGISTRY:
            assert Principal("x", r).may_open(path) == (r in opening), (r, path)
    # A role the registry does not know (a user row from an older release) may do nothing.
    ghost = Principal("x", "retired_role")
    assert not ghost.can("see_alerts") and ghost.scope_kind is None and not any(ghost.may_open(p) for p in WHO_OPENS)


def _nav(client) -> list[str]:
    """The navigation's links in the page frame the caller is served."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and props.get("className") == "nav-link":
                found.append(props["href"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(client.get("/_dash-layout").get_data(as_text=True)))
    return found


def _page(client, app, path: str) -> str:
    return json.dumps(json.loads(dash_call(client, app, "_pages_content.children", [path, ""], []).get_data(as_text=True)),
                      ensure_ascii=False)


def test_a_new_role_is_one_entry(app, home: Path, monkeypatch) -> None:
    """A role declared at run time, its entry and nothing else: who may be it, where it lands,
    its navigation, the pages it opens and is refused, the users page and its name follow. (Its
    Chinese name would be one more entry in the translation catalog; without it the English shows.)"""
    inspector = Role("inspector", name="Inspector", scope="department", home="/ingestion",
                     may={"see_feed_health", "time_travel"})
    monkeypatch.setitem(REGISTRY, inspector.id, inspector)
    assert inspector.names == ("Inspector", "Inspector")

    with pytest.raises(UserRefused, match="needs a scope"):
        check_user("insp", PASSWORD, "inspector", None)
    add_user(OpsStore(home), "insp", PASSWORD, "inspector", "psb")
    client = app.server.test_client()
    signed_in = sign_in(client, "insp")
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/ingestion")
    assert _nav(client) == ["/ingestion"]
    assert REFUSED not in _page(client, app, "/ingestion") and REFUSED in _page(client, app, "/alerts")
    # Limited to its department as a steward is: the scope kind decides, not the role.
    from cockpit.data.scope import row_filter
    assert row_filter(roles.Principal("insp", "inspector", "psb")).department == "psb"
    # The administrator may make one.
    admin = app.server.test_client()
    assert sign_in(admin, "root").status_code == 302
    assert '"value": "inspector"' in _page(admin, app, "/users")
    OpsStore(home).set_disabled("insp", True)


def test_the_areas_a_caller_may_look_at_follow_its_scope_kind() -> None:
    """One place decides which areas a page offers and accepts: a district's users their
    district and the city's figures, with nothing to pick; anyone else every area."""
    from cockpit.data.scope import areas_for

    xihu = areas_for(Principal("x", "district_manager", "330106"), "330100")
    assert not xihu.may_pick and xihu.first == "330106" and xihu.chosen("330102") == "330106"
    assert xihu.among(["330100", "330102", "330106"]) == ["330100", "330106"] and not xihu.allows("330102")
    for role in ("city_manager", "analyst"):
        city = areas_for(Principal("x", role), "330100")
        assert city.may_pick and city.first == "330100" and city.chosen(None) == "330100" and city.chosen("330102") == "330102"
        assert city.among(["330100", "330102"]) == ["330100", "330102"]
