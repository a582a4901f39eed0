"""The cockpit over HTTP: sign-in, and forged callback requests across roles and scopes get nothing."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from helpers import AS_OF, EVIL, PASSWORD, dash_call, sign_in

from cockpit.app import create_app
from cockpit.auth import add_user
from cockpit.data import KPIS
from pipelines.run import run_daily_job
from warehouse.ops.store import OpsStore
from warehouse.storage.home import Home


@pytest.fixture(scope="module")
def app(home: Path):
    return create_app(Home.resolve(home))



def _client(app, user: str | None, lang: str = "zh"):
    c = app.server.test_client()
    c.set_cookie("cb_lang", lang)
    if user:
        r = sign_in(c, user)
        assert r.status_code == 302, r.data[:300]
    return c


def _page(client, app, path: str) -> str:
    r = dash_call(client, app, "_pages_content.children", [path, ""], [])
    return json.dumps(json.loads(r.get_data(as_text=True)), ensure_ascii=False)


def test_sign_in_is_required_and_rate_limited(app, home: Path) -> None:
    anon = _client(app, None)
    assert anon.get("/").status_code == 302
    assert dash_call(anon, app, "ov-kpis.children", [None]).status_code == 401
    bad = app.server.test_client()
    codes = [sign_in(bad, "ana", "wrong").status_code for _ in range(5)]
    assert codes == [401] * 5
    # Even the right password is refused once the limit is reached, from that address.
    assert sign_in(bad, "ana").status_code == 429
    OpsStore(home).clear_failures("ana")


def test_the_district_boundaries_are_served_to_signed_in_users_only(app) -> None:
    assert _client(app, None).get("/geo/districts.geojson").status_code == 302  # to the sign-in page
    r = _client(app, "boss").get("/geo/districts.geojson")
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    assert len(r.get_json()["features"]) == 13 and len(r.data) < 100_000


def test_pages_are_refused_to_roles_that_may_not_open_them(app) -> None:
    steward = _client(app, "police")
    assert "无权访问" in _page(steward, app, "/audit")
    assert "无权访问" in _page(steward, app, "/")
    assert "无权访问" not in _page(steward, app, "/ingestion")
    manager = _client(app, "boss")
    assert "无权访问" in _page(manager, app, "/ingestion")
    assert "无权访问" not in _page(manager, app, "/")
    # The overview's data callback is refused to a steward even when forged.
    assert dash_call(steward, app, "ov-kpis.children", [None]).status_code == 204


def test_a_steward_gets_only_their_departments_rejected_rows_and_every_view_is_audited(app, home: Path) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    psb_delivery = con.execute("SELECT delivery_id FROM ingest.deliveries WHERE file_name = 'extra.csv'").fetchone()[0]
    con.close()
    store = OpsStore(home)

    def person_level() -> list[dict]:
        return [e for e in store.access_log() if e["action"].endswith("rejected_rows")]

    before = len(person_level())
    doctor = _client(app, "doctor", "en")
    r = dash_call(doctor, app, "in-rows.children", [1], [psb_delivery, "checking", "data_correction"])
    assert EVIL not in r.get_data(as_text=True) and "No rejected rows of your department" in r.get_data(as_text=True)
    assert len(person_level()) == before, "nothing shown, nothing logged"
    police = _client(app, "police", "en")
    # A purpose and a legal basis are both required.
    for purpose, basis in (("", "data_correction"), ("fix and resubmit", None), ("fix and resubmit", "because")):
        answer = dash_call(police, app, "in-rows.children", [1], [psb_delivery, purpose, basis]).get_data(as_text=True)
        assert "Enter a delivery id, a purpose and the legal basis" in answer
    r = dash_call(police, app, "in-rows.children", [1], [psb_delivery, "fix and resubmit", "data_correction"])
    body = r.get_data(as_text=True)
    assert "Unknown district (district_code)" in body and "unknown_district" not in body  # the reason's name, not its code
    # The markup arrives as a string inside a DataTable's data: rendered as text, never as HTML.
    payload = json.loads(body)
    table = payload["response"]["in-rows"]["children"]
    assert table["type"] == "DataTable" and EVIL in json.dumps(table["props"]["data"], ensure_ascii=False)
    log = person_level()
    assert len(log) == before + 1 and log[0]["username"] == "police" and log[0]["subjects"] == 1
    assert (log[0]["scope"], log[0]["legal_basis"], log[0]["purpose"]) == ("psb", "data_correction", "fix and resubmit")
    # The auditor finds it by identity number, matched through the keyed hash.
    assert store.access_log("11010519491231002x")[0]["delivery_id"] == psb_delivery
    assert "11010519491231002X" not in (home / "ops.sqlite").read_bytes().decode("latin-1")
    auditor = _client(app, "aud")
    assert "in-rows" not in _page(auditor, app, "/ingestion")


def test_a_district_manager_cannot_read_another_district(app) -> None:
    xihu = _client(app, "xihu")
    r = json.loads(dash_call(xihu, app, "ex-graph.figure", [["cert.usage"], ["330102"], None, None]).get_data(as_text=True))
    assert r["response"]["ex-graph"]["figure"]["data"] == []
    r = json.loads(dash_call(xihu, app, "ex-graph.figure", [["cert.usage"], ["330106"], None, None]).get_data(as_text=True))
    assert r["response"]["ex-graph"]["figure"]["data"]
    boss = _client(app, "boss")
    r = json.loads(dash_call(boss, app, "ex-graph.figure", [["cert.usage"], ["330102"], None, None]).get_data(as_text=True))
    assert r["response"]["ex-graph"]["figure"]["data"]


def test_service_requests_are_scoped_and_never_name_the_caller(app, home: Path) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    callers = [r[0] for r in con.execute(
        "SELECT DISTINCT caller_id_number FROM staging.service_requests WHERE caller_id_number IS NOT NULL").fetchall()]
    overdue = con.execute("SELECT district_code, handler, ticket_no FROM service.tickets WHERE status = 'open' AND due_at < ?",
                          [AS_OF]).fetchall()
    con.close()
    assert callers and overdue, "the tiny city has callers and overdue requests"
    for user, keep in (("boss", lambda d, h: True), ("xihu", lambda d, h: d == "330106"), ("police", lambda d, h: h == "psb")):
        r = dash_call(_client(app, user), app, "sv-overdue.data", [1])
        assert r.status_code == 200, (user, r.get_data(as_text=True)[:300])
        out = json.loads(r.get_data(as_text=True))["response"]
        assert sorted(row["ticket_no"] for row in out["sv-overdue"]["data"]) == sorted(t for d, h, t in overdue if keep(d, h))
        text = json.dumps(out, ensure_ascii=False)
        assert not any(c in text for c in callers), "a caller's identity number reached the page"
    # Roles without the page get nothing, even from a forged callback.
    for user in ("ana", "aud"):
        assert dash_call(_client(app, user), app, "sv-overdue.data", [1]).status_code == 204


def test_a_handling_departments_steward_starts_on_its_requests(app, home: Path) -> None:
    """The urban management bureau delivers no feed: its steward lands on the requests it handles."""
    client = app.server.test_client()
    r = sign_in(client, "roads")
    assert r.status_code == 302 and r.headers["Location"].endswith("/service")
    out = json.loads(dash_call(_client(app, "roads"), app, "sv-overdue.data", [1]).get_data(as_text=True))["response"]
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    mine = {t for (t,) in con.execute("SELECT ticket_no FROM service.tickets WHERE status = 'open' AND due_at < ? AND handler = 'urban'",
                                      [AS_OF]).fetchall()}
    con.close()
    assert {row["ticket_no"] for row in out["sv-overdue"]["data"]} == mine
    assert [row["handler"] for row in out["sv-handlers"]["data"]] == ["城市管理局"]
    with pytest.raises(ValueError, match="not a department"):
        add_user(OpsStore(home), "nobody", PASSWORD, "steward", "roads")


def test_acknowledgements_are_scoped_and_reach_the_warehouse(app, home: Path) -> None:
    snap = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    city_alert = snap.execute("SELECT alert_id FROM marts.alerts WHERE status = 'open' AND owner_scope = 'dsb' LIMIT 1").fetchone()
    snap.close()
    assert city_alert, "the tiny city has open alerts for the data resources bureau"
    rows = [{"alert_id": city_alert[0]}]
    xihu = _client(app, "xihu", "en")
    assert "may not acknowledge" in dash_call(xihu, app, "al-result.children", [1], [rows, [0], "mine"]).get_data(as_text=True)
    boss = _client(app, "boss", "en")
    assert "Acknowledged" in dash_call(boss, app, "al-result.children", [1], [rows, [0], "on it"]).get_data(as_text=True)
    assert city_alert[0] in OpsStore(home).acknowledged_ids()
    with dg.instance_for_test() as instance:
        assert run_daily_job(Home.resolve(home), AS_OF, instance).success
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT status, acknowledged_by FROM marts.alerts WHERE alert_id = ?", city_alert).fetchone() == ("acknowledged", "boss")


@pytest.mark.parametrize("user, area", [("boss", "330100"), ("xihu", "330106")])
def test_overview_renders_the_callers_area(app, user: str, area: str) -> None:
    client = _client(app, user)
    r = dash_call(client, app, "ov-kpis.children", [None])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    out = json.loads(r.get_data(as_text=True))["response"]
    assert len(out["ov-kpis"]["children"]) == len(KPIS)  # the key indicators, each a card
    assert out["ov-map"]["figure"]["data"][0]["customdata"]
    # A district manager clicking another district stays in their own.
    pick = json.loads(dash_call(client, app, "ov-district.data", [{"points": [{"customdata": "330102"}]}, None, None]).get_data(as_text=True))
    assert pick["response"]["ov-district"]["data"] == ("330102" if user == "boss" else "330106")
    assert pick["response"]["ov-pick"]["value"] == pick["response"]["ov-district"]["data"]  # the list names the district shown
    title = json.dumps(out["ov-score"]["children"][0], ensure_ascii=False)
    assert ("西湖区" if user == "xihu" else "杭州市") in title
    # Two scores apart: how the city serves and grows, and how departments share data.
    score = json.dumps(out["ov-score"]["children"], ensure_ascii=False)
    assert "城市体征评分" in score and "数据共享健康度" in score and "1.0 = 达到目标" in score
    cards = json.dumps(out["ov-kpis"]["children"], ensure_ascii=False)
    # City-wide indicators show the city's value beside a district's own (labelled), never a blank.
    assert ("（全市）" in cards) == (user == "xihu")
