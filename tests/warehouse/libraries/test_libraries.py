"""Thematic libraries against an independent computation from the generator's clean rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import AS_OF_TIME as AS_OF
from helpers import clean_rows, expected_persons, ingest_all, make_city

from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect
from warehouse.libraries.build import DEATH_GRACE_DAYS, build_all
from warehouse.libraries.checks import key_duplicates
from warehouse.ops.store import OpsStore


def _built_copy(city: Path, tmp_path: Path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """A copy of ``city`` ingested and with every library built as of AS_OF."""
    home = tmp_path / "h"
    shutil.copytree(city, home)
    con = ingest_all(home)
    build_all(con, AS_OF)
    return home, con


def test_population_matches_an_independent_computation(tiny_city: Path, tmp_path: Path) -> None:
    home, con = _built_copy(tiny_city, tmp_path)
    got = con.execute(
        "SELECT id_number, status, district_code, name, strftime(death_date, '%Y-%m-%d') AS death_date FROM population.persons"
    ).df().set_index("id_number")
    exp = expected_persons(home)
    assert len(got) == len(exp) > 2000
    joined = exp.merge(got, how="left", left_index=True, right_index=True, suffixes=("", "_wh"))
    for col in ("status", "district_code", "name"):
        bad = joined[joined[col] != joined[f"{col}_wh"]]
        assert bad.empty, (col, bad.head())
    assert (joined.death_date.fillna("") == joined.death_date_wh.fillna("")).all()
    assert con.execute("SELECT count(*) - count(DISTINCT id_number) FROM population.persons").fetchone()[0] == 0


def test_entities_and_certificates_match_clean_rows(tiny_city: Path, tmp_path: Path) -> None:
    home, con = _built_copy(tiny_city, tmp_path)
    samr = clean_rows(home, "samr__entity_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    last = samr.groupby("uscc").tail(1).set_index("uscc")
    status = last.event_type.map({"establish": "active", "change": "active", "deregister": "deregistered", "revoke": "revoked"})
    got = con.execute("SELECT uscc, status, district_code FROM legal_person.entities").df().set_index("uscc")
    assert set(got.index) == set(last.index)
    assert (got.status.sort_index() == status.sort_index()).all()
    assert (got.district_code.sort_index() == last.district_code.sort_index()).all()

    dsb = clean_rows(home, "dsb__certificate_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    lastc = dsb.groupby("certificate_no").tail(1).set_index("certificate_no")
    life = lastc.event_type.map({"issue": "valid", "renew": "valid", "revoke": "revoked", "cancel": "cancelled"})
    expired = (life == "valid") & lastc.valid_to.notna() & (lastc.valid_to.fillna("9999") < AS_OF.date().isoformat())
    life = life.where(~expired, "expired")
    gotc = con.execute("SELECT certificate_no, status FROM e_certificate.certificates").df().set_index("certificate_no").status
    assert (gotc.sort_index() == life.sort_index()).all()
    assert {"valid", "expired", "cancelled"} <= set(gotc)


def expected_findings(home: Path, persons: pd.DataFrame) -> set[tuple[str, str]]:
    """The consistency findings implied by the clean rows, computed in pandas."""
    today = AS_OF.date()
    psb = clean_rows(home, "psb__household_events")
    health = clean_rows(home, "health__death_records")
    psb_dead = set(psb[psb.event_type == "death"].id_number)
    out: set[tuple[str, str]] = set()
    for r in health.itertuples():
        if r.id_number in persons.index:
            if r.id_number not in psb_dead and dt.date.fromisoformat(r.death_date) <= today - dt.timedelta(DEATH_GRACE_DAYS):
                out.add(("death_not_deregistered", r.id_number))
        else:
            out.add(("death_of_unknown_person", r.id_number))
    dsb = clean_rows(home, "dsb__certificate_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    certs = dsb.groupby("certificate_no").tail(1)
    valid = certs[certs.event_type.isin(["issue", "renew"]) & (certs.valid_to.isna() | (certs.valid_to >= today.isoformat()))]
    samr = clean_rows(home, "samr__entity_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    ent = samr.groupby("uscc").tail(1).set_index("uscc")
    deceased = set(persons[persons.status == "deceased"].index)
    for c in valid.itertuples():
        if c.holder_type == "person":
            if c.holder_id in deceased:
                out.add(("deceased_with_valid_certificate", c.certificate_no))
            if c.holder_id not in persons.index:
                out.add(("certificate_holder_unknown", c.certificate_no))
        elif c.holder_id not in ent.index:
            out.add(("certificate_holder_unknown", c.certificate_no))
        elif c.certificate_type == "business_licence" and ent.loc[c.holder_id].event_type in ("deregister", "revoke"):
            out.add(("closed_entity_valid_licence", c.holder_id))
    hrss = clean_rows(home, "hrss__insurance_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    jobs = hrss.groupby("id_number").tail(1)
    for j in jobs[jobs.event_type == "enrol"].itertuples():
        if j.employer_uscc not in ent.index:
            out.add(("insurance_employer_unknown", j.id_number))
        if j.id_number not in persons.index:
            out.add(("insurance_person_unknown", j.id_number))
    for uscc, e in ent[ent.event_type.isin(["establish", "change"])].iterrows():
        if e.legal_rep_id_number not in persons.index:
            out.add(("legal_rep_unknown", uscc))
        elif e.legal_rep_id_number in deceased:
            out.add(("legal_rep_deceased", uscc))
    hotline = clean_rows(home, "hotline__service_requests")
    created = set(hotline[hotline.event_type == "create"].ticket_no)
    out |= {("ticket_without_creation", t) for t in set(hotline.ticket_no) - created}
    return out


def _findings(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {tuple(r) for r in con.execute("SELECT rule, subject_id FROM quality.findings").fetchall()}


def test_tickets_match_clean_rows_and_keep_no_caller_in_clear(tiny_city: Path, tmp_path: Path) -> None:
    home, con = _built_copy(tiny_city, tmp_path)
    steps = clean_rows(home, "hotline__service_requests").sort_values(["event_time", "_business_date", "_line"], kind="stable")
    by_ticket = steps.groupby("ticket_no")
    create = steps[steps.event_type == "create"].groupby("ticket_no").head(1).set_index("ticket_no")
    life = steps[steps.event_type.isin(["close", "reopen"])].groupby("ticket_no").tail(1).set_index("ticket_no").event_type
    dispatch = steps[steps.event_type == "dispatch"].groupby("ticket_no").tail(1).set_index("ticket_no")
    rate = steps[steps.event_type == "rate"].groupby("ticket_no").tail(1).set_index("ticket_no")
    got = con.execute("SELECT * FROM service.tickets").df().set_index("ticket_no")
    assert set(got.index) == set(by_ticket.groups) and len(got) > 30
    got = got.loc[create.index]  # tickets never created are findings (test_tiny_findings_match_the_oracle)
    status = pd.Series("open", index=got.index).where(~got.index.isin(life[life == "close"].index), "closed")
    assert (got.status == status).all()
    assert (got.district_code == create.district_code.reindex(got.index)).all()
    assert (got.category == create.category.reindex(got.index)).all()
    assert (got.handler.fillna("") == dispatch.handler.reindex(got.index).fillna("")).all()
    assert (got.satisfaction.fillna(0).astype(int) == rate.satisfaction.reindex(got.index).fillna("0").astype(int)).all()
    reopened = steps[steps.event_type == "reopen"].groupby("ticket_no").size().reindex(got.index).fillna(0)
    assert (got.reopened == reopened).all() and reopened.sum() > 0
    assert got.closed_at.isna().equals(got.status == "open")
    # The caller is kept only as the keyed hash the audit log uses for the same person.
    callers = create.caller_id_number.dropna()
    assert len(callers) > 10
    store = OpsStore(home)
    assert (got.caller_hash.reindex(callers.index) == callers.map(store.subject_hash)).all()
    everything = " ".join(map(str, con.execute("SELECT * FROM service.tickets UNION ALL BY NAME SELECT * FROM service.ticket_history").fetchall()))
    assert not any(c in everything for c in callers)


@pytest.mark.slow
def test_findings_are_exactly_the_planted_inconsistencies(tmp_path: Path) -> None:
    home = make_city(tmp_path, scale="small", seed=8, days=45, end="2026-11-20")
    con = ingest_all(home)
    build_all(con, AS_OF)
    exp = expected_findings(home, expected_persons(home))
    got = _findings(con)
    assert got == exp, (sorted(exp - got)[:5], sorted(got - exp)[:5])
    rules = {r for r, _ in got}
    assert {"death_not_deregistered", "deceased_with_valid_certificate", "certificate_holder_unknown",
            "insurance_employer_unknown", "legal_rep_unknown", "closed_entity_valid_licence"} <= rules
    owners = dict(con.execute("SELECT DISTINCT rule, owner_department FROM quality.findings WHERE rule <> 'deceased_with_valid_certificate'").fetchall())
    assert owners["death_not_deregistered"] == "psb" and owners["insurance_employer_unknown"] == "hrss"


def test_tiny_findings_match_the_oracle(tiny_city: Path, tmp_path: Path) -> None:
    home, con = _built_copy(tiny_city, tmp_path)
    assert _findings(con) == expected_findings(home, expected_persons(home))


def test_a_twin_key_is_found_in_the_whole_library_and_among_the_rebuilt_keys_only_if_it_is_one(
        tiny_city: Path, tmp_path: Path) -> None:
    _, con = _built_copy(tiny_city, tmp_path)
    twin, other = (r[0] for r in con.execute("SELECT id_number FROM population.persons ORDER BY id_number LIMIT 2").fetchall())
    assert key_duplicates(con, "population.persons", "id_number") == 0
    con.execute("INSERT INTO population.persons SELECT * FROM population.persons WHERE id_number = ?", [twin])
    con.execute("CREATE TEMP TABLE rebuilt_twin AS SELECT ? AS k", [twin])
    con.execute("CREATE TEMP TABLE rebuilt_other AS SELECT ? AS k", [other])
    assert key_duplicates(con, "population.persons", "id_number") == 1
    assert key_duplicates(con, "population.persons", "id_number", among="rebuilt_twin") == 1
    assert key_duplicates(con, "population.persons", "id_number", among="rebuilt_other") == 0


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in (
        "population.person_history", "population.persons", "legal_person.entity_history", "legal_person.entities",
        "e_certificate.certificate_history", "e_certificate.certificate_state", "service.ticket_history", "service.tickets",
        "quality.findings")}


@pytest.mark.parametrize("seed", [1, 6])
def test_incremental_days_equal_a_full_rebuild(tmp_path: Path, seed: int) -> None:
    home = make_city(tmp_path / "c", seed=seed, days=8)
    landing = home / "landing"
    staged = tmp_path / "later"
    # Hold back the last three business days, then deliver them one at a time.
    days = sorted({p.name for p in landing.glob("*/*/*")})
    for p in landing.glob("*/*/*"):
        if p.name in days[-3:]:
            dest = staged / p.relative_to(landing)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(p), dest)
    con = connect(home / "warehouse.duckdb")
    ingest_landing(con, landing, home / "tmp")
    results = build_all(con, AS_OF)
    assert {r.mode for r in results} == {"full"}
    modes = set()
    for day in days[-3:]:
        for p in staged.glob(f"*/*/{day}"):
            shutil.move(str(p), landing / p.relative_to(staged))
        ingest_landing(con, landing, home / "tmp")
        modes |= {r.mode for r in build_all(con, AS_OF)}
    assert "incremental" in modes and "full" not in modes
    # A correction: one household-events file of the last day is replaced with different content.
    target = next(landing.glob(f"psb/household_events/{days[-1]}/household_events_*"))
    if target.suffix == ".csv":
        text = target.read_bytes()
        target.write_bytes(text[: text.rfind(b"\n", 0, len(text) - 1) + 1])  # the last row withdrawn
        ingest_landing(con, landing, home / "tmp")
        build_all(con, AS_OF)
    incremental = _tables(con)
    build_all(con, AS_OF, full=True)
    assert _tables(con) == incremental
