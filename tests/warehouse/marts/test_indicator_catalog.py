"""The indicator catalog (warehouse/marts/indicators/catalog.toml) and the lineage derived from it."""

from __future__ import annotations

import pytest

from warehouse.contract.feeds import FEEDS, FEEDS_BY_ID
from warehouse.libraries.build import LIBRARIES, feeds_behind
from warehouse.marts.indicators.catalog import Indicator, catalog, load, overview
from warehouse.marts.lineage import LEDGER, feeds_of, indicator_feed_rows

FLOW = """
[[indicator]]
id = "x.{code}"
name_zh = "甲 · {name_zh}"
name_en = "X: {name_en}"
unit = "件"
domain = "service"
owner = "{code}"
kind = "count"
direction = "lower"
scope = "city"
flow = true
reads = ["service.tickets"]
dimensions = {handler = "{code}"}
"""


def test_every_indicator_has_sources_and_reads_only_known_feeds_and_tables() -> None:
    for ind in catalog():
        assert ind.reads, f"{ind.id}: no 'reads' in the catalog"
        basis, feeds = feeds_of(ind)  # a name that is neither a feed nor a library table raises KeyError
        assert feeds and set(feeds) <= set(FEEDS_BY_ID), ind.id
        assert basis == ("business_date" if LEDGER in ind.reads else "event" if ind.flow else "change"), ind.id
    assert {r[0] for r in indicator_feed_rows()} == {i.id for i in catalog()}


def test_an_unknown_table_or_an_empty_reads_is_caught() -> None:
    base = {"name_zh": "甲", "name_en": "X", "unit": "件", "domain": "service", "owner": "hotline", "kind": "count",
            "direction": "lower", "scope": "city"}
    with pytest.raises(KeyError):
        feeds_of(Indicator(id="x", reads=("service.no_such_table",), **base))
    with pytest.raises(KeyError):
        feeds_of(Indicator(id="x", reads=("hotline/no_such_feed",), **base))
    assert feeds_of(Indicator(id="x", **base))[1] == ()  # what the first test refuses


def test_library_tables_lead_back_to_their_librarys_feeds() -> None:
    for lib in LIBRARIES.values():
        own = set(lib.feeds) | {f for a in lib.after for f in LIBRARIES[a].feeds}
        for model in lib.models:
            assert model.reads and set(feeds_behind(model.table)) <= own, model.table
    assert feeds_behind("population.person_history") == ("psb/household_events", "health/death_records")
    assert set(feeds_behind("population.persons")) == set(LIBRARIES["population"].feeds)


def test_lineage_by_kind_of_indicator() -> None:
    by_id = {i.id: i for i in catalog()}
    assert feeds_of(by_id["pop.births"]) == ("event", ("psb/household_events",))
    assert feeds_of(by_id["svc.requests"]) == ("event", ("hotline/service_requests",))  # a flow read through its library
    assert feeds_of(by_id["cert.valid"]) == ("change", ("dsb/certificate_events",))
    assert feeds_of(by_id["gov.on_time_rate"]) == ("business_date", tuple(f.id for f in FEEDS))
    assert feeds_of(by_id["gov.on_time_rate.samr"]) == ("business_date", ("samr/entity_events",))
    assert by_id["svc.requests"].feeds == ("hotline/service_requests",) and by_id["cert.valid"].feeds == ()


def test_a_templated_dimension_repeats_an_entry_over_its_code_list() -> None:
    from warehouse.contract.feeds import REQUEST_HANDLERS

    made = load(FLOW)
    assert [i.id for i in made] == [f"x.{h}" for h in REQUEST_HANDLERS]
    urban = next(i for i in made if i.id == "x.urban")
    assert urban.dimensions == {"handler": "urban"} and urban.owner == "urban"
    assert urban.name_en == f"X: {REQUEST_HANDLERS['urban'][1]}" and urban.feeds == ("hotline/service_requests",)


def test_the_overview_cards_are_numbered_once_each() -> None:
    places = [i.overview for i in overview()]
    assert places == list(range(1, len(places) + 1))
    assert overview()[0].id == "svc.requests"
