"""The data requests page (按需申请) over HTTP, by posting its Dash callbacks as a browser (or a
forger) does: an officer requests an entry, the owning department's steward approves, the
officer takes the key; a forged approval by another department's steward, a refusal without a
reason, a request for data not shared and a key taken by another department change nothing;
the data resources bureau answers what is overdue; the city manager sees how departments
share, and the city's data-sharing score counts requests answered on time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from helpers import CITIZENS, PASSWORD, dash_call, sign_in

from cockpit.app import create_app
from cockpit.auth import add_user
from warehouse.ops.store import OpsStore
from warehouse.storage.home import Home

PERSONS = "library/population/persons"
ITEMS = ["id_number", "status", "district_code"]


@pytest.fixture(scope="module")
def app(home: Path):
    store = OpsStore(home)
    for name, role, scope in (("clerk", "officer", "civil"), ("hr_clerk", "officer", "hrss"), ("bureau", "steward", "dsb")):
        add_user(store, name, PASSWORD, role, scope)
    return create_app(Home.resolve(home))


def _client(app, user: str, lang: str = "zh"):
    c = app.server.test_client()
    c.set_cookie("cb_lang", lang)
    assert sign_in(c, user).status_code == 302
    return c


def _out(resp) -> dict:
    """A callback's answer by component id and property (PreventUpdate: {})."""
    if resp.status_code == 204:
        return {}
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return {f"{k}.{p}": v for k, props in json.loads(resp.get_data(as_text=True))["response"].items() for p, v in props.items()}


def _page(client, app, search: str = "") -> str:
    return json.dumps(json.loads(dash_call(client, app, "_pages_content.children", ["/requests", search], []).get_data(as_text=True)),
                      ensure_ascii=False)


def _component(tree, id_: str) -> dict | None:
    """The props of the component ``id_`` in a layout's JSON."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == id_:
            return props
        return next((found for v in (*props.values(), *tree.values()) if (found := _component(v, id_)) is not None), None)
    if isinstance(tree, list):
        return next((found for v in tree if (found := _component(v, id_)) is not None), None)
    return None


def _submit(client, app, entry: str, items: list, **form) -> str:
    fields = {"purpose": "核验低保申请人户籍状态", "scenario": "最低生活保障审核", "basis": "《社会救助暂行办法》第十一条", "days": 30} | form
    return _out(dash_call(client, app, "rq-new-result.children", [None, 1],
                          [entry, items, fields["purpose"], fields["scenario"], fields["basis"], fields["days"]],
                          changed="rq-send-new.n_clicks"))["rq-new-result.children"]


def _row(client, app, output: str, request_id: int, inputs: list) -> dict:
    rows = _out(dash_call(client, app, f"{output}.rowData", inputs, [None]))[f"{output}.rowData"]
    return next(r for r in rows if r["request_id"] == request_id)


def _answer(client, app, pending: dict) -> str:
    return _out(dash_call(client, app, "rq-queue-result.children", [1], [pending])).get("rq-queue-result.children", "")


def test_officer_requests_steward_approves_officer_takes_a_key(app, home: Path) -> None:
    store = OpsStore(home)
    clerk, police, doctor = _client(app, "clerk"), _client(app, "police"), _client(app, "doctor")

    # The form comes prefilled from the catalog's "request access" link, offering only shared entries.
    layout = json.loads(dash_call(clerk, app, "_pages_content.children", ["/requests", f"?entry={PERSONS}"], []).get_data(as_text=True))
    entry = _component(layout, "rq-entry")
    assert entry["value"] == PERSONS
    offered = {o["value"] for o in entry["data"]}
    assert PERSONS in offered and not any(code.startswith("quarantine/") for code in offered)
    assert "人口库 · 人员" in entry["data"][[o["value"] for o in entry["data"]].index(PERSONS)]["label"]
    assert _component(layout, "rq-queue") is None and _component(layout, "rq-by-owner") is None  # not the officer's parts
    items = _out(dash_call(clerk, app, "rq-items.data", [PERSONS]))["rq-items.data"]
    assert set(ITEMS) <= {i["value"] for i in items} and "身份证号码（个人信息）" in {i["label"] for i in items}

    # Refused and nothing written: an item the entry lacks, data not shared, no purpose, too long.
    before = len(store.share_requests())
    assert "请选择所需的数据项" in _submit(clerk, app, PERSONS, ["id_number", "password"])
    assert "不予共享" in _submit(clerk, app, "quarantine/psb/household_events", ["id_number"])
    assert "使用用途" in _submit(clerk, app, PERSONS, ITEMS, purpose="  ")
    assert "1 至 366 天" in _submit(clerk, app, PERSONS, ITEMS, days=400)
    assert len(store.share_requests()) == before

    said = _submit(clerk, app, PERSONS, ITEMS)
    req = store.share_requests(department="civil")[0]
    rid = req["request_id"]
    assert f"已提交申请 {rid}" in said and "公安局" in said
    assert (req["entry_code"], req["owner"], req["items"], req["status"].state) == (PERSONS, "psb", tuple(sorted(ITEMS)), "submitted")
    assert [(s["step"], s["actor"], s["role"], s["scope"]) for s in req["steps"]] == [("submit", "clerk", "officer", "civil")]
    mine = _row(clerk, app, "rq-mine", rid, ["", ""])
    assert (mine["state"], mine["owner"], mine["entry"]) == ("已提交", "公安局", "人口库 · 人员")

    # The owner's steward finds it in the queue, by names, and asks to approve it.
    queued = _row(police, app, "rq-queue", rid, ["answer", ""])
    assert (queued["department"], queued["purpose"], queued["days"]) == ("民政局", "核验低保申请人户籍状态", 30)
    asked = _out(dash_call(police, app, "rqs-pending.data", [None, 1, None], [[queued], ""], changed="rq-refuse.n_clicks"))
    assert asked["rqs-pending.data"] is None and "请填写理由" in asked["rq-queue-hint.children"]  # no refusal without a reason
    asked = _out(dash_call(police, app, "rqs-pending.data", [1, None, None], [[queued], ""], changed="rq-approve.n_clicks"))
    pending = asked["rqs-pending.data"]
    assert pending == {"step": "approve", "request_id": rid, "reason": ""} and "批准申请" in asked["rqs-modal-text.children"]

    # Forged: another department's steward posts the confirmation itself; a refusal without a
    # reason posted directly; the officer approving its own request. Each changes nothing.
    assert "无权" in _answer(doctor, app, pending)
    assert "无权" in _answer(doctor, app, {"step": "refuse", "request_id": rid, "reason": "不给"})
    assert "请填写理由" in _answer(police, app, {"step": "refuse", "request_id": rid, "reason": "  "})
    assert "无权" in _answer(clerk, app, pending)  # an officer answers nothing
    assert [s["step"] for s in store.share_request(rid)["steps"]] == ["submit"]

    assert _answer(police, app, pending) == f"已批准申请 {rid}。"
    assert store.share_request(rid)["status"].state == "approved"
    assert "无权" in _answer(police, app, {"step": "refuse", "request_id": rid, "reason": "改主意"})  # answered once

    # The officer takes its key: shown once, with the headers its system sends.
    mine = _row(clerk, app, "rq-mine", rid, ["", ""])
    detail = _out(dash_call(clerk, app, "rq-mine-detail.children", [[mine], ""]))
    assert detail["rq-issue.disabled"] is False and detail["rq-send.disabled"] is True
    for outsider in (_client(app, "hr_clerk"), police):  # another department's officer; the owner's steward
        taken = _out(dash_call(outsider, app, "rq-mine-result.children", [None, 1, None], [[mine], None], changed="rq-issue.n_clicks"))
        assert "无权" in taken["rq-mine-result.children"] and not taken["rq-key-box.children"]
    assert store.api_keys(rid) == []
    taken = _out(dash_call(clerk, app, "rq-mine-result.children", [None, 1, None], [[mine], None], changed="rq-issue.n_clicks"))
    box = json.dumps(taken["rq-key-box.children"], ensure_ascii=False)
    key = _component(taken["rq-key-box.children"], "rq-key")["children"]
    assert key.startswith("cbk_") and f"Authorization: Bearer {key}" in box and "X-Officer-Id" in box and "X-Case-No" in box
    assert "/api/v1/persons/status" in box
    grant = store.grant_for_key(key)
    assert (grant.request_id, grant.department, grant.owner, grant.items) == (rid, "civil", "psb", tuple(sorted(ITEMS)))
    assert store.share_request(rid)["status"].state == "active"
    log = [e for e in store.access_log(limit=50) if e["action"] in ("share_key_issue", "share_key_revoke")]
    assert [(e["action"], e["username"], e["purpose"], e["scope"]) for e in log] == [("share_key_issue", "clerk", f"request {rid}", "civil")]
    # The key answers its interface (served beside the cockpit), and the call is in the access log.
    call = {"Authorization": f"Bearer {key}", "X-Officer-Id": "clerk", "X-Case-No": "MZ-2026-0001"}
    answered = app.server.test_client().post("/api/v1/persons/status", json={"id_number": CITIZENS["zhang"]}, headers=call)
    assert answered.status_code == 200 and answered.get_json()["status"] in ("registered", "moved_out", "deceased", "unknown")
    assert store.access_log(limit=1)[0]["action"] == "api_persons_status"
    # The key is not kept: a second look at the request shows its key id, never the key.
    detail = _out(dash_call(clerk, app, "rq-mine-detail.children", [[mine], ""]))
    keys = detail["rq-keys.rowData"]
    assert len(keys) == 1 and key not in json.dumps(detail) and keys[0]["key_id"] in key

    # Revoking the key: asked, confirmed, logged; a key of another department cannot be revoked.
    asked = _out(dash_call(clerk, app, "rqo-pending.data", [1, keys], changed="rq-revoke-key.n_clicks"))
    assert asked["rqo-pending.data"] == {"key_id": keys[0]["key_id"]}
    hr = _out(dash_call(_client(app, "hr_clerk"), app, "rq-mine-result.children", [None, None, 1], [None, asked["rqo-pending.data"]],
                        changed="rqo-yes.n_clicks"))
    assert "不是本部门" in hr["rq-mine-result.children"] and store.grant_for_key(key) is not None
    done = _out(dash_call(clerk, app, "rq-mine-result.children", [None, None, 1], [None, asked["rqo-pending.data"]],
                          changed="rqo-yes.n_clicks"))
    assert "已撤销密钥" in done["rq-mine-result.children"] and store.grant_for_key(key) is None
    assert app.server.test_client().post("/api/v1/persons/status", json={"id_number": CITIZENS["zhang"]}, headers=call).status_code == 401
    assert store.access_log(limit=1)[0]["action"] == "share_key_revoke"


def test_the_steward_revokes_a_grant_with_a_reason_and_its_keys_die(app, home: Path) -> None:
    store = OpsStore(home)
    rid = store.add_share_request(entry_code="library/legal_person/entities", owner="samr", sharing_class="conditional",
                                  items=["uscc", "status"], department="civil", requester="clerk", purpose="核验", scenario="办事",
                                  legal_basis="法定职责", days=30, role="officer")
    store.add_share_step(rid, "approve", actor="samr-steward", role="steward", scope="samr")
    key = store.issue_key(rid, actor="clerk", role="officer", scope="civil")
    add_user(store, "market", PASSWORD, "steward", "samr")
    market = _client(app, "market")
    row = _row(market, app, "rq-queue", rid, ["granted", ""])
    asked = _out(dash_call(market, app, "rqs-pending.data", [None, None, 1], [[row], ""], changed="rq-revoke.n_clicks"))
    assert asked["rqs-pending.data"] is None  # a reason first
    asked = _out(dash_call(market, app, "rqs-pending.data", [None, None, 1], [[row], "职责调整"], changed="rq-revoke.n_clicks"))
    assert "密钥将立即失效" in asked["rqs-modal-text.children"]
    assert "无权" in _answer(_client(app, "police"), app, asked["rqs-pending.data"])  # not psb's grant
    assert store.grant_for_key(key) is not None
    assert "已撤销申请" in _answer(market, app, asked["rqs-pending.data"])
    assert store.grant_for_key(key) is None and store.share_request(rid)["status"].reason == "职责调整"
    assert _row(_client(app, "clerk"), app, "rq-mine", rid, ["", ""])["reason"] == "职责调整"


def test_the_bureau_answers_what_an_owner_left_overdue(app, home: Path) -> None:
    store = OpsStore(home)
    late = store.add_share_request(entry_code="feed/health/death_records", owner="health", sharing_class="conditional",
                                   items=["id_number", "death_date"], department="civil", requester="clerk", purpose="注销户籍前核验",
                                   scenario="死亡注销", legal_basis="户口登记条例", days=30, submit=False)
    store.add_share_step(late, "submit", actor="clerk", role="officer", scope="civil", now=dt.datetime.now() - dt.timedelta(days=20))
    fresh = store.add_share_request(entry_code="feed/health/death_records", owner="health", sharing_class="conditional",
                                    items=["death_date"], department="hrss", requester="hr_clerk", purpose="停发养老金核验",
                                    scenario="待遇资格认证", legal_basis="社会保险法", days=30, role="officer")
    bureau = _client(app, "bureau")
    rows = _out(dash_call(bureau, app, "rq-queue.rowData", ["answer", ""], [None]))["rq-queue.rowData"]
    ids = [r["request_id"] for r in rows]
    assert late in ids and fresh not in ids  # only what is overdue
    row = rows[ids.index(late)]
    assert row["overdue"] == 1 and "超期" in row["due_at"] and "卫生健康委员会" in row["entry"]
    assert ids.index(late) == 0 or all(r["overdue"] for r in rows[:ids.index(late)])  # overdue first
    asked = _out(dash_call(bureau, app, "rqs-pending.data", [1, None, None], [[row], ""], changed="rq-approve.n_clicks"))
    assert "已批准" in _answer(bureau, app, asked["rqs-pending.data"])
    status = store.share_request(late)["status"]
    assert (status.state, status.answered_by, status.escalated(dt.datetime.now())) == ("approved", "dsb", True)
    # The bureau may not answer what is not overdue, even posted directly.
    assert "无权" in _answer(bureau, app, {"step": "approve", "request_id": fresh, "reason": ""})
    assert store.share_request(fresh)["status"].state == "submitted"


def test_the_city_manager_sees_how_departments_share(app, home: Path) -> None:
    store = OpsStore(home)
    store.log_access("clerk", "officer", "api_persons_status", delivery_id=None, rows=1, id_numbers=[], purpose="低保", scope="civil")
    for user in ("boss", "aud"):
        layout = json.loads(dash_call(_client(app, user), app, "_pages_content.children", ["/requests", ""], []).get_data(as_text=True))
        rows = {r["owner"]: r for r in _component(layout, "rq-by-owner")["rowData"]}
        assert {"公安局", "卫生健康委员会"} <= set(rows), rows
        psb = rows["公安局"]
        assert psb["received"] >= 1 and psb["calls"] >= 1 and psb["on_time_rate"] == "100%"
        assert rows["卫生健康委员会"]["overdue"] == 0 and rows["卫生健康委员会"]["answered"] >= 1
        assert _component(layout, "rq-entry") is None and _component(layout, "rq-queue") is None
        assert _component(layout, "rq-all")["rowData"]
    # Opened for no one else: a district manager gets the refusal, its callbacks nothing.
    xihu = _client(app, "xihu")
    assert "无权访问" in _page(xihu, app)
    assert dash_call(xihu, app, "rq-queue.rowData", ["all", ""], [None]).status_code == 204
    assert dash_call(xihu, app, "rq-new-result.children", [None, 1], [PERSONS, ITEMS, "x", "y", "z", 30],
                     changed="rq-send-new.n_clicks").status_code == 204


def test_the_city_data_sharing_score_counts_requests_answered_on_time(app, home: Path) -> None:
    """A request whose answer fell due in the snapshot's latest week, answered in time: counted in
    the city's data-sharing score for that week (as one more indicator), not in a district's."""
    store = OpsStore(home)
    rid = store.add_share_request(entry_code=PERSONS, owner="psb", sharing_class="conditional", items=["status"], department="civil",
                                  requester="clerk", purpose="核验", scenario="办事", legal_basis="法定职责", days=30, submit=False)
    store.add_share_step(rid, "submit", actor="clerk", role="officer", scope="civil", now=dt.datetime(2026, 11, 9, 10))  # due 16 Nov
    store.add_share_step(rid, "approve", actor="police", role="steward", scope="psb", now=dt.datetime(2026, 11, 12, 10))
    boss = _client(app, "boss", "en")
    city = json.dumps(_out(dash_call(boss, app, "ov-score.children", [None]))["ov-score.children"], ensure_ascii=False)
    assert "data requests answered within 5 working days" in city and "Week: 1 of 1" in city
    xihu = json.dumps(_out(dash_call(_client(app, "xihu", "en"), app, "ov-score.children", [None]))["ov-score.children"],
                      ensure_ascii=False)
    assert "Week: 1 of 1" not in xihu
