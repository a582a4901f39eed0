"""The catalog as DCAT-AP JSON-LD (contract §6: ``GET /catalog.jsonld``), for other platforms'
harvesters: a ``dcat:Catalog`` with one ``dcat:Dataset`` per entry.

Each dataset carries DCAT-AP's mandatory properties (``dct:title``, ``dct:description``, in
Chinese and English) and the recommended and optional ones the catalog knows:
``dct:identifier`` (the entry's code), ``dct:publisher`` and ``dcat:contactPoint`` (the owning
department), ``dcat:keyword``, ``dcat:theme`` (the EU data-theme vocabulary),
``dct:accrualPeriodicity`` (the EU frequency vocabulary), ``dct:modified``, ``dct:type`` (the
kind of entry), ``dct:accessRights`` (the EU access-right vocabulary: unconditional sharing
``PUBLIC``, conditional ``RESTRICTED``, not shared ``NON_PUBLIC``) with ``dct:rights`` stating
the sharing class and its basis (the law it rests on named in its words), ``prov:wasDerivedFrom`` (lineage up), ``dcat:landingPage`` (the entry's page) and
``dcat:distribution`` where the data can be had: the governed interface of contract §6 (a
``dcat:DataService`` described by its OpenAPI document) or an open-data set's files. The
context is inline, so a reader needs no network to expand it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from warehouse.contract import labels
from warehouse.contract.feeds import OWNER_DEPARTMENTS, REQUEST_HANDLERS
from warehouse.marts import open_data
from warehouse.sharing.catalog import OPENAPI_PATH, Entry

EU = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHTS = {"unconditional": "PUBLIC", "conditional": "RESTRICTED", "none": "NON_PUBLIC"}
FREQUENCIES = {"daily": "DAILY"}
# The EU data theme of an entry, by the department that owns it.
THEMES = {"psb": "SOCI", "health": "HEAL", "civil": "SOCI", "hrss": "SOCI", "samr": "ECON", "dsb": "GOVE",
          "hotline": "GOVE", "transport": "TRAN", "environment": "ENVI", "education": "EDUC", "housing": "REGI"}
MEDIA_TYPES = {"csv": ("CSV", "text/csv"), "parquet": ("PARQUET", "application/vnd.apache.parquet")}

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _text(zh: str, en: str) -> list[dict]:
    """A text in both languages, each tagged (``@language``)."""
    return [{"@value": zh, "@language": "zh"}, {"@value": en, "@language": "en"}]


def _when(value) -> dict | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return {"@value": value.replace(microsecond=0).isoformat(), "@type": "xsd:dateTime"}
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _department(base: str, code: str) -> dict:
    zh, en = OWNER_DEPARTMENTS.get(code) or REQUEST_HANDLERS.get(code) or (code, code)
    return {"@id": f"{base}/catalog?department={quote(code)}", "@type": "foaf:Agent", "foaf:name": _text(zh, en),
            "dct:identifier": code}


def _page(base: str, code: str) -> str:
    return f"{base}/catalog?entry={quote(code, safe='/')}"


def _distributions(base: str, e: Entry) -> list[dict]:
    """Where the entry's data can be had: its governed interface, or an open set's files."""
    out = []
    if e.interface:
        method, path = e.interface
        out.append({
            "@id": f"{base}{path}", "@type": "dcat:Distribution",
            "dct:title": _text(f"{e.name_zh}（共享接口）", f"{e.name} (governed interface)"),
            "dct:description": _text("持有效授权的部门业务人员以密钥调用，须携带经办人和案件编号。",
                                     "Called with the key of an active grant, naming the officer and the case number."),
            "dcat:accessURL": {"@id": f"{base}{path}"},
            "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/application/json"},
            "dct:format": {"@id": f"{EU}file-type/JSON"},
            "dcat:accessService": {
                "@id": f"{base}/api/v1", "@type": "dcat:DataService",
                "dct:title": _text("城市大脑共享接口", "City Brain governed interfaces"),
                "dcat:endpointURL": {"@id": f"{base}/api/v1"},
                "dcat:endpointDescription": {"@id": f"{base}{OPENAPI_PATH}"},
                "dct:conformsTo": {"@id": "https://spec.openapis.org/oas/v3.1.0"},
            },
        })
    if e.kind == "open":
        dataset = open_data.DATASETS.get(e.code.split("/", 1)[1])
        for file in dataset.files if dataset else ():
            fmt, media = MEDIA_TYPES.get(file.rsplit(".", 1)[-1], ("BIN", "application/octet-stream"))
            out.append({
                "@id": f"{_page(base, e.code)}#{file}", "@type": "dcat:Distribution", "dct:title": file,
                "dcat:accessURL": {"@id": _page(base, e.code)}, "dct:format": {"@id": f"{EU}file-type/{fmt}"},
                "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}"},
            })
    return out


def _dataset(base: str, e: Entry) -> dict:
    kind_zh, kind_en = labels.pair("entry_kind", e.kind) or (e.kind, e.kind)
    class_zh, class_en = labels.pair("sharing_class", e.sharing_class) or (e.sharing_class, e.sharing_class)
    open_zh, open_en = labels.pair("open_class", e.open_class) or (e.open_class, e.open_class)
    keywords = [{"@value": k, "@language": "zh" if any(ord(c) > 0x2E80 for c in k) else "en"} for k in e.keywords]
    owner = _department(base, e.owner)
    out = {
        "@id": _page(base, e.code), "@type": "dcat:Dataset",
        "dct:identifier": e.code,
        "dct:title": _text(e.name_zh, e.name),
        "dct:description": _text(e.description_zh, e.description),
        "dct:publisher": owner,
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": owner["foaf:name"]},
        "dcat:keyword": keywords,
        "dcat:theme": {"@id": f"{EU}data-theme/{THEMES.get(e.owner, 'GOVE')}"},
        "dct:type": {"@type": "skos:Concept", "skos:prefLabel": _text(kind_zh, kind_en), "skos:notation": e.kind},
        "dct:accrualPeriodicity": {"@id": f"{EU}frequency/{FREQUENCIES.get(e.update_cycle, 'UNKNOWN')}"},
        "dct:accessRights": {"@id": f"{EU}access-right/{ACCESS_RIGHTS[e.sharing_class]}"},
        "dct:rights": {"@type": "dct:RightsStatement",
                       "rdfs:label": _text(f"{class_zh}（{open_zh}）：{e.basis('zh')}", f"{class_en} ({open_en}): {e.basis('en')}")},
        "dcat:landingPage": {"@id": _page(base, e.code)},
        "prov:wasDerivedFrom": [{"@id": _page(base, u)} for u in e.upstream],
        "dcat:distribution": _distributions(base, e),
    }
    modified = _when(e.stats.last_update) or _when(e.edited_at)
    if modified:
        out["dct:modified"] = modified
    return out


def catalog_jsonld(entries: Mapping[str, Entry] | Iterable[Entry], base: str, *, modified=None) -> dict:
    """The whole catalog as a DCAT-AP JSON-LD document, its IRIs under ``base`` (the cockpit's
    address, no trailing slash); ``modified``: when the snapshot it describes was made."""
    items = list(entries.values()) if isinstance(entries, Mapping) else list(entries)
    doc = {
        "@context": CONTEXT,
        "@id": f"{base}/catalog.jsonld", "@type": "dcat:Catalog",
        "dct:title": _text("城市大脑统一数据目录", "City Brain data catalog"),
        "dct:description": _text("由平台代码声明生成的政务数据资源目录：源数据、主题库表、指标与开放数据，含共享属性与开放属性。",
                                 "The government data resources City Brain holds, derived from what its code declares: "
                                 "source feeds, library tables, indicators and open data, with their sharing and open classes."),
        "dct:publisher": _department(base, "dsb"),
        "dct:language": [{"@id": f"{EU}language/ZHO"}, {"@id": f"{EU}language/ENG"}],
        "foaf:homepage": {"@id": f"{base}/catalog"},
        "dcat:dataset": [_dataset(base, e) for e in items],
    }
    if _when(modified):
        doc["dct:modified"] = _when(modified)
    return doc
