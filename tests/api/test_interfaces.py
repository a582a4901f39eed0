"""The governed interfaces (CONTRACT §6) over HTTP, served by the cockpit: each answers what the
libraries hold for known and unknown numbers, only the granted items, from the current snapshot;
each answered call is in the access log once, before its answer, where the citizen and the
auditor find it; every refused call answers nothing and logs nothing."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import duckdb
import pytest
import requests
from calling import ENTRY, ITEMS, Clock, Granted, library
from helpers import AS_OF_TIME, dash_post, nothing, served, sign_in

from api import create_api, mount
from api.app import OPENAPI_URL, SECURITY_HEADERS
from api.interfaces import INTERFACES
from cockpit.auth import add_user
from warehouse.contract.labels import name as label
from warehouse.ops.store import OpsStore
from warehouse.serving.publish import POINTER, current, publish
from warehouse.storage.home import Home

AS_OF = AS_OF_TIME.date().isoformat()
UNKNOWN_ID = "110105194912310011"  # a well-formed number no one in the tiny city has
CASE = "MZ-2026-000123"


def headers(granted: Granted, officer: str = "clerk", case: str | None = CASE) -> dict[str, str]:
    out = {"Authorization": f"Bearer {granted.key}", "X-Officer-Id": officer}
    if case is not None:
        out["X-Case-No"] = case
    return out


def calls_logged(store: OpsStore) -> list[dict]:
    """The access log's entries of answered interface calls, newest first."""
    return [e for e in store.access_log(limit=100_000) if e["action"].startswith("api_")]


def call(base: str, interface: str, body: dict, hdrs: dict) -> requests.Response:
    return requests.post(base + INTERFACES[interface].path, json=body, headers=hdrs, timeout=30)


# ---------------------------------------------------------------------------- answers
def test_household_status_answers_what_the_population_library_holds(cockpit_url, home, store, grant) -> None:
    g = grant(ENTRY["persons_status"])
    people = {}
    for status in ("registered", "moved_out", "deceased"):
        for id_number, district in library(home, "SELECT id_number, district_code FROM population.persons WHERE status = ? "
                                                 "ORDER BY id_number LIMIT 2", [status]):
            people[id_number] = (status, district)
    assert {s for s, _ in people.values()} >= {"registered", "moved_out"}, people
    before = len(calls_logged(store))
    for n, (id_number, (status, district)) in enumerate(people.items()):
        case = f"{CASE}-{n}"
        r = call(cockpit_url, "persons_status", {"id_number": id_number}, headers(g, case=case))
        assert r.status_code == 200, r.text
        assert r.json() == {"status": status, "district_code": district, "as_of": AS_OF}
        assert r.headers["X-Snapshot"] == current(home / "serving").name
        for k, v in SECURITY_HEADERS.items():
            assert r.headers[k] == v
        # Found by the person's number (through its hash), once, with who, why and on what basis.
        logged = [e for e in store.access_log(id_number) if e["purpose"].startswith(f"case {case}:")]
        assert len(logged) == 1, logged
        e = logged[0]
        assert (e["username"], e["role"], e["action"], e["scope"], e["rows"], e["subjects"]) == \
            ("clerk", "officer", "api_persons_status", "civil", 1, 1)
        assert e["purpose"] == f"case {case}: marriage registration: both parties' household status"
        assert e["legal_basis"] == "Marriage Registration Regulations Art. 7"
    # An unknown person: unknown, and still logged (someone asked about them).
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
    assert r.status_code == 200 and r.json() == {"status": "unknown", "district_code": None, "as_of": AS_OF}
    assert [e["rows"] for e in store.access_log(UNKNOWN_ID)] == [0]
    assert len(calls_logged(store)) == before + len(people) + 1


def test_certificate_verification_answers_what_the_e_certificate_library_holds(cockpit_url, home, store, grant) -> None:
    g = grant(ENTRY["certificates_verify"])
    # One certificate of each status the library shows on the clock's day (the view adds 'expired').
    rows = library(home, """SELECT certificate_no, holder_id, status, certificate_type, issuer, valid_from, valid_to
                            FROM e_certificate.certificates QUALIFY row_number() OVER (PARTITION BY status ORDER BY certificate_no) = 1""")
    assert {r[2] for r in rows} >= {"valid"}, rows
    before = len(calls_logged(store))
    for no, holder, status, ctype, issuer, vfrom, vto in rows:
        r = call(cockpit_url, "certificates_verify", {"certificate_no": no, "holder_id": holder}, headers(g))
        assert r.status_code == 200, r.text
        assert r.json() == {"status": status, "certificate_type": ctype, "issuer": issuer, "valid_from": str(vfrom),
                            "valid_to": None if vto is None else str(vto), "as_of": AS_OF}
        assert store.access_log(holder)[0]["action"] == "api_certificates_verify"
    # The right number with someone else's holder, and a number no one holds: unknown, nothing else said.
    no, holder = rows[0][0], rows[0][1]
    other = library(home, "SELECT holder_id FROM e_certificate.certificate_state WHERE holder_id <> ? LIMIT 1", [holder])[0][0]
    for body in ({"certificate_no": no, "holder_id": other}, {"certificate_no": "NO-SUCH-1", "holder_id": holder}):
        r = call(cockpit_url, "certificates_verify", body, headers(g))
        assert r.json() == {"status": "unknown", "certificate_type": None, "issuer": None, "valid_from": None, "valid_to": None,
                            "as_of": AS_OF}
    assert store.access_log(other)[0]["rows"] == 0
    assert len(calls_logged(store)) == before + len(rows) + 2


def test_entity_lookup_answers_the_legal_person_library_with_the_representative_masked(cockpit_url, home, store, grant) -> None:
    g = grant(ENTRY["entities_lookup"], department="hrss", purpose="social insurance enrolment of an employer")
    rows = library(home, """SELECT e.uscc, e.status, e.name, e.district_code, p.name, e.legal_rep_id_number
                            FROM legal_person.entities e JOIN population.persons p ON p.id_number = e.legal_rep_id_number
                            QUALIFY row_number() OVER (PARTITION BY e.status ORDER BY e.uscc) = 1""")
    assert rows
    for uscc, status, name, district, rep_name, rep_id in rows:
        r = call(cockpit_url, "entities_lookup", {"uscc": uscc.lower()}, headers(g, officer="hr"))
        assert r.status_code == 200, r.text
        assert r.json() == {"status": status, "name": name, "district_code": district, "representative": rep_name[0] + "*",
                            "as_of": AS_OF}
        assert rep_name not in r.text and rep_id not in r.text
        # The representative is whom the answer is about: their tracker finds the call.
        e = store.access_log(rep_id)[0]
        assert (e["action"], e["scope"], e["rows"]) == ("api_entities_lookup", "hrss", 1)
    r = call(cockpit_url, "entities_lookup", {"uscc": "91330100MA00000000"}, headers(g, officer="hr"))
    assert r.json() == {"status": "unknown", "name": None, "district_code": None, "representative": None, "as_of": AS_OF}


def test_only_the_granted_items_are_answered(cockpit_url, store, grant) -> None:
    g = grant(ENTRY["persons_status"], items=["status"])
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
    assert r.status_code == 200 and r.json() == {"status": "unknown", "as_of": AS_OF}
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID, "fields": ["status"]}, headers(g))
    assert r.json() == {"status": "unknown", "as_of": AS_OF}
    before = len(calls_logged(store))
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID, "fields": ["status", "district_code"]}, headers(g))
    assert (r.status_code, r.json()["error"]) == (403, "field_not_granted")
    assert len(calls_logged(store)) == before


# ---------------------------------------------------------------------------- refusals
def _hdrs_without(name: str):
    return lambda g: {k: v for k, v in headers(g).items() if k != name}


REFUSALS = {
    "no key": (lambda g: {k: v for k, v in headers(g).items() if k != "Authorization"}, 401, "no_key"),
    "not a bearer key": (lambda g: {**headers(g), "Authorization": f"Basic {g.key}"}, 401, "no_key"),
    "a made-up key": (lambda g: {**headers(g), "Authorization": f"Bearer cbk_{g.key_id}_forged"}, 401, "bad_key"),
    "no officer": (_hdrs_without("X-Officer-Id"), 400, "no_officer"),
    "no case number": (_hdrs_without("X-Case-No"), 400, "no_case_no"),
    "an empty case number": (lambda g: {**headers(g), "X-Case-No": ""}, 400, "no_case_no"),
    "a malformed case number": (lambda g: headers(g, case="case 1; drop"), 400, "bad_case_no"),
    "a case number too long": (lambda g: headers(g, case="C" * 65), 400, "bad_case_no"),
    "an officer of another department": (lambda g: headers(g, officer="hr"), 403, "officer_not_allowed"),
    "a disabled officer": (lambda g: headers(g, officer="gone"), 403, "officer_not_allowed"),
    "a steward as the officer": (lambda g: headers(g, officer="police"), 403, "officer_not_allowed"),
    "no such user": (lambda g: headers(g, officer="nobody"), 403, "officer_not_allowed"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_call_without_what_it_must_carry_is_refused_and_not_logged(cockpit_url, store, grant, case: str) -> None:
    g = grant(ENTRY["persons_status"])
    make, status, code = REFUSALS[case]
    before = len(calls_logged(store))
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, make(g))
    assert (r.status_code, r.json()) == (status, {"error": code, "message": r.json()["message"]}), r.text
    assert "status" not in r.json() and r.headers["Content-Type"] == "application/json"
    assert len(calls_logged(store)) == before


def test_a_revoked_key_and_another_entrys_interface_are_refused(cockpit_url, store, grant) -> None:
    g, kept = grant(ENTRY["persons_status"]), grant(ENTRY["persons_status"])
    before = len(calls_logged(store))
    # A key of a grant of the population library calls the certificates' and entities' interfaces.
    r = call(cockpit_url, "certificates_verify", {"certificate_no": "X1", "holder_id": UNKNOWN_ID}, headers(g))
    assert (r.status_code, r.json()["error"]) == (403, "entry_not_granted")
    r = call(cockpit_url, "entities_lookup", {"uscc": "91330100MA00000000"}, headers(g))
    assert (r.status_code, r.json()["error"]) == (403, "entry_not_granted")
    # One key revoked: refused at once; the grant's other key still answers.
    assert store.revoke_key(g.key_id, scope="civil")
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
    assert (r.status_code, r.json()["error"]) == (401, "bad_key")
    assert len(calls_logged(store)) == before
    assert call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(kept)).status_code == 200
    # The whole grant revoked by its owner: every key of it is refused.
    other = grant(ENTRY["persons_status"])
    store.add_share_step(other.request_id, "revoke", actor="police", role="steward", scope="psb", reason="case closed")
    r = call(cockpit_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(other))
    assert (r.status_code, r.json()["error"]) == (401, "bad_key")
    assert len(calls_logged(store)) == before + 1


def test_bodies_outside_the_schema_are_refused_as_json(cockpit_url, store, grant) -> None:
    g = grant(ENTRY["persons_status"])
    path = cockpit_url + INTERFACES["persons_status"].path
    before = len(calls_logged(store))
    for body in ("{not json", json.dumps({"id_number": "12345"}), json.dumps({"id_number": UNKNOWN_ID, "extra": 1}),
                 json.dumps({"id_number": UNKNOWN_ID, "fields": ["name"]}), json.dumps([UNKNOWN_ID]), ""):
        r = requests.post(path, data=body, headers={**headers(g), "Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 422 and r.json()["error"] == "bad_body", (body, r.text)
        assert "Traceback" not in r.text
    r = requests.get(path, headers=headers(g), timeout=30)
    assert (r.status_code, r.json()["error"]) == (405, "method_not_allowed")
    r = requests.get(cockpit_url + "/api/v1/nothing", timeout=30)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert len(calls_logged(store)) == before


def test_an_expired_grant_and_too_many_calls_are_refused(strict_url, store, grant, clock: Clock) -> None:
    g = grant(ENTRY["persons_status"], days=1)
    before = len(calls_logged(store))
    for _ in range(3):
        assert call(strict_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(g)).status_code == 200
    r = call(strict_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
    assert (r.status_code, r.json()["error"]) == (429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert len(calls_logged(store)) == before + 3
    # The limit is per key: another key of the same department still answers; then its grant
    # expires (a day after its key was issued) and it answers nothing.
    fresh = grant(ENTRY["persons_status"], days=1)
    assert call(strict_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(fresh)).status_code == 200
    clock.now = dt.datetime.now() + dt.timedelta(days=1, minutes=1)
    try:
        r = call(strict_url, "persons_status", {"id_number": UNKNOWN_ID}, headers(fresh))
        assert (r.status_code, r.json()["error"]) == (401, "bad_key")
    finally:
        clock.now = None
    assert len(calls_logged(store)) == before + 4


# ---------------------------------------------------------------------------- snapshot, documents, trackers
def test_answers_come_from_the_current_snapshot(cockpit_url, home, grant) -> None:
    """A new snapshot published (here from a connection opened without the warehouse's
    connect: publish registers the hash itself) is what the next call answers from."""
    g = grant(ENTRY["persons_status"])
    id_number, status = library(home, "SELECT id_number, status FROM population.persons ORDER BY id_number LIMIT 1")[0]
    serving = home / "serving"
    before = current(serving)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        new = publish(con, serving, AS_OF_TIME - dt.timedelta(days=1), run_id="api-test")
    finally:
        con.close()
    try:
        r = call(cockpit_url, "persons_status", {"id_number": id_number}, headers(g))
        assert r.headers["X-Snapshot"] == new.name != before.name
        assert r.json()["status"] == status and r.json()["as_of"] == (AS_OF_TIME - dt.timedelta(days=1)).date().isoformat()
    finally:
        (serving / f".{POINTER}.test").write_text(before.name, encoding="utf-8")
        (serving / f".{POINTER}.test").replace(serving / POINTER)
    assert call(cockpit_url, "persons_status", {"id_number": id_number}, headers(g)).headers["X-Snapshot"] == before.name


def test_the_openapi_document_is_served_and_is_the_codes(cockpit_url, home) -> None:
    r = requests.get(cockpit_url + OPENAPI_URL, timeout=30)  # no session, no key: the document is public
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    served = r.json()
    assert served == create_api(Home.resolve(home)).openapi()
    assert set(served["paths"]) == {i.path for i in INTERFACES.values()}
    for i in INTERFACES.values():
        op = served["paths"][i.path]["post"]
        assert op["x-catalog-entry"] == i.entry and op["x-catalog-items"] == i.items
        assert {"400", "401", "403", "422", "429", "503"} <= set(op["responses"])
        assert [p["name"] for p in op["parameters"]] == ["X-Officer-Id", "X-Case-No"]


def test_each_interface_answers_from_a_catalog_entry_and_its_items() -> None:
    """The entry each interface declares is in the catalog with the path the catalog gives it,
    and each answer field's item is one of that entry's data items."""
    catalog = pytest.importorskip("warehouse.sharing.catalog")
    entries = catalog.declared()
    for i in INTERFACES.values():
        assert catalog.INTERFACES[i.entry] == ("POST", i.path)
        items = {it.name for it in entries[i.entry].items}
        assert set(i.items.values()) <= items, (i.name, set(i.items.values()) - items)
    assert set(ITEMS) == {i.entry for i in INTERFACES.values()}


def test_the_citizen_and_the_auditor_see_the_call(cockpit_url, home, store, grant) -> None:
    citizen = store.user("wang")["subject_hash"]
    id_number = next(r[0] for r in library(home, "SELECT id_number FROM population.persons")
                     if store.subject_hash(r[0]) == citizen)
    g = grant(ENTRY["persons_status"])
    assert call(cockpit_url, "persons_status", {"id_number": id_number}, headers(g, case="MZ-7")).status_code == 200
    civil = label("department", "civil", "zh")

    tracker = requests.Session()
    assert sign_in(tracker, "wang", base=cockpit_url).status_code in (302, 303)
    rows = dash_post(tracker, cockpit_url, "md-table.rowData", [1])["md-table"]["rowData"]
    seen = [r for r in rows if r["purpose"].startswith("办件 MZ-7：")]
    assert len(seen) == 1, rows
    assert seen[0]["department"] == civil and seen[0]["role"] == "部门业务人员"
    assert seen[0]["data"].startswith("某部门的业务系统核验了您的户籍状态")
    assert seen[0]["legal_basis"] == "Marriage Registration Regulations Art. 7"

    auditor = requests.Session()
    assert sign_in(auditor, "aud", base=cockpit_url).status_code in (302, 303)
    rows = dash_post(auditor, cockpit_url, "au-table.rowData", [id_number])["au-table"]["rowData"]
    seen = [r for r in rows if r["purpose"].startswith("办件 MZ-7：")]
    assert len(seen) == 1, rows
    assert (seen[0]["username"], seen[0]["scope"], seen[0]["action"]) == ("clerk", civil, "共享接口：户籍状态核验")


def test_nothing_is_answered_without_a_snapshot_to_answer_from_or_a_log_to_write(tmp_path) -> None:
    """503 and no answer: before anything is published; from a snapshot published without the
    interfaces' tables (an empty warehouse: a layer not built); and when the access log cannot
    take the call's entry (a failing write, planted as a trigger)."""
    home = Home.resolve(tmp_path / "h").ensure()
    store = OpsStore(home.root)
    add_user(store, "clerk", "correct horse", "officer", "civil")
    rid = store.add_share_request(entry_code=ENTRY["persons_status"], owner="psb", sharing_class="conditional",
                                  items=ITEMS[ENTRY["persons_status"]], department="civil", requester="clerk", role="officer",
                                  purpose="p", scenario="s", legal_basis="b", days=3)
    store.add_share_step(rid, "approve", actor="police", role="steward", scope="psb")
    g = Granted(store.issue_key(rid, actor="clerk", role="officer", scope="civil"), rid, "civil")
    with served(mount(nothing, create_api(home))) as base:
        r = call(base, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
        assert (r.status_code, r.json()["error"]) == (503, "no_snapshot")
        publish(duckdb.connect(), home.serving, AS_OF_TIME)
        r = call(base, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
        assert (r.status_code, r.json()["error"]) == (503, "not_published")
        assert calls_logged(store) == []
        # A snapshot with the tables, and a log that refuses to be written.
        con = duckdb.connect(str(home.serving / "h.duckdb"))
        con.execute("CREATE TABLE person_lookup (id_key UHUGEINT, status VARCHAR, district_code VARCHAR)")
        con.execute("CREATE TABLE snapshot_info AS SELECT 'as_of' AS key, ? AS value", [str(AS_OF_TIME)])
        con.close()
        (home.serving / POINTER).write_text("h.duckdb", encoding="utf-8")
        assert call(base, "persons_status", {"id_number": UNKNOWN_ID}, headers(g)).status_code == 200
        with sqlite3.connect(home.root / "ops.sqlite") as db:
            db.execute("CREATE TRIGGER full_disk BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        r = call(base, "persons_status", {"id_number": UNKNOWN_ID}, headers(g))
        assert (r.status_code, r.json()["error"]) == (503, "not_logged") and "unknown" not in r.text
        assert len(calls_logged(store)) == 1
