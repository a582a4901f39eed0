"""OpsStore's request steps refuse, as RequestRefused and writing nothing, what the pages must not
store: an approval's optional reason too long or not plain text was a ValueError (a 500 in the page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.ops.share_requests import RequestRefused
from warehouse.ops.store import OpsStore
from warehouse.sharing.requests import REASON_MAX


def test_an_approval_with_an_unacceptable_reason_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    rid = store.add_share_request(entry_code="library/population/persons", owner="psb", sharing_class="conditional",
                                  items=["status"], department="civil", requester="clerk", role="officer",
                                  purpose="核验户籍状态", scenario="婚姻登记", legal_basis="《婚姻登记条例》第七条", days=30)
    for reason in ("x" * (REASON_MAX + 1), "ok\x00", "a" * 100_000):
        with pytest.raises(RequestRefused, match="reason"):
            store.add_share_step(rid, "approve", actor="police", role="steward", scope="psb", reason=reason)
    assert [s["step"] for s in store.share_request(rid)["steps"]] == ["submit"]
    assert store.add_share_step(rid, "approve", actor="police", role="steward", scope="psb", reason="同意").state == "approved"


def test_calls_served_are_counted_from_the_index_not_a_scan_of_the_log(tmp_path) -> None:
    """The access log grows by every call and sign-in; counting calls reads its (action, scope) index."""
    import sqlite3

    from warehouse.contract.labels import API_ACTIONS

    OpsStore(tmp_path)
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    actions = list(API_ACTIONS)
    plan = " ".join(r[3] for r in con.execute(
        f"EXPLAIN QUERY PLAN SELECT action, scope, count(*) FROM access_log WHERE action IN ({', '.join('?' * len(actions))}) "
        "GROUP BY action, scope", actions))
    assert "USING COVERING INDEX access_log_action" in plan, plan
