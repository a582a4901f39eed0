"""The loop from alert to closure in the operational store: append-only steps, transitions
checked inside the write, old acknowledgements migrated, owners' performance from the steps."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from warehouse.ops.alert_loop import owner_performance, states
from warehouse.ops.store import OpsStore

BOSS = {"actor": "boss", "role": "city_manager", "scope": None}


def _xihu(role: str = "district_manager") -> dict:
    return {"actor": "xihu", "role": role, "scope": "330106"}


def test_steps_follow_the_loop_and_cannot_be_changed(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    now = dt.datetime.now()
    assert not store.add_alert_step("a1", "close", **BOSS, rating=5)  # nothing to close before it is handled
    assert not store.add_alert_step("a1", "return", **BOSS, note="x")
    assert store.add_alert_step("a1", "dispatch", **BOSS, owner=("district", "330106"), due_at=now + dt.timedelta(hours=24))
    assert store.add_alert_step("a1", "handle", **_xihu(), note="done")
    assert not store.add_alert_step("a1", "handle", **_xihu(), note="twice")  # handled: waits on the manager
    assert store.add_alert_step("a1", "return", **BOSS, note="say how")
    assert store.add_alert_step("a1", "handle", **_xihu(), note="checked on site")
    assert store.add_alert_step("a1", "close", **BOSS, rating=4, note="fine")
    assert not store.add_alert_step("a1", "close", **BOSS, rating=5)  # closed once
    assert not store.add_alert_step("a1", "dispatch", **BOSS, owner=("department", "psb"), due_at=now)
    loop = states(store.alert_steps())["a1"]
    assert (loop.state, loop.owner_kind, loop.owner_code, loop.rating, loop.returns) == ("closed", "district", "330106", 4, 1)
    assert [s["step"] for s in store.alert_steps("a1")] == ["dispatch", "handle", "return", "handle", "close"]
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE alert_steps SET rating = 5")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM alert_steps")
    con.close()


def test_old_acknowledgements_become_steps_once(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    con.executescript("""CREATE TABLE acknowledgements (alert_id TEXT NOT NULL, username TEXT NOT NULL, comment TEXT,
                                                        at TEXT NOT NULL, applied INTEGER NOT NULL DEFAULT 0);
                         INSERT INTO acknowledgements VALUES ('old1', 'boss', 'on it', '2026-11-20T09:00:00', 1);""")
    con.close()
    OpsStore(tmp_path)
    store = OpsStore(tmp_path)  # opened twice: migrated once
    steps = store.alert_steps("old1")
    assert [(s["step"], s["actor"], s["note"], s["at"]) for s in steps] == [("acknowledge", "boss", "on it", "2026-11-20T09:00:00")]
    assert states(steps)["old1"].state == "new"  # seen, not yet dispatched: the loop starts from there
    assert store.add_alert_step("old1", "dispatch", **BOSS, owner=("department", "psb"), due_at=dt.datetime.now())


def test_owner_performance_counts_on_time_disposal_and_time_to_close(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    now = dt.datetime.now()
    police = {"actor": "police", "role": "steward", "scope": "psb"}
    # Xihu: one handled within its limit and closed, one past its limit and still waiting.
    store.add_alert_step("a", "dispatch", **BOSS, owner=("district", "330106"), due_at=now + dt.timedelta(hours=8))
    store.add_alert_step("a", "handle", **_xihu(), note="done")
    store.add_alert_step("a", "close", **BOSS, rating=5)
    store.add_alert_step("b", "dispatch", **BOSS, owner=("district", "330106"), due_at=now - dt.timedelta(hours=1))
    # The police: handled after its limit had passed, returned once, then closed.
    store.add_alert_step("c", "dispatch", **BOSS, owner=("department", "psb"), due_at=now - dt.timedelta(minutes=1))
    store.add_alert_step("c", "handle", **police, note="late")
    store.add_alert_step("c", "return", **BOSS, note="more")
    store.add_alert_step("c", "handle", **police, note="more done")
    store.add_alert_step("c", "close", **BOSS, rating=2)
    # Not yet due and not handled: dispatched, but not judged yet.
    store.add_alert_step("d", "dispatch", **BOSS, owner=("department", "psb"), due_at=now + dt.timedelta(hours=4))
    perf = {(r["owner_kind"], r["owner_code"]): r for r in owner_performance(store.alert_steps(), dt.datetime.now())}
    xihu, psb = perf[("district", "330106")], perf[("department", "psb")]
    assert (xihu["dispatched"], xihu["judged"], xihu["on_time"], xihu["on_time_rate"], xihu["overdue"]) == (2, 2, 1, 0.5, 1)
    assert (xihu["closed"], xihu["mean_rating"], xihu["returns"]) == (1, 5, 0)
    assert (psb["dispatched"], psb["judged"], psb["on_time"], psb["on_time_rate"], psb["overdue"]) == (2, 1, 0, 0.0, 0)
    assert (psb["closed"], psb["mean_rating"], psb["returns"]) == (1, 2, 1)
    # Hours from the dispatch to the closure, as the steps' own times say.
    steps = {(s["alert_id"], s["step"]): dt.datetime.fromisoformat(s["at"]) for s in store.alert_steps()}
    assert xihu["median_hours_to_close"] == (steps[("a", "close")] - steps[("a", "dispatch")]).total_seconds() / 3600
