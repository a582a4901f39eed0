"""The governed interfaces fuzzed from their OpenAPI document (schemathesis): generated bodies,
valid and not, with headers that are right (so the bodies reach the lookups) or perturbed (no
key, a forged, revoked or another entry's key, no officer, another department's, odd case
numbers), in process against the ASGI app and over HTTP through the cockpit's WSGI mount.
No call may get a 5xx, a status the document does not declare, another content type, or an
answer outside its schema; an answered call says only what its grant holds, and is in the
access log; a refused one is not.

schemathesis generates the cases (``APIOperation.as_strategy``, positive and negative modes) and
checks the responses; Hypothesis drives them with the headers drawn here, randomly on each run
(no example database: a failure is reported with its case and draw). Its pytest integration
(``schemathesis.pytest.from_fixture``) is not used: it fails on pytest 9.2 (it sets
``Function._nodeid``), and the app needs the module's fixtures (a refreshed city, grants)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import schemathesis
from calling import ENTRY, ITEMS, Granted, library
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_api
from api.app import OPENAPI_URL
from api.guard import CASE_NO, OFFICER_ID
from api.interfaces import INTERFACES
from warehouse.ops.store import OpsStore
from warehouse.settings import Settings
from warehouse.storage.home import Home

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Generated cases per operation (3 operations): in process most, over HTTP a smaller share.
IN_PROCESS, OVER_HTTP = 300, 60
LEAST = 1000  # calls in all, the bar

CIVIL_OFFICERS = {"clerk", "clerk2"}  # the enabled officers of the grants' department (conftest)
# How a call's headers are made: mostly right, so the generated bodies reach the lookups.
VARIANTS = ["right"] * 6 + ["as_generated", "no_key", "forged_key", "not_bearer", "revoked_key", "other_entrys_key",
                            "narrow_grant", "no_officer", "odd_officer", "other_department", "no_case_no", "odd_case_no"]
# Header text a client can send (latin-1, no line breaks), for odd officers, case numbers and keys.
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)
# Bodies no JSON parser reads as the interface's, made from the generated one: not UTF-8, nested
# too deep, a number too long for Python's int, cut short, or sent as text/plain.
MANGLES = ["not_utf8", "too_deep", "long_number", "cut_short", "text_plain"]
# Per call: the headers' variant, text for it, whether (and which) record on file replaces the
# generated key of the body (None: the body as generated), so that found records are answered
# too, and whether the body is mangled (mostly not).
DRAWS = st.tuples(st.sampled_from(VARIANTS), _HEADER_TEXT, st.none() | st.integers(0, 10_000),
                  st.sampled_from([None] * 9 + MANGLES))

calls: Counter[tuple[str, int]] = Counter()  # (transport, status) -> calls made
answered: Counter[str] = Counter()  # transport -> 200s
found: Counter[str] = Counter()  # interface -> 200s about a record on file


class Callers:
    """What a fuzzed call may carry: per interface, the key of a grant of all its items and of
    one of its first item only, a revoked key; records on file to ask about."""

    def __init__(self, home: Path, store: OpsStore, grant: Callable[..., Granted]) -> None:
        self.full = {name: grant(entry).key for name, entry in ENTRY.items()}
        self.narrow = {name: grant(entry, items=ITEMS[entry][:1]).key for name, entry in ENTRY.items()}
        revoked = grant(ENTRY["persons_status"])
        assert store.revoke_key(revoked.key_id, scope="civil")
        self.revoked = revoked.key
        # Of each status, and numbers as a caller may write them (a lower-case x, a lower-case USCC).
        self.records: dict[str, list[dict[str, str]]] = {
            "persons_status": [{"id_number": n} for (n,) in library(
                home, "SELECT id_number FROM population.persons QUALIFY row_number() OVER (PARTITION BY status ORDER BY id_number) <= 3 "
                      "UNION ALL (SELECT lower(id_number) FROM population.persons WHERE id_number LIKE '%X' LIMIT 2)")],
            "certificates_verify": [{"certificate_no": no, "holder_id": h} for no, h in library(
                home, "SELECT certificate_no, holder_id FROM e_certificate.certificates "
                      "QUALIFY row_number() OVER (PARTITION BY status, valid_to IS NULL ORDER BY certificate_no) <= 3 "
                      "UNION ALL (SELECT certificate_no, lower(holder_id) FROM e_certificate.certificates "
                      "WHERE holder_id LIKE '%X' LIMIT 2)")],
            "entities_lookup": [{"uscc": u} for (u,) in library(
                home, "SELECT e.uscc FROM legal_person.entities e LEFT JOIN population.persons p ON p.id_number = e.legal_rep_id_number "
                      "QUALIFY row_number() OVER (PARTITION BY e.status, p.id_number IS NULL ORDER BY e.uscc) <= 3 "
                      "UNION ALL (SELECT lower(uscc) FROM legal_person.entities LIMIT 2)")],
        }
        assert all(self.records.values()), self.records

    def headers(self, name: str, case, variant: str, text: str, n: int) -> dict[str, str]:
        """The headers of call ``n`` (``case`` of interface ``name``) made as ``variant`` says."""
        text = text.lstrip()  # a header value cannot begin with white space (clients refuse to send it)
        right = {"Authorization": f"Bearer {self.full[name]}", "X-Officer-Id": "clerk", "X-Case-No": f"FZ-{n}"}
        generated = {k: v for k, v in (case.headers or {}).items() if k.lower() in ("x-officer-id", "x-case-no")}
        other = next(k for i, k in self.full.items() if i != name)
        return {
            "right": right,
            "as_generated": {"Authorization": right["Authorization"], **generated},
            "no_key": {k: v for k, v in right.items() if k != "Authorization"},
            "forged_key": {**right, "Authorization": f"Bearer {text}" if text.strip() else "Bearer cbk_0123456789abcdef_x"},
            "not_bearer": {**right, "Authorization": f"Basic {self.full[name]}"},
            "revoked_key": {**right, "Authorization": f"Bearer {self.revoked}"},
            "other_entrys_key": {**right, "Authorization": f"Bearer {other}"},
            "narrow_grant": {**right, "Authorization": f"Bearer {self.narrow[name]}"},
            "no_officer": {k: v for k, v in right.items() if k != "X-Officer-Id"},
            "odd_officer": {**right, "X-Officer-Id": text},
            "other_department": {**right, "X-Officer-Id": "hr"},
            "no_case_no": {k: v for k, v in right.items() if k != "X-Case-No"},
            "odd_case_no": {**right, "X-Case-No": text},
        }[variant]


@pytest.fixture(scope="module")
def callers(home: Path, store: OpsStore, grant) -> Callers:
    return Callers(home, store, grant)


@pytest.fixture(scope="module")
def in_process(home: Path):
    """The document of the interfaces' ASGI app (a valid OpenAPI document), called in process, with
    a rate limit the fuzz does not reach (else it would fuzz 429s)."""
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, create_api(Home.resolve(home), Settings(api_rate_limit="1000000/second")))
    schema.validate()
    return schema


@pytest.fixture(scope="module")
def over_http(cockpit_url: str):
    """The document as the served cockpit serves it, called over HTTP through its WSGI mount
    (conftest's cockpit: 1000 calls a second per key, which the fuzz does not reach)."""
    schema = schemathesis.openapi.from_url(cockpit_url + OPENAPI_URL)
    schema.validate()
    return schema


def _mangled(body: object, how: str) -> tuple[bytes, str]:
    """The bytes and content type of ``body`` mangled as ``how`` says."""
    sent = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False, default=str).encode()
    return {
        "not_utf8": (sent.replace(b'"', b'"\xff\xfe', 1) if b'"' in sent else b'"\xff"', "application/json"),
        "too_deep": (b'{"fields": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
        "long_number": (b'{"id_number": ' + b"9" * 5000 + b"}", "application/json"),
        "cut_short": (sent[: max(1, len(sent) // 2)] if len(sent) > 2 else b"{", "application/json"),
        "text_plain": (sent, "text/plain"),
    }[how]


def _refused_as(name: str, sent, callers: Callers) -> set[int] | None:
    """The statuses the docs' order of checks (the key, its rate limit, the headers, the entry and
    the officer, then the body and the fields) gives a call that sent the headers ``sent``,
    whatever its body; None when the body decides. (What was sent, not what the variant asked
    for: schemathesis' negative mode may drop a required header or the key.)"""

    def shaped(value: str, pattern: str) -> bool | None:  # None: a server may trim its trailing space
        return True if re.fullmatch(pattern, value) else None if re.fullmatch(pattern, value.rstrip()) else False

    scheme, _, key = (sent.get("Authorization") or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or (key not in callers.full.values() and key not in callers.narrow.values()):
        return {401}
    officer, case_no = sent.get("X-Officer-Id") or "", sent.get("X-Case-No") or ""
    headers_ok = [shaped(officer, OFFICER_ID), shaped(case_no, CASE_NO)]
    if False in headers_ok:
        return {400}
    refused = {403} if key not in (callers.full[name], callers.narrow[name]) or officer.rstrip() not in CIVIL_OFFICERS else None
    if None in headers_ok:
        return {400} | (refused or {200, 403, 422})
    return refused


def _call(transport: str, name: str, case, callers: Callers, draw: tuple[str, str, int | None, str | None]) -> None:
    """Make one generated call, with the headers, record and mangling ``draw`` picks, and check its
    response: the document's checks, the refusal's code among those the document gives its status,
    refusals in the documented order, and an answer saying only what the grant holds."""
    variant, text, record, mangle = draw
    hdrs = callers.headers(name, case, variant, text, sum(calls.values()))
    if record is not None and isinstance(case.body, dict):
        on_file = callers.records[name]
        case.body = {**case.body, **on_file[record % len(on_file)]}
    # The generated officer and case headers are replaced by the variant's (which may keep them).
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("x-officer-id", "x-case-no")}
    raw: dict[str, bytes] = {}
    if mangle is not None:
        raw["data"], hdrs["Content-Type"] = _mangled(case.body, mangle)
    response = case.call(headers=hdrs, timeout=30, **raw)
    status = response.status_code
    calls[transport, status] += 1
    case.validate_response(response, checks=CHECKS, headers=hdrs)
    if status != 200:
        described = case.operation.definition.raw["responses"][str(status)]["description"]
        assert response.json()["error"] in re.findall(r"[a-z]+_[a-z_]+", described.rsplit("(", 1)[-1]), (status, response.text)
    expected = _refused_as(name, response.request.headers, callers)
    if expected is None and mangle is not None:
        expected = {422}
    assert expected is None or status in expected, (variant, mangle, dict(response.request.headers), status, response.text)
    if response.status_code == 200:  # only what the grant holds
        answered[transport] += 1
        held = set(ITEMS[ENTRY[name]][:1] if variant == "narrow_grant" else ITEMS[ENTRY[name]])
        granted = {f for f, item in INTERFACES[name].items.items() if item in held}
        assert set(response.json()) - {"as_of"} <= granted, response.text
        found[name] += response.json().get("status", "unknown") != "unknown"


def _fuzz(schema, transport: str, name: str, callers: Callers, examples: int) -> None:
    """``examples`` generated calls of interface ``name``: bodies that fit its schema and bodies
    that do not (schemathesis' positive and negative modes), each with headers, a record
    and a mangling drawn from :data:`DRAWS`."""
    operation = schema.find_operation_by_id(name)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=cases, draw=DRAWS)
    def run(case, draw: tuple[str, str, int | None, str | None]) -> None:
        note(f"{case!r}; draw (variant, text, record, mangle) = {draw!r}")  # what a failure is reported with
        _call(transport, name, case, callers, draw)

    run()


UNREADABLE = {"not UTF-8": b'{"id_number": "\xff\xfe"}', "nested too deep": b"[" * 5000 + b"]" * 5000,
              "a number too long": b'{"id_number": ' + b"9" * 5000 + b"}", "cut short": b'{"id_number": "1101'}


def test_a_body_that_is_not_json_is_refused_after_the_key_and_headers(cockpit_url, store, callers: Callers) -> None:
    """What the fuzz found: a body FastAPI cannot read (not UTF-8, nested too deep, a number
    too long) was answered 400 ``http_error``, a code the document does not give; and any
    unreadable body was refused 422 before the key, the headers and the officer were checked (the
    body is read before the route's dependencies run). Now: 422 ``bad_body``, after those checks."""
    path = cockpit_url + INTERFACES["persons_status"].path
    right = {"Authorization": f"Bearer {callers.full['persons_status']}", "X-Officer-Id": "clerk", "X-Case-No": "FZ-1",
             "Content-Type": "application/json"}
    before = len(store.access_log(limit=1_000_000))
    for what, body in UNREADABLE.items():
        for hdrs, status, code in (
                (right, 422, "bad_body"),
                ({k: v for k, v in right.items() if k != "Authorization"}, 401, "no_key"),
                ({**right, "Authorization": "Bearer cbk_0123456789abcdef_forged"}, 401, "bad_key"),
                ({**right, "Authorization": f"Bearer {callers.revoked}"}, 401, "bad_key"),
                ({k: v for k, v in right.items() if k != "X-Officer-Id"}, 400, "no_officer"),
                ({**right, "X-Case-No": "case 1; drop"}, 400, "bad_case_no"),
                ({**right, "Authorization": f"Bearer {callers.full['entities_lookup']}"}, 403, "entry_not_granted"),
                ({**right, "X-Officer-Id": "hr"}, 403, "officer_not_allowed")):
            r = requests.post(path, data=body, headers=hdrs, timeout=30)
            assert (r.status_code, r.json()["error"]) == (status, code), (what, hdrs, r.text)
    assert len(store.access_log(limit=1_000_000)) == before


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_fuzz_in_process(in_process, callers: Callers, name: str) -> None:
    _fuzz(in_process, "asgi", name, callers, IN_PROCESS)


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_fuzz_over_http_through_the_mount(over_http, callers: Callers, name: str) -> None:
    _fuzz(over_http, "http", name, callers, OVER_HTTP)


def test_the_fuzz_made_enough_calls_and_logged_every_answered_one(store: OpsStore) -> None:
    """Counts what the fuzz tests above made (run in this module's order)."""
    if not calls:
        pytest.skip("the fuzz tests were not selected")
    total = sum(calls.values())
    print(f"fuzz: {total} calls, {dict(sorted(calls.items()))}")
    assert total >= LEAST, calls
    assert {t for t, _ in calls} == {"asgi", "http"}
    statuses = {s for _, s in calls}
    assert {200, 400, 401, 403, 422} <= statuses, statuses
    assert set(found) == set(INTERFACES), found  # the lookups answered records on file, not only unknowns
    logged = [e for e in store.access_log(limit=1_000_000) if e["action"].startswith("api_")]
    assert len(logged) == sum(answered.values())
