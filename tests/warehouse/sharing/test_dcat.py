"""The catalog as DCAT-AP JSON-LD (contract §6): it parses as JSON-LD (rdflib, offline: the
context is inline) into one dcat:Catalog with one dcat:Dataset per entry, each with DCAT-AP's
mandatory properties in both languages and the ones the catalog knows, the access rights
following the sharing class, and a distribution where the data can be had."""

from __future__ import annotations

import json

from rdflib import RDF, Graph, Literal, Namespace, URIRef

from warehouse.ops.store import OpsStore
from warehouse.sharing import catalog
from warehouse.sharing.dcat import catalog_jsonld

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
EU = "http://publications.europa.eu/resource/authority/"
BASE = "https://citybrain.example"


def _graph(doc: dict) -> Graph:
    return Graph().parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld")


def _dataset(g: Graph, code: str) -> URIRef:
    found = [s for s in g.subjects(DCT.identifier, Literal(code)) if (s, RDF.type, DCAT.Dataset) in g]
    assert len(found) == 1, code
    return found[0]


def test_the_export_parses_as_dcat_ap(tmp_path) -> None:
    store = OpsStore(tmp_path)
    store.edit_catalog_entry("library/population/persons", {"description_en": "Edited by its owner."},
                             actor="police", role="steward", scope="psb")
    entries = catalog.entries(store=store)
    g = _graph(catalog_jsonld(entries, BASE, modified="2026-11-21 07:00:00"))
    catalogs = list(g.subjects(RDF.type, DCAT.Catalog))
    assert catalogs == [URIRef(f"{BASE}/catalog.jsonld")]
    cat = catalogs[0]
    for prop in (DCT.title, DCT.description, DCT.publisher, DCT.modified):
        assert g.value(cat, prop) is not None, prop
    datasets = set(g.objects(cat, DCAT.dataset))
    assert len(datasets) == len(entries) == len(set(g.subjects(RDF.type, DCAT.Dataset)))
    for ds in datasets:
        # Mandatory (title, description) in both languages; the recommended and optional ones the catalog knows.
        for prop in (DCT.title, DCT.description):
            assert {o.language for o in g.objects(ds, prop)} == {"zh", "en"}, (ds, prop)
        for prop in (DCT.identifier, DCT.publisher, DCAT.contactPoint, DCAT.keyword, DCAT.theme, DCT.accrualPeriodicity,
                     DCT.accessRights, DCT.rights, DCAT.landingPage, DCT.type):
            assert g.value(ds, prop) is not None, (ds, prop)
        assert g.value(ds, DCT.accrualPeriodicity) == URIRef(f"{EU}frequency/DAILY")
        assert g.value(g.value(ds, DCT.publisher), FOAF.name) is not None
        code = str(g.value(ds, DCT.identifier))
        expected = {"unconditional": "PUBLIC", "conditional": "RESTRICTED", "none": "NON_PUBLIC"}[entries[code].sharing_class]
        assert g.value(ds, DCT.accessRights) == URIRef(f"{EU}access-right/{expected}"), code
        # Lineage up, as IRIs of the entries it is made from.
        assert {str(o) for o in g.objects(ds, PROV.wasDerivedFrom)} == {f"{BASE}/catalog?entry={u}" for u in entries[code].upstream}
    persons = _dataset(g, "library/population/persons")
    assert Literal("Edited by its owner.", lang="en") in set(g.objects(persons, DCT.description))
    distribution = g.value(persons, DCAT.distribution)
    assert g.value(distribution, DCAT.accessURL) == URIRef(f"{BASE}/api/v1/persons/status")
    service = g.value(distribution, DCAT.accessService)
    assert (service, RDF.type, DCAT.DataService) in g
    assert g.value(service, DCAT.endpointDescription) == URIRef(f"{BASE}/api/v1/openapi.json")
    opened = _dataset(g, "open/indicators")
    assert {str(g.value(d, DCT["format"])).rsplit("/", 1)[1] for d in g.objects(opened, DCAT.distribution)} == {"CSV", "PARQUET"}
    assert g.value(_dataset(g, "quarantine/psb/household_events"), DCAT.distribution) is None  # nothing to be had
