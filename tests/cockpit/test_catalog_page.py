"""The catalog pages (/catalog and an entry's view) and the DCAT-AP export over HTTP, on a
served tiny city: every role finds the catalog, names rather than codes, filters that filter,
an entry with its facts, items, lineage and users; the officer's "Request access" (and why not
for data not shared), the owner's steward's edit saved through the store, another
department's steward refused even when forging the callback, and the export to anyone signed in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PASSWORD, dash_call, served, sign_in
from rdflib import RDF, Graph, Namespace

from cockpit.app import create_app
from cockpit.auth import add_user
from cockpit.roles import REGISTRY
from warehouse.ops.store import OpsStore
from warehouse.sharing import catalog
from warehouse.storage.home import Home

OFFICER = "clerk_cat"  # a civil-affairs officer (部门业务人员)
PERSONS = "library/population/persons"
DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture(scope="module")
def app(home: Path):
    add_user(OpsStore(home), OFFICER, PASSWORD, "officer", "civil")
    return create_app(Home.resolve(home))


def _client(app, user: str | None, lang: str = "zh"):
    c = app.server.test_client()
    c.set_cookie("cb_lang", lang)
    if user:
        assert sign_in(c, user).status_code == 302
    return c


def _page(client, app, search: str = "") -> str:
    r = dash_call(client, app, "_pages_content.children", ["/catalog", search], [])
    assert r.status_code == 200
    return json.dumps(json.loads(r.get_data(as_text=True)), ensure_ascii=False)


def _rows(client, app, search=None, department=None, sharing=None, kind=None) -> list[dict]:
    r = dash_call(client, app, "ca-table.rowData", [search, department, sharing, kind])
    assert r.status_code == 200
    return json.loads(r.get_data(as_text=True))["response"]["ca-table"]["rowData"]


def test_every_role_finds_the_catalog_with_names_not_codes(app) -> None:
    users = {"boss", "xihu", "ana", "police", "aud", "root", "zhang", OFFICER}
    assert len(users) == len(REGISTRY)  # one of each role
    declared = catalog.declared()
    for user in users:
        c = _client(app, user)
        assert "统一数据目录" in _page(c, app), user
        rows = _rows(c, app)
        assert len(rows) == len(declared), user
    rows = _rows(_client(app, OFFICER), app)
    names = {r["name"].split("](", 1)[0].lstrip("[") for r in rows}
    assert "户籍变动" in names and "人口库 · 人员" in names and "出生人数" in names
    assert not any(code in name for name in names for code in ("feed/", "library/", "household_events"))
    assert {r["sharing"] for r in rows} == {"无条件共享", "有条件共享", "不予共享"}
    assert "[人口库 · 人员](/catalog?entry=library/population/persons)" in {r["name"] for r in rows}
    english = _rows(_client(app, OFFICER, "en"), app)
    assert "[Population library · Persons](/catalog?entry=library/population/persons)" in {r["name"] for r in english}


def test_the_filters_filter(app) -> None:
    c = _client(app, OFFICER)
    declared = catalog.declared()
    not_shared = _rows(c, app, sharing="none")
    assert len(not_shared) == sum(e.sharing_class == "none" for e in declared.values()) > 0
    assert {r["kind"] for r in not_shared} == {"拒收记录"}
    psb = _rows(c, app, department="psb")
    assert len(psb) == sum(e.owner == "psb" for e in declared.values()) and {r["owner"] for r in psb} == {"公安局"}
    population = _rows(c, app, kind="library:population")
    assert len(population) == 2
    assert len(_rows(c, app, kind="indicator")) == sum(e.kind == "indicator" for e in declared.values())
    # A search matches names, descriptions and data items, in either language.
    assert {r["name"] for r in _rows(c, app, search="法定代表人")} >= {"[法人库 · 市场主体](/catalog?entry=library/legal_person/entities)"}
    assert _rows(c, app, search="no such thing anywhere") == []


def test_an_entry_shows_its_facts_items_lineage_and_the_officers_request(app) -> None:
    c = _client(app, OFFICER)
    body = _page(c, app, f"?entry={PERSONS}")
    for words in ("人口库 · 人员", "公安局", "有条件共享", "个人信息保护法", "每日", "数据新鲜度", "数据项", "数据血缘", "使用部门"):
        assert words in body, words
    assert '"href": "/requests?entry=library/population/persons"' in body and "申请使用" in body
    assert "ca-edit" not in body  # an officer edits nothing
    # Personal items are marked.
    page = json.loads(body)
    items = _find(page, "ca-items")["props"]["rowData"]
    marks = {i["name"]: i["personal"] for i in items}
    assert marks["id_number"] == "敏感个人信息" and marks["name"] == "个人信息" and marks["status"] == ""
    # The lineage is drawn, each node an entry's name with its code to open it.
    figure = _find(page, "ca-lineage")["props"]["figure"]
    nodes = figure["data"][1]
    assert PERSONS in nodes["customdata"] and "feed/psb/household_events" in nodes["customdata"]
    assert "户籍变动" in nodes["text"] and "library/legal_person/entities" in nodes["customdata"]
    # A click on a node opens its entry; a forged node opens nothing.
    r = dash_call(c, app, "ca-go.href", [{"points": [{"customdata": "feed/psb/household_events"}]}])
    assert json.loads(r.get_data(as_text=True))["response"]["ca-go"]["href"] == "/catalog?entry=feed/psb/household_events"
    assert dash_call(c, app, "ca-go.href", [{"points": [{"customdata": "javascript:alert(1)"}]}]).status_code == 204
    # Data that is not shared says why instead of offering a request.
    body = _page(c, app, "?entry=quarantine/psb/household_events")
    assert "ca-not-shared" in body and "该条目不予共享" in body and "ca-request" not in body
    assert "目录中没有该条目" in _page(c, app, "?entry=library/nowhere/at_all")


def _find(node, component_id: str):
    """The component with ``component_id`` in a serialised Dash layout."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        for value in node.values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _find(value, component_id)
            if found is not None:
                return found
    return None


def _save(client, app, code: str, **fields):
    values = {"desc_zh": None, "desc_en": None, "sharing": None, "basis": None, "opened": None, **fields}
    r = dash_call(client, app, "ca-result.children", [1],
                  [code, values["desc_zh"], values["desc_en"], values["sharing"], values["basis"], values["opened"]])
    text = r.get_data(as_text=True)
    return r.status_code, json.dumps(json.loads(text), ensure_ascii=False) if r.status_code == 200 else text


def test_the_owners_steward_edits_and_another_departments_is_refused(app, home: Path) -> None:
    store = OpsStore(home)
    police, doctor, officer = _client(app, "police"), _client(app, "doctor"), _client(app, OFFICER)  # signing in is logged
    assert "ca-edit" in _page(police, app, f"?entry={PERSONS}")
    assert "ca-edit" not in _page(doctor, app, f"?entry={PERSONS}")
    before = (len(store.catalog_edits()), len(store.access_log()))
    # Forged by another department's steward, and by an officer: refused, nothing written.
    status, body = _save(doctor, app, PERSONS, sharing="unconditional")
    assert status == 200 and "只有提供本条目的部门的数据专员可以编辑" in body
    status, _body = _save(officer, app, PERSONS, sharing="unconditional")
    assert "已保存" not in _body
    assert (len(store.catalog_edits()), len(store.access_log())) == before
    # The owner: a class other than unconditional without a basis is refused plainly ...
    status, body = _save(police, app, PERSONS, sharing="none", basis="")
    assert "须写明依据" in body and len(store.catalog_edits()) == before[0]
    # ... and saved with one; the entry, its history and the audit log show it.
    status, body = _save(police, app, PERSONS, sharing="none", basis="《户口登记条例》第三条：仅供公安机关使用",
                         desc_zh="人口综合库中每人一条当前记录。")
    assert "已保存" in body and "不予共享" in body
    assert catalog.entries(store=store)[PERSONS].sharing_class == "none"
    assert {e["field"] for e in store.catalog_edits(PERSONS)} == {"sharing_class", "sharing_basis", "description_zh"}
    assert store.access_log()[0]["action"] == "catalog_edit" and store.access_log()[0]["username"] == "police"
    # The officer now reads why it cannot be requested, in the owner's words.
    body = _page(officer, app, f"?entry={PERSONS}")
    assert "《户口登记条例》第三条" in body and "ca-request" not in body
    # The auditor reads the edit by the entry's name, not its code.
    audit = json.dumps(json.loads(dash_call(_client(app, "aud"), app, "au-table.rowData", [None]).get_data(as_text=True)),
                       ensure_ascii=False)
    assert "编辑目录条目" in audit and "目录条目 人口库 · 人员" in audit
    # Put back as it was (the module's other tests share the store).
    _save(police, app, PERSONS, sharing="conditional", basis="《中华人民共和国个人信息保护法》第十三条、第三十四条")


def test_the_dcat_ap_export_is_served_to_anyone_signed_in(app) -> None:
    assert _client(app, None).get("/catalog.jsonld").status_code == 302  # to the sign-in page
    for user in ("zhang", OFFICER, "root"):
        r = _client(app, user).get("/catalog.jsonld")
        assert r.status_code == 200 and r.mimetype == "application/ld+json", user
    g = Graph().parse(data=r.get_data(as_text=True), format="json-ld")
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == len(catalog.declared())
    assert len(set(g.subjects(RDF.type, DCAT.Catalog))) == 1


# --------------------------------------------------------------------------- in a browser

NO_HORIZONTAL_SCROLL_JS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
GRAPH_DRAWN_JS = "() => !!document.querySelector('#ca-lineage .main-svg')"


@pytest.fixture(scope="module")
def cockpit_url(app) -> Iterator[str]:
    with served(app.server) as url:
        yield url


def test_an_officer_finds_an_entry_on_a_phone(browser, cockpit_url: str) -> None:
    from browsing import Session

    s = Session(browser, cockpit_url, OFFICER, viewport=(390, 844))
    try:
        assert s.page.url.endswith("/catalog")  # where an officer lands
        s.page.wait_for_selector("#ca-table .ag-row")
        s.page.fill("#ca-search", "人员")
        s.page.wait_for_function("() => document.querySelectorAll('#ca-table .ag-row').length < 10")
        s.page.get_by_role("link", name="人口库 · 人员", exact=True).click()
        s.page.wait_for_selector("#ca-title")
        s.page.wait_for_function(GRAPH_DRAWN_JS)
        s.settle()
        assert s.page.inner_text("#ca-title") == "人口库 · 人员"
        assert s.page.locator("#ca-request").get_attribute("href") == "/requests?entry=library/population/persons"
        assert s.page.locator("#ca-edit").count() == 0
        assert "敏感个人信息" in s.page.inner_text("#ca-items")
        # The lineage names its nodes; the links under it lead to their entries.
        assert "户籍变动" in s.page.inner_text("#ca-lineage")
        s.page.get_by_role("link", name="人口库 · 人员历史版本", exact=True).click()
        s.page.wait_for_function("() => document.querySelector('#ca-title')?.innerText === '人口库 · 人员历史版本'")
        assert s.page.evaluate(NO_HORIZONTAL_SCROLL_JS)
        s.assert_clean()
    finally:
        s.close()


def test_a_steward_edits_an_entry_of_their_department(browser, cockpit_url: str, home: Path) -> None:
    from browsing import Session

    s = Session(browser, cockpit_url, "police")
    try:
        s.open("/catalog?entry=feed/psb/household_events")
        s.page.fill("#ca-desc-en", "Household register events, delivered by 06:00 each day.")
        s.page.click("#ca-save")
        s.page.wait_for_function("() => document.querySelector('#ca-result').innerText.includes('已保存')")
        assert "描述（英文）" in s.page.inner_text("#ca-result")
        assert "Household register events" in s.page.inner_text("#ca-history")
        # A class other than unconditional without a basis: refused, said plainly.
        s.choose("#ca-class-edit", "不予共享")
        s.page.fill("#ca-basis", "")
        s.page.click("#ca-save")
        s.page.wait_for_function("() => document.querySelector('#ca-result').innerText.includes('须写明依据')")
        s.assert_clean()
    finally:
        s.close()
    e = catalog.entries(store=OpsStore(home))["feed/psb/household_events"]
    assert e.description == "Household register events, delivered by 06:00 each day." and e.sharing_class == "conditional"
