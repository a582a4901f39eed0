"""The cockpit over HTTP: sign-in, and forged callback requests across roles and scopes get nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import duckdb
import pytest
from helpers import AS_OF, EVIL, PASSWORD, dash_call, sign_in

from cockpit.app import create_app
from cockpit.auth import add_user
from warehouse.contract import labels
from warehouse.contract.feeds import FEEDS
from warehouse.marts.indicators.catalog import overview
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
    # The markup arrives as a string inside the grid's rows: AG Grid shows it as text, never as HTML.
    payload = json.loads(body)
    table = payload["response"]["in-rows"]["children"]
    assert table["type"] == "AgGrid" and EVIL in json.dumps(table["props"]["rowData"], ensure_ascii=False)
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
        r = dash_call(_client(app, user), app, "sv-overdue.rowData", [1])
        assert r.status_code == 200, (user, r.get_data(as_text=True)[:300])
        out = json.loads(r.get_data(as_text=True))["response"]
        assert sorted(row["ticket_no"] for row in out["sv-overdue"]["rowData"]) == sorted(t for d, h, t in overdue if keep(d, h))
        text = json.dumps(out, ensure_ascii=False)
        assert not any(c in text for c in callers), "a caller's identity number reached the page"
    # Roles without the page get nothing, even from a forged callback.
    for user in ("ana", "aud"):
        assert dash_call(_client(app, user), app, "sv-overdue.rowData", [1]).status_code == 204


def test_a_handling_departments_steward_starts_on_its_requests(app, home: Path) -> None:
    """The urban management bureau delivers no feed: its steward lands on the requests it handles."""
    client = app.server.test_client()
    r = sign_in(client, "roads")
    assert r.status_code == 302 and r.headers["Location"].endswith("/service")
    out = json.loads(dash_call(_client(app, "roads"), app, "sv-overdue.rowData", [1]).get_data(as_text=True))["response"]
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    mine = {t for (t,) in con.execute("SELECT ticket_no FROM service.tickets WHERE status = 'open' AND due_at < ? AND handler = 'urban'",
                                      [AS_OF]).fetchall()}
    con.close()
    assert {row["ticket_no"] for row in out["sv-overdue"]["rowData"]} == mine
    assert [row["handler"] for row in out["sv-handlers"]["rowData"]] == ["城市管理局"]
    with pytest.raises(ValueError, match="not a department"):
        add_user(OpsStore(home), "nobody", PASSWORD, "steward", "roads")


@pytest.mark.parametrize("user, area", [("boss", "330100"), ("xihu", "330106")])
def test_overview_renders_the_callers_area(app, user: str, area: str) -> None:
    client = _client(app, user)
    r = dash_call(client, app, "ov-kpis.children", [None])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    out = json.loads(r.get_data(as_text=True))["response"]
    assert len(out["ov-kpis"]["children"]) == len(overview())  # the key indicators, each a card
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


def test_forecasts_fan_out_in_the_explorer_and_on_the_cards_and_breaches_lead_the_next_7_days(app, home: Path) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    ahead = con.execute("""SELECT date, hi80, hi95 FROM marts.forecasts WHERE indicator_id = 'gov.rejection_rate'
                           AND district_code = '330100' AND issued_on = (SELECT max(issued_on) FROM marts.forecasts)
                           ORDER BY date""").fetchall()
    levels = con.execute("SELECT warn, critical FROM marts.indicator_catalog WHERE indicator_id = 'gov.rejection_rate'").fetchone()
    breaches = con.execute("""SELECT district_code, subject, strftime(date, '%Y-%m-%d') FROM marts.alerts
                              WHERE rule_id = 'forecast_breach' AND status = 'open'""").fetchall()
    forecast = set(con.execute("SELECT DISTINCT indicator_id, district_code FROM marts.forecasts").fetchall())
    con.close()
    assert ahead and breaches, "the tiny city forecasts its rejection rate and one breach"
    boss = _client(app, "boss")
    fig = json.loads(dash_call(boss, app, "ex-graph.figure", [["gov.rejection_rate"], ["330100"], None, None])
                     .get_data(as_text=True))["response"]["ex-graph"]["figure"]
    history, band95, band80, mean = fig["data"]
    assert band95["fill"] == band80["fill"] == "toself" and mean["line"]["dash"] == "dash"
    # The bands are the forecast's own bounds, day by day (the upper edge, then the lower back).
    assert band80["x"][:len(ahead)] == [str(d) for d, _, _ in ahead] and band80["y"][:len(ahead)] == [h80 for _, h80, _ in ahead]
    assert band95["y"][:len(ahead)] == [h95 for _, _, h95 in ahead]
    assert mean["x"][0] in history["x"] and mean["x"][1:] == [str(d) for d, _, _ in ahead]  # from the last day seen on
    layout = fig["layout"]
    assert sorted(s["y0"] for s in layout["shapes"] if s["yref"] == "y") == sorted(levels)  # warning and critical levels
    assert any(s["xref"] == "x" and s["x0"] == AS_OF[:10] for s in layout["shapes"])  # today
    assert {a["text"] for a in layout["annotations"]} - {"预警线", "警戒线", "今日"} == {"数据拒收率（%） · 全市"}  # the panel's heading
    # Dates that end before the forecast begins draw no fan.
    past = json.loads(dash_call(boss, app, "ex-graph.figure", [["gov.rejection_rate"], ["330100"], None, "2026-11-10"])
                      .get_data(as_text=True))["response"]["ex-graph"]["figure"]
    assert len(past["data"]) == 1 and not past["layout"]["shapes"]
    for user, district in (("boss", None), ("xihu", "330106")):
        out = json.loads(dash_call(_client(app, user), app, "ov-kpis.children", [None]).get_data(as_text=True))["response"]
        for link in out["ov-kpis"]["children"]:
            card = link["props"]["children"]  # each card is a link to its indicator's sources
            assert link["props"]["href"].startswith("/trace?")
            indicator = card["props"]["data-indicator"]
            area = "330100" if district is None or "（全市）" in card["props"]["children"][0]["props"]["children"] else district
            traces = card["props"]["children"][-1]["props"]["figure"]["data"]
            # A forecast indicator's card fans out (history, two bands, mean); the others are a line.
            assert len(traces) == (4 if (indicator, area) in forecast else 1), (user, indicator, len(traces))
        # The next 7 days: the open forecast breaches in the reader's scope, named, with their first day.
        outlook = json.dumps(out["ov-outlook"]["children"], ensure_ascii=False)
        mine = [b for b in breaches if district is None or b[0] == district]
        for _, indicator, day in mine:
            assert labels.name("indicator", indicator, "zh") in outlook and day in outlook
        assert ("预测未见越线" in outlook) == (not mine)
    # The maps, scores and cards are made once per snapshot; where an alert stands in the loop
    # is read anew: a dispatch shows on the next render.
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    alert_id = con.execute("SELECT alert_id FROM marts.alerts WHERE rule_id = 'forecast_breach' AND status = 'open' LIMIT 1").fetchone()[0]
    con.close()

    def outlook_now() -> str:
        out = json.loads(dash_call(boss, app, "ov-kpis.children", [None]).get_data(as_text=True))["response"]
        return json.dumps(out["ov-outlook"]["children"], ensure_ascii=False)
    assert "已派单待处置" not in outlook_now()
    assert OpsStore(home).add_alert_step(alert_id, "dispatch", actor="boss", role="city_manager", scope=None,
                                         owner=("department", "dsb"), due_at=dt.datetime(2026, 11, 23, 12))
    assert "已派单待处置" in outlook_now()


def _response(r) -> dict:
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return json.loads(r.get_data(as_text=True))["response"]


def test_a_past_day_is_read_from_its_own_snapshot_and_forged_days_are_refused(app, past_day: str) -> None:
    """Only days with a snapshot are taken (checked on the server, in the callback and again on
    every request from the cookie); a past day's view reads that day's snapshot, acts on nothing."""
    boss = _client(app, "boss")
    for forged in ("2031-01-01", "yesterday", "2026-11-20'; DROP TABLE x", None, 20261119):
        r = dash_call(boss, app, "tt-go.href", [forged, None], ["/", ""])
        assert r.status_code == 204 and "cb_day" not in str(r.headers.get_all("Set-Cookie")), forged
    asof = lambda c: _response(dash_call(c, app, "ov-asof.children", [None]))["ov-asof"]["children"]  # noqa: E731
    assert AS_OF in asof(boss)
    r = dash_call(boss, app, "tt-go.href", [past_day, None], ["/alerts", "?x=1"])
    assert _response(r)["tt-go"]["href"] == f"/alerts?x=1&day={past_day}"
    assert f"cb_day={past_day}" in str(r.headers.get_all("Set-Cookie"))
    assert f"{past_day} 07:00" in asof(boss)
    # The past day's alerts offer no step: one acts on today's alerts, not on how they stood then.
    alerts = _response(dash_call(boss, app, "al-table.rowData", ["all", "", None], [None]))["al-table"]["rowData"]
    assert alerts
    detail = _response(dash_call(boss, app, "al-detail.children", [[alerts[0]["id"]], None], [None]))
    assert all(detail[b]["disabled"] for b in ("al-dispatch", "al-handle", "al-close", "al-return"))
    # Back to today.
    r = dash_call(boss, app, "tt-go.href", [past_day, 1], ["/", ""], changed="tt-latest.n_clicks")
    assert _response(r)["tt-go"]["href"] == "/?day=today" and AS_OF in asof(boss)
    # A cookie naming a day without a snapshot reads today's; roles without the picker get nothing.
    boss.set_cookie("cb_day", "2020-01-01")
    assert AS_OF in asof(boss)
    assert dash_call(_client(app, "root"), app, "tt-go.href", [past_day, None], ["/users", ""]).status_code == 204


@pytest.fixture(scope="module")
def old_day(home: Path) -> str:
    """A day whose snapshot an earlier version published (snapshots are kept 90 days for time
    travel): a copy of the current snapshot, dated three days back, whose indicator_catalog
    lacks the columns the catalog gained since (reads, flow, dimensions, overview, template).
    Returns that day (YYYY-MM-DD)."""
    import shutil

    from warehouse.serving.publish import current, snapshot_name

    day = dt.date.fromisoformat(AS_OF[:10]) - dt.timedelta(days=3)
    old = home / "serving" / snapshot_name(f"{day:%Y%m%d}T070000000000", "0a0a0a", day)
    shutil.copyfile(current(home / "serving"), old)
    con = duckdb.connect(str(old))
    try:
        for column in ("reads", "flow", "dimensions", "overview", "template"):
            con.execute(f"ALTER TABLE indicator_catalog DROP COLUMN {column}")
    finally:
        con.close()
    return day.isoformat()


def test_a_day_published_by_an_earlier_version_shows_its_cards_and_requests(app, old_day: str) -> None:
    """Which indicators have a card and how requests break down are the code's catalog: a past
    day's snapshot without the catalog's newer columns still shows its values."""
    boss = _client(app, "boss")
    boss.set_cookie("cb_day", old_day)
    out = _response(dash_call(boss, app, "ov-kpis.children", [None]))
    text = json.dumps(out, ensure_ascii=False)
    assert "无法加载" not in text, text[:500]
    cards = out["ov-kpis"]["children"]
    assert len(cards) == len(overview())  # each key indicator a card, in the catalog's order
    assert overview()[0].name_zh in json.dumps(cards[0], ensure_ascii=False)
    figures = [c["props"]["children"]["props"]["children"][1]["props"]["children"][0] for c in cards]
    assert sum(f != "—" for f in figures) > len(cards) // 2, figures
    assert out["ov-categories"]["figure"]["data"] and sum(out["ov-categories"]["figure"]["data"][0]["x"]) > 0
    requests = _response(dash_call(boss, app, "sv-overdue.rowData", [1]))
    assert "无法加载" not in json.dumps(requests, ensure_ascii=False)
    handlers = requests["sv-handlers"]["rowData"]
    assert handlers and any(h["on_time_rate"] != "—" for h in handlers), handlers


def test_the_drill_down_reaches_the_deliveries_behind_a_value(app, home: Path) -> None:
    """City -> indicator -> day: the certificate uses of a day are exactly the accepted rows
    dated that day in the files listed, each named with its department, rows and arrival."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    day, value = con.execute("""SELECT CAST(date AS VARCHAR), value FROM marts.indicator_values WHERE indicator_id = 'cert.usage'
                                AND district_code = '330100' AND value > 0 ORDER BY date DESC LIMIT 1""").fetchone()
    files = dict(con.execute("""SELECT d.file_name, count(*) FROM staging.certificate_usage s
                                JOIN ingest.live_deliveries d ON d.delivery_id = s._delivery_id
                                WHERE CAST(s.used_at AS DATE) = ? GROUP BY 1""", [day]).fetchall())
    con.close()
    boss = _client(app, "boss")
    out = _response(dash_call(boss, app, "tr-path.children", ["330100", "cert.usage", day]))
    rows = out["tr-sources"]["rowData"]
    assert {r["file_name"]: int(r["rows_that_day"].replace(",", "")) for r in rows} == files
    assert sum(files.values()) == value
    assert {r["department"] for r in rows} == {"数据资源管理局"} and {r["feed"] for r in rows} == {"电子证照用证"}
    assert all(r["arrived_at"] and r["rows_read"] >= r["rows_accepted"] for r in rows)
    assert out["tr-path"]["children"].startswith("杭州市 › ") and out["tr-path"]["children"].endswith(f" › {day}")
    text = json.dumps(out, ensure_ascii=False)
    assert "id_number" not in text and "certificate_no" not in text  # files and counts, no row
    # A district manager: their own district only; a forged district or indicator gets nothing.
    xihu = _client(app, "xihu")
    assert _response(dash_call(xihu, app, "tr-path.children", ["330106", "cert.usage", day]))["tr-path"]["children"]
    assert dash_call(xihu, app, "tr-path.children", ["330102", "cert.usage", day]).status_code == 204
    assert dash_call(boss, app, "tr-path.children", ["330100", "no.such", day]).status_code == 204
    assert dash_call(_client(app, "police"), app, "tr-path.children", ["330100", "cert.usage", day]).status_code == 204


CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def test_the_sign_in_page_speaks_one_language_the_browsers_or_the_chosen_one(app, home: Path) -> None:
    """Chinese for a Chinese browser, English for an English one, either on request (the switch),
    never both; a refusal in the page's language; the cockpit goes on in the language signed in with."""
    c = app.server.test_client()
    zh = c.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "登录" in zh and not re.search(r"Sign in|User|Password|City Brain", zh)
    assert 'href="/login?lang=en"' in zh  # the switch
    en = c.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "Sign in" in en and CJK.findall(en.replace(">中文<", "><")) == []
    assert CJK.findall(c.get("/login?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True).replace(">中文<", "><")) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', en).group(1)
    wrong = c.post("/login", data={"username": "ana", "password": "wrong", "csrf_token": token, "lang": "en"})
    assert wrong.status_code == 401 and "Wrong user name or password." in wrong.get_data(as_text=True)
    assert not CJK.findall(wrong.get_data(as_text=True).replace(">中文<", "><"))
    OpsStore(home).clear_failures("ana")
    right = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token, "lang": "en"})
    assert right.status_code == 302 and "cb_lang=en" in right.headers.get("Set-Cookie", "")


def _by_id(tree, wanted: str):
    """The component with id ``wanted`` in a serialised Dash layout."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == wanted:
            return tree
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _by_id(item, wanted)
            if found is not None:
                return found
    return None


def _layout(client, app, path: str) -> dict:
    return json.loads(dash_call(client, app, "_pages_content.children", [path, ""], []).get_data(as_text=True))


@pytest.mark.parametrize("user,department", [("police", "psb"), ("aud", None)])
def test_the_steward_page_counts_what_its_ledger_lists_names_feeds_and_dates_and_times_to_the_second(
        app, home: Path, user: str, department: str | None) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    ledger = con.execute("SELECT status, count(*), sum(rows_rejected) FROM ingest.deliveries WHERE ? IS NULL OR department = ? "
                         "GROUP BY ALL", [department, department]).fetchall()
    con.close()
    files = {s: n for s, n, _ in ledger}
    assert files.get("rejected"), "the tiny city has whole-file rejections"
    page = _layout(_client(app, user), app, "/ingestion")
    for status in ("accepted", "partial", "rejected", "superseded"):
        assert _by_id(page, f"in-files-{status}")["props"]["children"].endswith(f" {files.get(status, 0)}"), status
    assert f"拒收 {sum(r for _, _, r in ledger)} 行" in _by_id(page, "in-row-counts")["props"]["children"]
    rows = _by_id(page, "in-deliveries")["props"]["rowData"]
    assert len(rows) == sum(files.values())  # the ledger lists every file the tallies count
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["arrived_at"]) for r in rows)
    rejected = [r for r in rows if r["status"] == "整批拒收"]
    assert rejected and all((r["reason"] or r["error"]) and r["fix"] for r in rejected)  # why, in words, and what to do
    grid = _by_id(page, "in-timeliness")["props"]["figure"]
    heat, *keys = grid["data"]
    feeds = {labels.name("feed", f"{f.department}/{f.name}", "zh") for f in FEEDS if department in (None, f.department)}
    assert {y.split(" · ")[-1] for y in heat["y"]} == feeds
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", x) for x in heat["x"]) and grid["layout"]["xaxis"]["type"] == "date"
    assert [k["name"] for k in keys] == [labels.name("timeliness", c, "zh") for c in ("on_time", "late", "rejected", "missing")]
    assert all(k["showlegend"] for k in keys)


def test_a_steward_with_no_deliveries_is_told_so(app) -> None:
    page = _layout(_client(app, "roads", "en"), app, "/ingestion")
    assert "No deliveries yet" in json.dumps(_by_id(page, "in-empty"))
    assert _by_id(page, "in-deliveries") is None and _by_id(page, "in-view") is None


def test_the_explorer_keeps_the_city_apart_names_every_line_shows_shares_as_percentages_and_explains_gaps(app, home: Path) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    # A day a flow (other than the share shown beside it) has no value because its feed never
    # arrived (or was wholly rejected).
    gap = con.execute("""SELECT v.indicator_id, CAST(v.date AS VARCHAR), c.feeds FROM marts.indicator_values v
                         JOIN marts.indicator_catalog c USING (indicator_id)
                         WHERE v.value IS NULL AND len(c.feeds) > 0 AND v.district_code = '330100'
                           AND v.indicator_id <> 'cert.online_share' ORDER BY ALL LIMIT 1""").fetchone()
    con.close()
    assert gap, "the tiny city has a feed that never arrived"
    indicator, day, feeds = gap
    ana = _client(app, "ana")
    chosen = [indicator, "cert.online_share"]
    fig = json.loads(dash_call(ana, app, "ex-graph.figure", [chosen, ["330100", "330106", "330102"], None, None])
                     .get_data(as_text=True))["response"]["ex-graph"]["figure"]
    layout = fig["layout"]
    headings = [a["text"] for a in layout["annotations"] if " · " in a["text"]]
    assert len(headings) == 4  # each indicator: the city, then its districts
    assert headings[0].startswith("网上及移动端用证占比（%） · 全市") or headings[2].startswith("网上及移动端用证占比（%） · 全市")
    # Every line named once in the legend: the city and each district.
    named = [tr["name"] for tr in fig["data"] if tr.get("showlegend")]
    assert sorted(named) == sorted(["全市", "西湖区", "上城区"])
    # Shares as percentages, counts as counts.
    percent_axes = [layout[k] for k in layout if k.startswith("yaxis") and layout[k].get("tickformat") == ".0%"]
    assert len(percent_axes) == 2
    # The missing day is a gap (never 0), shaded, and the heading names the feed that did not arrive.
    city_line = next(tr for tr in fig["data"] if tr["name"] == "全市" and tr["yaxis"] == next(
        f"y{'' if i == 0 else i + 1}" for i, h in enumerate(headings) if h.startswith(labels.name("indicator", indicator, "zh")) and "全市" in h))
    assert city_line["y"][city_line["x"].index(day)] is None
    assert any(s["type"] == "rect" and s["x0"].startswith(day) for s in layout["shapes"])
    feed_names = [labels.name("feed", f, "zh") for f in feeds]
    assert any(day[5:] in h and any(n in h for n in feed_names) for h in headings)
    # The CSV: names, unit, values as shown (a share in percent), why a value is missing, then the ids.
    r = dash_call(ana, app, "ex-download.data", [1], [chosen, ["330100", "330106"], None, None])
    sent = json.loads(r.get_data(as_text=True))["response"]["ex-download"]["data"]
    rows = list(csv.DictReader(io.StringIO(sent["content"].lstrip("\ufeff"))))
    assert list(rows[0]) == ["日期", "指标", "区域", "数值", "单位", "缺数原因", "indicator_id", "district_code"]
    missing = next(r for r in rows if r["indicator_id"] == indicator and r["district_code"] == "330100" and r["日期"] == day)
    assert missing["数值"] == "" and any(n in missing["缺数原因"] for n in feed_names)
    shares = [float(r["数值"]) for r in rows if r["indicator_id"] == "cert.online_share" and r["数值"]]
    assert shares and max(shares) > 1 and all(len(str(v).split(".")[-1]) <= 2 for v in shares)  # 87.5, not 0.875000000001
    assert {r["单位"] for r in rows if r["indicator_id"] == "cert.online_share"} == {"%"}
    assert {r["区域"] for r in rows} == {"杭州市", "西湖区"}


def test_the_alerts_table_shows_no_ids(app) -> None:
    page = _layout(_client(app, "boss"), app, "/alerts")
    assert "alert_id" not in [c["field"] for c in _by_id(page, "al-table")["props"]["columnDefs"]]


def test_a_generated_city_says_it_is_demo_data_and_a_real_one_does_not(app, home: Path) -> None:
    boss = _client(app, "boss")

    def shell() -> str:
        return json.dumps(json.loads(boss.get("/_dash-layout").get_data(as_text=True)), ensure_ascii=False)
    assert "演示数据（合成城市）" in shell()
    truth = home / "truth"
    truth.rename(home / "truth-away")  # what a city fed by its departments looks like: no generator's ground truth
    try:
        assert "演示数据" not in shell()
    finally:
        (home / "truth-away").rename(truth)
