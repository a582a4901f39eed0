"""Data sharing's whole loop (issue #32, "Done when"), as the people in it live it: through the
real pages in headless chromium and over HTTP against one served cockpit (the interfaces under
its /api/v1/).

A civil-affairs officer finds the population library's persons in the catalog and requests it;
the police's steward (its provider) approves; the officer activates the grant and reads its key
once from the page; the key answers a household-status check of a real person; that citizen
sees the use on "Uses of my data" and the auditor finds it by the person's identity number.
On the way, each refusal the issue names is tried and shown to change nothing (no step, no
key, no access-log entry): a refusal without a reason, a request for data not shared (不予共享),
a forged approval by another department's steward, a call without the officer or the case
number, a call for an item outside the grant, the key once its grant has expired (the
interfaces judged at a later clock) and once the provider has revoked it.

The pieces are tested alone elsewhere (tests/cockpit/test_data_requests.py posts the requests
page's callbacks, tests/api the interfaces); this is the one story through them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from browsing import Session, expect
from helpers import PASSWORD, dash_post, nothing, served, sign_in

from api import create_api, mount
from cockpit.app import create_app
from cockpit.auth import add_user
from warehouse.ops.store import OpsStore
from warehouse.settings import Settings
from warehouse.storage.home import Home

pytestmark = pytest.mark.browser

OFFICER = "clerk_loop"  # 民政局's officer (部门业务人员)
CITIZEN = "wang_loop"  # a resident the population library holds
PERSONS = "library/population/persons"
NOT_SHARED = "quarantine/psb/household_events"  # rejected rows: 不予共享
PURPOSE, SCENARIO, BASIS = "核验结婚登记当事人户籍状态", "婚姻登记窗口", "《婚姻登记条例》第七条"
CASE = "MZ-2026-000777"
STATUS = "/api/v1/persons/status"


@pytest.fixture(scope="module")
def person(home: Path) -> tuple[str, str]:
    """A registered person of the population library (identity number, district), the citizen
    account linked to them, and the officer."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        found = con.execute("SELECT id_number, district_code FROM population.persons WHERE status = 'registered' "
                            "ORDER BY id_number LIMIT 1").fetchone()
    finally:
        con.close()
    store = OpsStore(home)
    add_user(store, OFFICER, PASSWORD, "officer", "civil")
    add_user(store, CITIZEN, PASSWORD, "citizen", None, found[0])
    return found


@pytest.fixture(scope="module")
def cockpit_url(home: Path, person) -> Iterator[str]:
    with served(create_app(Home.resolve(home), Settings(dagster_url="http://127.0.0.1:9")).server) as url:
        yield url


@pytest.fixture(scope="module")
def two_days_later(home: Path) -> Iterator[str]:
    """The interfaces alone, mounted as the cockpit mounts them, judging grants two days from now
    (their clock hook): a one-day grant activated today has expired there."""

    api = create_api(Home.resolve(home), Settings(), clock=lambda: dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=2))
    with served(mount(nothing, api)) as url:
        yield url


def _kept(store: OpsStore) -> tuple:
    """What a refusal must leave as it was: every request's steps, every key and whether it is
    revoked, and the access log (sign-ins aside: a browser signing in is not what is judged)."""
    reqs = store.share_requests()
    steps = tuple((r["request_id"], tuple(s["step"] for s in r["steps"])) for r in reqs)
    keys = tuple((k["key_id"], k["revoked_at"]) for r in reqs for k in store.api_keys(r["request_id"]))
    log = tuple((e["at"], e["username"], e["action"]) for e in store.access_log(limit=100_000) if not e["action"].startswith("sign_in"))
    return steps, keys, log


def _http(cockpit_url: str, user: str) -> requests.Session:
    http = requests.Session()
    assert sign_in(http, user, base=cockpit_url).status_code == 302
    return http


def _call(base: str, key: str | None, id_number: str, *, officer: str | None = OFFICER, case: str | None = CASE,
          fields: list[str] | None = None) -> requests.Response:
    headers = {k: v for k, v in {"Authorization": key and f"Bearer {key}", "X-Officer-Id": officer, "X-Case-No": case}.items() if v}
    body = {"id_number": id_number} | ({"fields": fields} if fields else {})
    return requests.post(base + STATUS, json=body, headers=headers, timeout=30)


def _row(s: Session, grid: str, text: str):
    """The row of the grid ``grid`` that shows ``text`` (a click on it chooses it)."""
    return s.page.locator(f"{grid} .ag-center-cols-container .ag-row", has_text=text)


def test_an_officer_requests_the_owner_approves_the_key_answers_and_the_citizen_and_auditor_see_it(
        session, cockpit_url: str, two_days_later: str, home: Path, person: tuple[str, str]) -> None:
    store = OpsStore(home)
    id_number, district = person

    # ---- The officer finds the population library's persons in the catalog and asks for them.
    clerk = session(OFFICER)
    assert clerk.page.url.endswith("/catalog")  # where an officer lands
    clerk.page.wait_for_selector("#ca-table .ag-row")
    clerk.page.fill("#ca-search", "人员")
    clerk.page.wait_for_function("() => document.querySelectorAll('#ca-table .ag-row').length < 10")
    clerk.page.get_by_role("link", name="人口库 · 人员", exact=True).click()
    clerk.page.wait_for_selector("#ca-title")
    expect(clerk.page.locator("#ca-facts")).to_contain_text("公安局")
    expect(clerk.page.locator("#ca-facts")).to_contain_text("有条件共享")
    clerk.page.click("#ca-request")
    clerk.page.wait_for_selector("#rq-entry")
    clerk.settle()
    assert clerk.page.url.endswith(f"/requests?entry={PERSONS}")
    expect(clerk.page.locator("#rq-entry")).to_have_value("人口库 · 人员 · 公安局 · 有条件共享")
    expect(clerk.page.locator("#rq-entry-about")).to_contain_text(STATUS)
    clerk.choose("#rq-items", "状态")  # the status only: the district is an item it does not get
    clerk.page.fill("#rq-purpose", PURPOSE)
    clerk.page.fill("#rq-scenario", SCENARIO)
    clerk.page.fill("#rq-basis", BASIS)
    clerk.page.fill("#rq-days", "1")
    clerk.page.click("#rq-send-new")
    expect(clerk.page.locator("#rq-new-result")).to_contain_text("已提交申请")
    req = store.share_requests(department="civil")[0]
    rid = req["request_id"]
    assert (req["entry_code"], req["owner"], req["items"], req["days"], req["purpose"], req["scenario"], req["legal_basis"]) == \
        (PERSONS, "psb", ("status",), 1, PURPOSE, SCENARIO, BASIS)
    assert f"已提交申请 {rid}" in clerk.page.inner_text("#rq-new-result") and "公安局" in clerk.page.inner_text("#rq-new-result")
    expect(_row(clerk, "#rq-mine", "人口库 · 人员")).to_contain_text("已提交")

    # ---- Data not shared cannot be asked for: the catalog says why, the form does not offer it,
    # and a request forged over HTTP is refused with nothing written.
    kept = _kept(store)
    clerk.open(f"/catalog?entry={NOT_SHARED}")
    expect(clerk.page.locator("#ca-not-shared")).to_contain_text("不予共享")
    assert clerk.page.locator("#ca-request").count() == 0
    clerk.open(f"/requests?entry={NOT_SHARED}")
    expect(clerk.page.locator("#rq-entry")).to_have_value("")
    forged = dash_post(_http(cockpit_url, OFFICER), cockpit_url, "rq-new-result.children", [None, 1],
                       state=[NOT_SHARED, ["id_number"], PURPOSE, SCENARIO, BASIS, 30], changed="rq-send-new.n_clicks")
    assert "不予共享" in str(forged)
    assert _kept(store) == kept

    # ---- Another department's steward forges the approval (the confirmed step, posted as the
    # page's callback over HTTP): refused, nothing written.
    forged = dash_post(_http(cockpit_url, "doctor"), cockpit_url, "rq-queue-result.children", [1],
                       state=[{"step": "approve", "request_id": rid, "reason": ""}])
    assert "无权" in str(forged)
    assert _kept(store) == kept and store.share_request(rid)["status"].state == "submitted"

    # ---- The owner's steward: a refusal without a reason is refused in the page; then approves.
    police = session("police")
    police.open("/requests")
    row = _row(police, "#rq-queue", PURPOSE)
    expect(row).to_contain_text("民政局")
    row.click()
    expect(police.page.locator("#rq-queue-detail")).to_contain_text(BASIS)
    expect(police.page.locator("#rq-refuse")).to_be_enabled()
    police.page.click("#rq-refuse")
    expect(police.page.locator("#rq-queue-hint")).to_contain_text("请填写理由")
    police.settle()
    assert not police.page.locator("#rqs-yes").is_visible()  # nothing to confirm
    assert _kept(store) == kept
    police.page.click("#rq-approve")
    expect(police.page.locator("#rqs-modal-text")).to_contain_text(f"批准申请 {rid}")
    police.page.click("#rqs-yes")
    expect(police.page.locator("#rq-queue-result")).to_contain_text(f"已批准申请 {rid}。")
    status = store.share_request(rid)["status"]
    assert (status.state, status.answered_by) == ("approved", "psb")

    # ---- The officer activates the grant and reads its key, shown this once.
    clerk.open("/requests")
    _row(clerk, "#rq-mine", "人口库 · 人员").click()
    expect(clerk.page.locator("#rq-issue")).to_be_enabled()
    clerk.page.click("#rq-issue")
    expect(clerk.page.locator("#rq-mine-result")).to_contain_text(f"已为申请 {rid} 签发密钥")
    key = clerk.page.inner_text("#rq-key").strip()
    assert key.startswith("cbk_")
    headers = clerk.page.inner_text("#rq-headers")
    assert f"Authorization: Bearer {key}" in headers and "X-Officer-Id" in headers and "X-Case-No" in headers
    assert store.share_request(rid)["status"].state == "active"
    clerk.open("/requests")
    _row(clerk, "#rq-mine", "人口库 · 人员").click()
    expect(clerk.page.locator("#rq-keys")).to_contain_text(key.split("_")[1])  # its id, never the key again
    assert key not in clerk.page.content()
    clerk.assert_clean()

    # ---- Over HTTP, the key answers the household status of a real person: only what the grant holds.
    calls_before = len([e for e in store.access_log(id_number) if e["action"] == "api_persons_status"])
    answered = _call(cockpit_url, key, id_number)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "registered" and "district_code" not in answered.json()
    logged = [e for e in store.access_log(id_number) if e["action"] == "api_persons_status"]
    assert len(logged) == calls_before + 1
    assert (logged[0]["username"], logged[0]["scope"], logged[0]["purpose"], logged[0]["legal_basis"]) == \
        (OFFICER, "civil", f"case {CASE}: {PURPOSE}", BASIS)

    # ---- Refused calls answer nothing and log nothing.
    kept = _kept(store)
    for refused, why in ((_call(cockpit_url, key, id_number, officer=None), (400, "no_officer")),
                         (_call(cockpit_url, key, id_number, case=None), (400, "no_case_no")),
                         (_call(cockpit_url, key, id_number, fields=["district_code"]), (403, "field_not_granted")),
                         (_call(two_days_later, key, id_number), (401, "bad_key"))):  # its one day has passed there
        assert (refused.status_code, refused.json()["error"]) == why, refused.text
        assert district not in refused.text and "registered" not in refused.text
    assert _kept(store) == kept

    # ---- The citizen sees the use: which department, which data, the case and purpose, the basis.
    citizen = session(CITIZEN)
    assert citizen.page.url.endswith("/my-data")
    use = _row(citizen, "#md-table", CASE)
    expect(use).to_contain_text("民政局")
    for words in ("部门业务人员", "户籍状态", f"办件 {CASE}：{PURPOSE}", BASIS):
        assert words in use.inner_text(), use.inner_text()
    citizen.assert_clean()

    # ---- The auditor finds it by the person's identity number.
    aud = session("aud")
    aud.open("/audit")
    aud.page.fill("#au-id", id_number)
    aud.page.press("#au-id", "Enter")
    found = _row(aud, "#au-table", CASE)
    expect(found).to_contain_text("共享接口：户籍状态核验")
    for words in (OFFICER, "民政局", PURPOSE, BASIS):
        assert words in found.inner_text(), found.inner_text()
    aud.assert_clean()

    # ---- The provider revokes the grant (with a reason); its key answers nothing more.
    police.open("/requests")
    police.choose("#rq-view", "已授权")
    _row(police, "#rq-queue", PURPOSE).click()
    police.page.fill("#rq-reason", "婚姻登记系统改由省平台核验")
    police.page.click("#rq-revoke")
    expect(police.page.locator("#rqs-modal-text")).to_contain_text("密钥将立即失效")
    police.page.click("#rqs-yes")
    expect(police.page.locator("#rq-queue-result")).to_contain_text(f"已撤销申请 {rid} 的授权")
    police.assert_clean()
    assert store.share_request(rid)["status"].state == "revoked"
    kept = _kept(store)
    refused = _call(cockpit_url, key, id_number)
    assert (refused.status_code, refused.json()["error"]) == (401, "bad_key") and "registered" not in refused.text
    assert _kept(store) == kept
