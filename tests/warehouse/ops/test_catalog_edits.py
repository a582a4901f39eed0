"""Owners' edits of catalog entries in a real operational store: the owning department's steward
may, another department's may not and writes nothing, a class other than unconditional needs
its basis, every edit is kept with who and when (append-only) and is in the access audit log,
and an entry's current value is its latest edit over the derived default."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from warehouse.ops.catalog_edits import CatalogEditRefused
from warehouse.ops.store import OpsStore
from warehouse.sharing import catalog

PERSONS = "library/population/persons"
BIRTHS = "indicator/pop.births"
PSB = {"actor": "police", "role": "steward", "scope": "psb"}
HEALTH = {"actor": "doctor", "role": "steward", "scope": "health"}


def _written(store: OpsStore) -> tuple[int, int]:
    """How many edits and access-log entries the store holds."""
    return len(store.catalog_edits()), len(store.access_log())


def test_the_owner_edits_and_every_edit_is_kept_and_logged(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    written = store.edit_catalog_entry(PERSONS, {"description_zh": "人口综合库：每人一条当前记录。", "description_en": "One current row per person.",
                                                 "sharing_class": "conditional", "open_class": "none"}, **PSB)
    # Only what changed is written: the class and open class were already these.
    assert set(written) == {"description_zh", "description_en"}
    e = catalog.entries(store=store)[PERSONS]
    assert (e.description_zh, e.description, e.edited_by) == ("人口综合库：每人一条当前记录。", "One current row per person.", "police")
    store.edit_catalog_entry(PERSONS, {"sharing_class": "none", "sharing_basis": "《户口登记条例》：仅供公安机关内部使用"}, **PSB)
    e = catalog.entries(store=store)[PERSONS]
    assert (e.sharing_class, e.sharing_basis, e.basis_edited) == ("none", "《户口登记条例》：仅供公安机关内部使用", True)
    assert e.basis("en") == e.basis("zh")  # an owner's basis is shown as written
    # The latest edit wins; the history keeps every one, newest first, with who and when.
    store.edit_catalog_entry(PERSONS, {"sharing_class": "conditional", "sharing_basis": "《个人信息保护法》第三十四条"}, **PSB)
    assert catalog.entries(store=store)[PERSONS].sharing_class == "conditional"
    history = store.catalog_edits(PERSONS)
    assert [h["field"] for h in history] == ["sharing_basis", "sharing_class", "sharing_basis", "sharing_class", "description_en",
                                             "description_zh"]
    assert all(h["actor"] == "police" and h["scope"] == "psb" and h["at"] for h in history)
    logged = [a for a in store.access_log() if a["action"] == "catalog_edit"]
    assert len(logged) == 3 and logged[0]["purpose"] == f"catalog {PERSONS}" and logged[0]["scope"] == "psb"
    # Append-only: the store itself refuses to change or delete an edit.
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE catalog_edits SET value = 'x'")
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM catalog_edits")
    # Other entries keep their derived defaults.
    assert catalog.entries(store=store)["feed/psb/household_events"].edited_at is None


def test_another_departments_steward_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    before = _written(store)
    for who in (HEALTH, {**PSB, "scope": None}, {**PSB, "scope": "330106"}):
        with pytest.raises(CatalogEditRefused) as refused:
            store.edit_catalog_entry(PERSONS, {"sharing_class": "unconditional"}, **who)
        assert refused.value.code == "not_owner"
    assert _written(store) == before
    assert catalog.entries(store=store)[PERSONS].sharing_class == "conditional"


def test_a_class_other_than_unconditional_needs_its_basis(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    before = _written(store)
    births = catalog.declared()[BIRTHS]
    assert births.owner == "psb" and births.sharing_class == "unconditional"
    for basis in (None, "", "   "):
        with pytest.raises(CatalogEditRefused) as refused:
            store.edit_catalog_entry(BIRTHS, {"sharing_class": "conditional", "sharing_basis": basis}, **PSB)
        assert refused.value.code == "basis_required"
    # A change to "not shared" needs its own basis even where the old class had one.
    with pytest.raises(CatalogEditRefused, match="basis_required"):
        store.edit_catalog_entry(PERSONS, {"sharing_class": "none"}, **PSB)
    assert _written(store) == before
    store.edit_catalog_entry(BIRTHS, {"sharing_class": "conditional", "sharing_basis": "涉及小区域出生人数，按需审核"}, **PSB)
    assert catalog.entries(store=store)[BIRTHS].sharing_class == "conditional"
    # Back to unconditional needs no basis.
    store.edit_catalog_entry(BIRTHS, {"sharing_class": "unconditional"}, **PSB)
    assert catalog.entries(store=store)[BIRTHS].sharing_class == "unconditional"


@pytest.mark.parametrize(("changes", "code"), [
    ({"sharing_class": "sometimes", "sharing_basis": "x"}, "class"),
    ({"open_class": "always"}, "open_class"),
    ({"owner": "psb"}, "field"),
    ({"description_en": "bad\x00text"}, "description_en"),
    ({"description_zh": "长" * 2001}, "description_zh"),
    ({}, "nothing"),
    ({"sharing_class": "conditional"}, "nothing"),  # already so
])
def test_values_outside_the_rules_are_refused(tmp_path: Path, changes: dict, code: str) -> None:
    store = OpsStore(tmp_path)
    with pytest.raises(CatalogEditRefused) as refused:
        store.edit_catalog_entry(PERSONS, changes, **PSB)
    assert refused.value.code == code
    assert _written(store) == (0, 0)
    with pytest.raises(CatalogEditRefused, match="unknown_entry"):
        store.edit_catalog_entry("library/population/nowhere", {"description_en": "x"}, **PSB)
