"""Requests for catalog entries (按需申请) in a real operational store: the contract's states
and who moves them, the answer due in 5 working days on China's official calendar, escalation
to the data resources bureau, expiry, and keys that die with their grant. Each refused step
is checked to have written nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from warehouse.ops.share_requests import RequestRefused
from warehouse.ops.store import OpsStore
from warehouse.sharing.requests import ANSWER_WORKING_DAYS, add_working_days

# The Friday before National Day 2025: Sunday 28 September is a make-up workday (调休), 1–8
# October are the holiday, Saturday 11 October is a workday again.
FRIDAY = dt.datetime(2025, 9, 26, 10, 0)
DUE = dt.datetime(2025, 10, 10, 10, 0)
CIVIL = {"actor": "clerk", "role": "officer", "scope": "civil"}
PSB = {"actor": "police", "role": "steward", "scope": "psb"}
HEALTH = {"actor": "doctor", "role": "steward", "scope": "health"}
BUREAU = {"actor": "bureau", "role": "steward", "scope": "dsb"}
ENTRY = {"entry_code": "library/population/persons", "owner": "psb", "items": ["id_number", "status", "district_code"]}


def _request(store: OpsStore, sharing_class: str = "conditional", **extra) -> int:
    """A civil-affairs officer's draft for the police's population library table."""
    fields = {**ENTRY, "sharing_class": sharing_class, "department": "civil", "requester": "clerk",
              "purpose": "核验户籍状态以办理低保", "scenario": "最低生活保障审核", "legal_basis": "《社会救助暂行办法》第十一条",
              "days": 90, "submit": False, **extra}
    return store.add_share_request(**fields)


def _steps(store: OpsStore, request_id: int) -> list[str]:
    return [s["step"] for s in store.share_request(request_id)["steps"]]


def test_the_answer_is_due_in_five_working_days_on_the_official_calendar() -> None:
    assert ANSWER_WORKING_DAYS == 5
    # Over National Day: the make-up Sunday counts, the eight days of holiday do not.
    assert add_working_days(FRIDAY, 5) == DUE
    assert add_working_days(dt.datetime(2024, 9, 27, 16, 30), 5) == dt.datetime(2024, 10, 10, 16, 30)  # Sun 29 Sep 2024 worked
    # An ordinary weekend, and a request made on a Saturday (the clock starts on Monday).
    assert add_working_days(dt.datetime(2025, 11, 14, 9, 0), 5) == dt.datetime(2025, 11, 21, 9, 0)
    assert add_working_days(dt.datetime(2025, 11, 15, 9, 0), 5) == dt.datetime(2025, 11, 21, 9, 0)


def test_a_conditional_request_goes_draft_submitted_approved_active_expired(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    assert store.share_request(rid)["status"].state == "draft" and store.share_request(rid)["status"].due_at is None
    with pytest.raises(RequestRefused, match="not_yours"):  # another department cannot submit it
        store.add_share_step(rid, "submit", **{**CIVIL, "scope": "health"}, now=FRIDAY)
    s = store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    assert (s.state, s.submitted_at, s.due_at) == ("submitted", FRIDAY, DUE)
    with pytest.raises(RequestRefused, match="state"):  # the officer cannot take a key before the answer
        store.issue_key(rid, **CIVIL)
    with pytest.raises(RequestRefused, match="not_yours"):  # the requester cannot approve its own request
        store.add_share_step(rid, "approve", **CIVIL, now=FRIDAY)
    s = store.add_share_step(rid, "approve", **PSB, now=dt.datetime(2025, 10, 9, 15, 0))
    assert (s.state, s.answered_by, s.escalated(dt.datetime(2026, 1, 1))) == ("approved", "psb", False)
    with pytest.raises(RequestRefused, match="state"):  # answered once
        store.add_share_step(rid, "refuse", **PSB, reason="改变主意")
    with pytest.raises(RequestRefused, match="not_yours"):  # the owner does not take the requester's key
        store.issue_key(rid, **PSB)
    key = store.issue_key(rid, **CIVIL)  # activates the grant
    req = store.share_request(rid)
    status = req["status"]
    assert status.state == "active" and status.expires_at - status.active_from == dt.timedelta(days=90)
    assert _steps(store, rid) == ["submit", "approve", "activate"]
    grant = store.grant_for_key(key)
    assert (grant.entry_code, grant.items, grant.department, grant.owner) == \
        ("library/population/persons", ("district_code", "id_number", "status"), "civil", "psb")
    # 90 days on, the grant has expired: its key answers nothing and it can no longer be revoked.
    later = status.expires_at
    assert status.current(later) == "expired" and store.grant_for_key(key, now=later) is None
    assert store.grant_for_key(key, now=later - dt.timedelta(seconds=1)) is not None
    with pytest.raises(RequestRefused, match="state"):
        store.add_share_step(rid, "revoke", **PSB, reason="到期后", now=later)
    # Steps are kept as they were written.
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE share_request_steps SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM share_request_steps")
    con.close()


def test_an_unconditional_entry_is_granted_on_submission(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store, "unconditional", submit=True)
    req = store.share_request(rid)
    assert req["status"].state == "approved" and req["status"].answered_at == req["status"].submitted_at
    assert [(s["step"], s["actor"]) for s in req["steps"]] == [("submit", "clerk"), ("approve", "system")]
    assert store.grant_for_key(store.issue_key(rid, **CIVIL)) is not None


def test_an_entry_not_shared_cannot_be_requested(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    for bad in ({"sharing_class": "none"}, {"sharing_class": "open to all"}, {"items": []}, {"days": 0}, {"days": 367},
                {"purpose": "   "}, {"scenario": ""}, {"legal_basis": "x" * 501}, {"purpose": "bad\x00byte"}):
        with pytest.raises(RequestRefused):
            _request(store, **({"sharing_class": "conditional"} | bad))
    assert store.share_requests() == []  # nothing written


def test_a_refusal_needs_a_reason_and_one_without_changes_nothing(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    for empty in ("", "   ", None):
        with pytest.raises(RequestRefused, match="reason"):
            store.add_share_step(rid, "refuse", **PSB, reason=empty)
    assert _steps(store, rid) == ["submit"] and store.share_request(rid)["status"].state == "submitted"
    s = store.add_share_step(rid, "refuse", **PSB, reason="用途超出法定职责范围", now=dt.datetime(2025, 9, 29, 9, 0))
    assert (s.state, s.reason, s.answered_by) == ("refused", "用途超出法定职责范围", "psb")
    with pytest.raises(RequestRefused, match="state"):  # a refused request gives no key
        store.issue_key(rid, **CIVIL)


def test_a_forged_answer_by_another_department_changes_nothing(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    for step, reason in (("approve", ""), ("refuse", "不给")):
        for who in (HEALTH, BUREAU, {**PSB, "scope": None}):  # the bureau only once overdue; no scope, nobody
            with pytest.raises(RequestRefused, match="not_yours"):
                store.add_share_step(rid, step, **who, reason=reason, now=FRIDAY + dt.timedelta(days=1))
    assert _steps(store, rid) == ["submit"]


def test_an_unanswered_request_escalates_to_the_data_resources_bureau(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    status = store.share_request(rid)["status"]
    assert not status.escalated(DUE) and status.escalated(DUE + dt.timedelta(minutes=1))
    with pytest.raises(RequestRefused, match="not_yours"):  # not yet: the owner still has time
        store.add_share_step(rid, "approve", **BUREAU, now=DUE - dt.timedelta(hours=1))
    s = store.add_share_step(rid, "approve", **BUREAU, now=DUE + dt.timedelta(hours=1))
    # The bureau answered, and the late answer stays counted against the owner.
    assert (s.state, s.answered_by, s.escalated(dt.datetime(2030, 1, 1))) == ("approved", "dsb", True)
    # The bureau answers; the owner alone revokes its grants.
    with pytest.raises(RequestRefused, match="not_yours"):
        store.add_share_step(rid, "revoke", **BUREAU, reason="x")


def test_revoking_a_grant_kills_its_keys(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    store.add_share_step(rid, "approve", **PSB, now=FRIDAY)
    first, second = store.issue_key(rid, **CIVIL), store.issue_key(rid, **CIVIL)  # the second replaces a leaked one
    assert store.grant_for_key(first) and store.grant_for_key(second)
    assert store.grant_for_key(second.rsplit("_", 1)[0] + "_forged") is None and store.grant_for_key("cbk_x") is None
    keys = store.api_keys(rid)
    assert len(keys) == 2 and all("secret" not in str(k) and k["revoked_at"] is None for k in keys)
    # One key ended by another department: refused; by the requester: that key alone ends.
    first_id = first.split("_")[1]
    assert not store.revoke_key(first_id, scope="health")
    assert store.revoke_key(first_id, scope="civil") and not store.revoke_key(first_id, scope="civil")
    assert store.grant_for_key(first) is None and store.grant_for_key(second) is not None
    # The grant revoked by its owner, with a reason: every key ends with it.
    with pytest.raises(RequestRefused, match="reason"):
        store.add_share_step(rid, "revoke", **PSB, reason="")
    with pytest.raises(RequestRefused, match="not_yours"):
        store.add_share_step(rid, "revoke", **HEALTH, reason="越权")
    s = store.add_share_step(rid, "revoke", **PSB, reason="申请部门已不再承担该职责")
    assert (s.state, s.reason) == ("revoked", "申请部门已不再承担该职责")
    assert store.grant_for_key(second) is None and all(k["revoked_at"] for k in store.api_keys(rid))
    with pytest.raises(RequestRefused, match="state"):
        store.issue_key(rid, **CIVIL)


def test_an_approved_grant_may_be_revoked_before_it_is_used(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = _request(store)
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    store.add_share_step(rid, "approve", **PSB, now=FRIDAY)
    assert store.add_share_step(rid, "revoke", **PSB, reason="批准有误").state == "revoked"
    assert _steps(store, rid) == ["submit", "approve", "revoke"]


def test_texts_with_bidirectional_overrides_or_c1_controls_are_refused(tmp_path: Path) -> None:
    """What the steward, the citizen and the auditor read back cannot be reordered or hide bytes:
    a right-to-left override, an isolate, DEL and C1 controls are refused like NUL; Chinese,
    newlines and tabs are plain text."""
    store = OpsStore(tmp_path)
    for bad in ("核验\u202e页首", "a\u2067b\u2069", "a\x7fb", "a\x85b", "a\x9bb"):
        for field in ("purpose", "scenario", "legal_basis"):
            with pytest.raises(RequestRefused, match=field):
                _request(store, **{field: bad})
    assert store.share_requests() == []
    rid = _request(store, purpose="核验户籍状态\n以办理低保\t(第一项)")
    store.add_share_step(rid, "submit", **CIVIL, now=FRIDAY)
    with pytest.raises(RequestRefused, match="reason"):
        store.add_share_step(rid, "refuse", **PSB, reason="\u202eno")
    assert _steps(store, rid) == ["submit"]
