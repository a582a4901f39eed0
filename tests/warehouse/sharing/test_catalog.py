"""The catalog (统一目录) derived from what the code declares: every feed, library table,
indicator and open-data set has an entry with a stable code, a feed declared at run time
appears with no catalog edit, the derived defaults follow their rule, lineage is the code's one
lineage in both directions, and the live facts of a real published snapshot of the tiny city
agree with the warehouse they were published from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from warehouse.contract import feeds as contract
from warehouse.contract.feeds import Feed, _c
from warehouse.contract.translations import pgettext
from warehouse.libraries.build import LIBRARIES
from warehouse.marts import open_data
from warehouse.marts.indicators.catalog import catalog as indicator_catalog
from warehouse.marts.lineage import feeds_of
from warehouse.ops.store import OpsStore
from warehouse.serving.publish import publish
from warehouse.sharing import catalog
from warehouse.sharing.catalog import AGGREGATE_BASIS, PERSONAL_BASIS, QUARANTINE_BASIS
from warehouse.sharing.requests import SHARING_CLASSES

CODE = re.compile(r"^(feed|quarantine|library)/[a-z_0-9]+/[a-z_0-9]+$|^indicator/[\w.]+$|^open/[a-z_0-9]+$")
# What the governed interfaces answer from (contract §6), and the items they need.
INTERFACE_ITEMS = {
    "library/population/persons": {"id_number", "name", "status", "district_code"},
    "library/e_certificate/certificate_state": {"certificate_no", "holder_id", "certificate_type", "issuer", "valid_from",
                                                "valid_to", "lifecycle"},
    "library/legal_person/entities": {"uscc", "name", "status", "district_code", "legal_rep_id_number"},
}


def test_every_declared_thing_has_an_entry_with_a_stable_code() -> None:
    entries = catalog.declared()
    assert {f"feed/{f.id}" for f in contract.FEEDS} <= set(entries)
    assert {f"quarantine/{f.id}" for f in contract.FEEDS} <= set(entries)
    tables = {m.table for lib in LIBRARIES.values() for m in lib.models}
    assert {catalog.library_code(t) for t in tables} <= set(entries)
    assert {f"indicator/{i.id}" for i in indicator_catalog()} <= set(entries)
    assert {f"open/{name}" for name in open_data.DATASETS} <= set(entries)
    assert len(entries) == 2 * len(contract.FEEDS) + len(tables) + len(indicator_catalog()) + len(open_data.DATASETS)
    for code, e in entries.items():
        assert CODE.match(code) and e.code == code, code
        assert e.kind == code.split("/", 1)[0] and e.kind in catalog.KINDS
        assert e.name and e.name_zh and e.description and e.description_zh, code
        assert e.owner in contract.OWNER_DEPARTMENTS, code
        assert e.sharing_class in SHARING_CLASSES and e.open_class in catalog.OPEN_CLASSES and e.update_cycle == "daily"
        assert e.sharing_class == "unconditional" or e.sharing_basis, code
        assert e.items and len({i.name for i in e.items}) == len(e.items), code
    # Derived twice, the same codes in the same order (nothing depends on the order of a set).
    assert list(catalog.declared()) == list(entries)


def test_the_three_interface_entries_exist_with_their_items() -> None:
    for code, needed in INTERFACE_ITEMS.items():
        e = catalog.entry(code)
        assert e is not None and e.kind == "library" and e.interface is not None, code
        assert needed <= {i.name for i in e.items}, code
        assert e.sharing_class == "conditional" and e.sharing_basis == PERSONAL_BASIS
    persons = catalog.entry("library/population/persons")
    assert persons.owner == "psb" and persons.name_zh == "人口库 · 人员"
    assert persons.item("id_number").personal and persons.item("id_number").sensitive and persons.item("id_number").type == "id_number"
    assert persons.item("name").personal and not persons.item("status").personal
    assert persons.item("district_code").type == "district"  # its source column's kind, not VARCHAR
    entities = catalog.entry("library/legal_person/entities")
    assert entities.owner == "samr" and not entities.item("name").personal  # an entity's name is no person's
    assert entities.item("legal_rep_id_number").personal
    certificates = catalog.entry("library/e_certificate/certificate_state")
    assert certificates.owner == "dsb" and certificates.item("holder_id").personal
    assert catalog.entry("library/population/nowhere") is None


def test_the_derived_defaults_follow_the_rule() -> None:
    entries = catalog.declared()
    household = entries["feed/psb/household_events"]
    assert (household.owner, household.sharing_class, household.sharing_basis, household.open_class) == \
        ("psb", "conditional", PERSONAL_BASIS, "none")
    usage = entries["feed/dsb/certificate_usage"]  # record-level, no personal item
    assert not usage.personal and usage.sharing_class == "conditional" and usage.sharing_basis == catalog.RECORD_BASIS
    assert usage.open_class == "conditional"
    rejected = entries["quarantine/psb/household_events"]
    assert (rejected.sharing_class, rejected.sharing_basis, rejected.open_class) == ("none", QUARANTINE_BASIS, "none")
    births = entries["indicator/pop.births"]
    assert (births.sharing_class, births.sharing_basis, births.owner) == ("unconditional", AGGREGATE_BASIS, "psb")
    opened = entries["open/indicators"]
    assert (opened.sharing_class, opened.open_class, opened.owner) == ("unconditional", "unconditional", "dsb")
    # A templated indicator's owner is its own handler; the district governments deliver nothing and
    # have no steward, so theirs falls to the one department of its feeds.
    assert entries["indicator/svc.on_time_rate.urban"].owner == "urban"
    assert entries["indicator/svc.on_time_rate.local"].owner == "hotline"
    assert entries["indicator/gov.rejection_rate"].owner == "dsb"
    # The bases are in both languages; the Chinese names the law.
    assert "个人信息保护法" in pgettext(None, PERSONAL_BASIS, "zh")
    assert household.basis("zh") != household.basis("en")


def test_lineage_is_the_codes_one_lineage_in_both_directions() -> None:
    entries = catalog.declared()
    for e in entries.values():
        for up in e.upstream:
            assert up in entries and e.code in entries[up].downstream, (e.code, up)
        for down in e.downstream:
            assert e.code in entries[down].upstream
    behind = catalog._feeds_behind(entries)
    for ind in indicator_catalog():
        assert set(behind[f"indicator/{ind.id}"]) == {f"feed/{f}" for f in feeds_of(ind)[1]}, ind.id
    household = entries["feed/psb/household_events"]
    assert {"library/population/person_history", "indicator/pop.births"} <= set(household.downstream)
    assert entries["library/population/persons"].upstream == (
        "library/population/person_history", "feed/civil/marriage_registrations", "feed/hrss/insurance_events")
    assert "indicator/pop.births" in entries["open/indicators"].upstream  # a count is published
    assert "indicator/pop.birth_rate" not in entries["open/indicators"].upstream  # a ratio is not


def test_a_feed_declared_at_run_time_appears_with_no_catalog_edit(monkeypatch) -> None:
    revocations = Feed("dsb", "certificate_revocations", "revocation_id",
                       (_c("revocation_id"), _c("certificate_no"), _c("revoked_on", "date", event=True),
                        _c("district_code", "district"), _c("holder_id", "holder_id")),
                       "电子证照撤销记录", "e-certificate revocations")
    before = catalog.declared()
    monkeypatch.setattr(contract, "FEEDS", (*contract.FEEDS, revocations))
    monkeypatch.setattr(contract, "FEEDS_BY_ID", {**contract.FEEDS_BY_ID, revocations.id: revocations})
    entries = catalog.declared()
    e = entries["feed/dsb/certificate_revocations"]
    assert (e.name_zh, e.name, e.owner, e.sharing_class) == ("电子证照撤销记录", "E-certificate revocations", "dsb", "conditional")
    assert [i.name for i in e.items] == ["revocation_id", "certificate_no", "revoked_on", "district_code", "holder_id"]
    assert e.item("holder_id").personal and e.item("revoked_on").type == "date"
    assert entries["quarantine/dsb/certificate_revocations"].sharing_class == "none"
    assert len(entries) == len(before) + 2
    monkeypatch.undo()
    assert "feed/dsb/certificate_revocations" not in catalog.declared()


def test_every_derived_word_has_its_chinese() -> None:
    """The derived names and descriptions are extracted (babel.cfg) and translated, so a page in
    Chinese shows no English the catalog made up; a new table or column fails the translations
    test until its Chinese is written."""
    for context, text in catalog.msgids():
        assert pgettext(context, text, "zh") != text or text == "{library} · {table}", (context, text)
    assert catalog.item_title("legal_rep_id_number") == "Legal representative ID number"


@pytest.fixture(scope="module")
def published(tiny: tuple[Path, duckdb.DuckDBPyConnection]) -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]:
    """The tiny city's warehouse and a snapshot published from it."""
    home, con = tiny
    path = publish(con, home / "serving", dt.datetime(2026, 11, 21, 7, 0), run_id="catalog")
    snap = duckdb.connect(str(path), read_only=True)
    yield con, snap
    snap.close()


def test_live_facts_agree_with_the_warehouse(published, tmp_path: Path) -> None:
    con, snap = published
    entries = catalog.entries(snap, OpsStore(tmp_path))
    household = entries["feed/psb/household_events"].stats
    accepted, read, rejected = con.execute(
        "SELECT sum(rows_accepted) FILTER (WHERE status IN ('accepted', 'partial')), sum(rows_read), sum(rows_rejected) "
        "FROM ingest.deliveries WHERE department = 'psb' AND feed = 'household_events' AND status <> 'superseded'").fetchone()
    assert household.rows == accepted and household.rejection_rate == pytest.approx(rejected / read)
    assert household.latest_day == dt.date(2026, 11, 20) and household.freshness == "current"
    assert entries["quarantine/psb/household_events"].stats.rows == rejected
    for lib in LIBRARIES.values():
        for m in lib.models:
            rows = con.execute(f"SELECT count(*) FROM {m.table}").fetchone()[0]  # noqa: S608 (a declared table)
            assert entries[catalog.library_code(m.table)].stats.rows == rows, m.table
    births = entries["indicator/pop.births"].stats
    assert births.rows == con.execute("SELECT count(value) FROM marts.indicator_values WHERE indicator_id = 'pop.births'").fetchone()[0]
    assert entries["open/indicators"].stats.rows == len(open_data.published_table(con))
    # Open findings are those the owner must fix.
    findings = dict(con.execute("SELECT owner_department, count(*) FROM quality.findings GROUP BY 1").fetchall())
    assert entries["feed/dsb/certificate_events"].stats.open_findings == findings.get("dsb", 0)
    # Without a snapshot, nothing is known, and nothing is made up.
    assert catalog.entries()["feed/psb/household_events"].stats == catalog.Stats()


def test_who_uses_an_entry_is_the_departments_holding_an_active_grant(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    births = catalog.declared()["indicator/pop.births"]
    request_id = store.add_share_request(entry_code=births.code, owner=births.owner, sharing_class=births.sharing_class,
                                         items=["date", "value"], department="civil", requester="clerk", purpose="研判出生趋势",
                                         scenario="婴幼儿服务规划", legal_basis="《政务信息资源共享管理暂行办法》", days=30)
    assert catalog.entries(store=store)[births.code].users == ()  # approved at once (unconditional), not yet in use
    store.issue_key(request_id, actor="clerk", role="officer", scope="civil")
    assert catalog.entries(store=store)[births.code].users == ("civil",)
    later = dt.datetime.now() + dt.timedelta(days=31)
    assert catalog.entries(store=store, now=later)[births.code].users == ()  # expired


def test_an_entry_is_a_plain_value() -> None:
    e = catalog.entry("feed/psb/household_events")
    assert dataclasses.is_dataclass(e) and isinstance(e.items, tuple) and isinstance(e.upstream, tuple)
