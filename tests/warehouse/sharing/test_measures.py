"""Sharing as a measure: per owner the requests received, answered, on time, median working
days to answer, refusals and what is overdue; per entry how many departments reuse it; calls
served per owner from the access log. Computed from a real operational store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from warehouse.ops.store import OpsStore
from warehouse.sharing import measures

FRIDAY = dt.datetime(2025, 9, 26, 10, 0)  # before National Day 2025: due Friday 10 October, 10:00
DUE = dt.datetime(2025, 10, 10, 10, 0)
NOW = dt.datetime(2025, 10, 20, 12, 0)


def _submitted(store: OpsStore, owner: str, department: str, entry: str, sharing_class: str = "conditional",
               at: dt.datetime = FRIDAY) -> int:
    rid = store.add_share_request(entry_code=entry, owner=owner, sharing_class=sharing_class, items=["status"],
                                  department=department, requester=f"{department}-clerk", purpose="核验", scenario="办事",
                                  legal_basis="法定职责", days=30, submit=False)
    store.add_share_step(rid, "submit", actor=f"{department}-clerk", role="officer", scope=department, now=at)
    return rid


def _answer(store: OpsStore, rid: int, step: str, scope: str, at: dt.datetime, reason: str = "") -> None:
    store.add_share_step(rid, step, actor=f"{scope}-steward", role="steward", scope=scope, reason=reason, now=at)


def test_working_days_between_follow_the_calendar() -> None:
    assert measures.working_days_between(FRIDAY, FRIDAY.replace(hour=17)) == 0
    assert measures.working_days_between(FRIDAY, dt.datetime(2025, 9, 28, 9)) == 1  # the make-up Sunday
    assert measures.working_days_between(FRIDAY, dt.datetime(2025, 10, 8, 9)) == 3  # holiday days do not count
    assert measures.working_days_between(FRIDAY, DUE) == 5


def test_how_each_owner_answers(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    persons = "library/population/persons"
    # psb: one approved in 2 working days, one refused late (answered by the bureau), one overdue, one draft.
    a = _submitted(store, "psb", "civil", persons)
    _answer(store, a, "approve", "psb", dt.datetime(2025, 9, 29, 16, 0))
    b = _submitted(store, "psb", "health", persons)
    _answer(store, b, "refuse", "dsb", DUE + dt.timedelta(days=3), reason="无法定依据")
    _submitted(store, "psb", "samr", persons)
    store.add_share_request(entry_code=persons, owner="psb", sharing_class="conditional", items=["status"], department="hrss",
                            requester="x", purpose="p", scenario="s", legal_basis="l", days=30, submit=False)
    # samr: unconditional, granted on submission (answered on time, 0 days); one still within its time.
    c = _submitted(store, "samr", "civil", "library/legal_person/entities", "unconditional")
    _submitted(store, "samr", "psb", "library/legal_person/entities", at=NOW - dt.timedelta(days=1))
    # Grants in use: civil's of psb's persons (activated now), civil's of samr's entities.
    store.issue_key(a, actor="civil-clerk", role="officer", scope="civil")
    store.issue_key(c, actor="civil-clerk", role="officer", scope="civil")
    now = dt.datetime.now()
    # The interfaces log each answered call with an api_ action and the calling department.
    for action, dept in (("api_persons_status", "civil"), ("api_persons_status", "civil"), ("api_entities_lookup", "civil"),
                         ("api_certificates_verify", "civil")):
        store.log_access("sys", "officer", action, delivery_id=None, rows=1, id_numbers=[], purpose="case 1", scope=dept)
    store.log_access("boss", "city_manager", "sign_in", delivery_id=None, rows=0, id_numbers=[], purpose="from 1.2.3.4")
    store.log_access("sys", "officer", "api_not_an_interface", delivery_id=None, rows=1, id_numbers=[], purpose="case 1", scope="civil")
    calls = store.calls_served()
    assert {(c["action"], c["department"], c["calls"]) for c in calls} == \
        {("api_persons_status", "civil", 2), ("api_entities_lookup", "civil", 1), ("api_certificates_verify", "civil", 1)}
    owner_of = {"api_persons_status": "psb", "api_entities_lookup": "samr"}
    assert measures.unowned_calls(calls, owner_of) == 1

    rows = {r["owner"]: r for r in measures.by_owner(store.share_requests(), NOW, measures.calls_by_owner(calls, owner_of))}
    assert set(rows) == {"psb", "samr"}
    psb, samr = rows["psb"], rows["samr"]
    assert (psb["received"], psb["answered"], psb["judged"], psb["on_time"], psb["refused"], psb["overdue"]) == (3, 2, 3, 1, 1, 1)
    assert psb["on_time_rate"] == 1 / 3 and psb["median_working_days"] == (2 + 7) / 2  # 29 Sep: 2; 13 Oct: 7 (Sat 11 Oct worked)
    assert (samr["received"], samr["answered"], samr["judged"], samr["on_time"], samr["on_time_rate"]) == (2, 1, 1, 1, 1.0)
    assert samr["median_working_days"] == 0 and samr["overdue"] == 0
    assert (psb["calls"], samr["calls"]) == (2, 1)
    assert {r["owner"]: r["active_grants"] for r in measures.by_owner(store.share_requests(), now)} == {"psb": 1, "samr": 1}


def test_reuse_counts_departments_with_an_active_grant(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    persons = "library/population/persons"
    for dept in ("civil", "civil", "health", "samr"):  # civil twice: one department still
        rid = _submitted(store, "psb", dept, persons)
        _answer(store, rid, "approve", "psb", FRIDAY)
        store.issue_key(rid, actor="c", role="officer", scope=dept)
    revoked = _submitted(store, "psb", "hrss", persons)
    _answer(store, revoked, "approve", "psb", FRIDAY)
    store.issue_key(revoked, actor="c", role="officer", scope="hrss")
    _answer(store, revoked, "revoke", "psb", FRIDAY, reason="职责调整")
    only_approved = _submitted(store, "samr", "civil", "library/legal_person/entities")
    _answer(store, only_approved, "approve", "samr", FRIDAY)
    now = dt.datetime.now()
    assert measures.reuse(store.share_requests(), now) == [
        {"entry_code": persons, "owner": "psb", "active_grants": 4, "departments": 3}]
    assert measures.reuse(store.share_requests(), now + dt.timedelta(days=31)) == []  # 30-day grants: expired


def test_the_on_time_answer_rate_of_a_period(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    on_time = _submitted(store, "psb", "civil", "a")
    _answer(store, on_time, "approve", "psb", FRIDAY + dt.timedelta(days=3))
    _submitted(store, "psb", "health", "a")  # due 10 October, never answered
    _submitted(store, "psb", "samr", "a", at=dt.datetime(2025, 10, 13, 9))  # due Monday 20 October, 9:00
    week = (dt.date(2025, 10, 6), dt.date(2025, 10, 12))
    assert measures.answers_due_in(store.share_requests(), *week, NOW) == (1, 2)
    assert measures.answers_due_in(store.share_requests(), *week, DUE - dt.timedelta(hours=1)) == (1, 1)  # one not yet due
    assert measures.answers_due_in(store.share_requests(), dt.date(2025, 10, 13), dt.date(2025, 10, 19), NOW) == (0, 0)
    assert measures.answers_due_in(store.share_requests(), dt.date(2025, 10, 20), dt.date(2025, 10, 26), NOW) == (0, 1)
    assert measures.answers_due_in(store.share_requests(), dt.date(2025, 11, 1), dt.date(2025, 11, 30), NOW) == (0, 0)
    assert measures.answer_score(1, 2) == 0.5 and measures.answer_score(0, 0) is None and measures.answer_score(3, 3) == 1.0
