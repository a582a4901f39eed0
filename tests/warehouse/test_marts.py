"""Indicators, alerts, open data and the serving snapshot, against independent computations."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import truth_deliveries, truth_rejections
from test_libraries import AS_OF, _clean, expected_persons

from warehouse.contract.city import load_city
from warehouse.contract.feeds import HANDLER_DEPARTMENTS, REQUEST_CATEGORIES
from warehouse.contract.labels import render
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect
from warehouse.libraries.build import build_all
from warehouse.marts.alerts import evaluate
from warehouse.marts.indicators.catalog import catalog
from warehouse.marts.indicators.compute import refresh
from warehouse.marts.open_data import BASE, export
from warehouse.serving.publish import current, list_snapshots, publish
from warehouse.serving.snapshot import Snapshot

CITY = load_city().code


def _run(home: Path, as_of: dt.datetime = AS_OF) -> duckdb.DuckDBPyConnection:
    con = connect(home / "warehouse.duckdb")
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, as_of)
    refresh(con, as_of)
    evaluate(con, as_of)
    return con


def _values(con: duckdb.DuckDBPyConnection, indicator: str) -> dict[tuple[str, str], float]:
    return {(d.isoformat(), k): v for d, k, v in con.execute(
        "SELECT date, district_code, value FROM marts.indicator_values WHERE indicator_id = ?", [indicator]).fetchall()}


def _as_indicator(counts: pd.Series, days: list[str], undelivered: set[str] = frozenset()) -> dict[tuple[str, str], float | None]:
    """(day, district) counts -> every day x district, zeros filled, plus the city total; on
    ``undelivered`` days (the feed never delivered) a cell without rows is None, not 0."""
    out = {}
    for day in days:
        fill = None if day in undelivered else 0.0
        for k in load_city().district_codes:
            v = counts.get((day, k))
            out[(day, k)] = fill if v is None else float(v)
        mine = [v for (d, _), v in counts.items() if d == day]
        out[(day, CITY)] = float(sum(mine)) if mine else fill
    return out


def _undelivered(home: Path, *feeds: str) -> set[str]:
    """Business dates on which one of ``feeds`` ("department/feed") has no usable delivery, from the
    generator's own record (missing, rejected whole, or every row rejected)."""
    bad: dict[tuple, int] = {}
    for r in truth_rejections(home):
        bad[r[:4]] = bad.get(r[:4], 0) + 1
    delivered: dict[str, set[str]] = {}
    for d in truth_deliveries(home):
        key, rows = (d["department"], d["feed"], d["business_date"], d["file_name"]), int(d["rows"])
        if d["file_reason"] == "" and (rows == 0 or bad.get(key, 0) < rows):
            delivered.setdefault(f"{d['department']}/{d['feed']}", set()).add(d["business_date"])
    days = {d["business_date"] for d in truth_deliveries(home)}
    return {day for day in days if any(day not in delivered.get(f, set()) for f in feeds)}


@pytest.fixture(scope="module")
def tiny(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    home = tmp_path_factory.mktemp("marts") / "h"
    shutil.copytree(tiny_city, home)
    return home, _run(home)


def test_contract_indicators_match_an_independent_computation(tiny) -> None:
    home, con = tiny
    days = sorted({d["business_date"] for d in truth_deliveries(home)})
    persons = expected_persons(home)
    psb = _clean(home, "psb__household_events")
    health = _clean(home, "health__death_records")
    samr = _clean(home, "samr__entity_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    dsb = _clean(home, "dsb__certificate_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    usage = _clean(home, "dsb__certificate_usage")

    births = psb[psb.event_type == "birth"].groupby(["event_date", "district_code"]).size()
    assert _values(con, "pop.births") == _as_indicator(births, days, _undelivered(home, "psb/household_events"))

    moves = psb[psb.event_type.isin(["move_in", "move_out"])].assign(n=lambda d: d.event_type.map({"move_in": 1, "move_out": -1}))
    assert _values(con, "pop.net_migration") == _as_indicator(moves.groupby(["event_date", "district_code"]).n.sum(), days, _undelivered(home, "psb/household_events"))

    h = health.sort_values(["death_date", "_business_date", "_line"]).drop_duplicates("id_number")[["id_number", "death_date", "district_code"]]
    p = psb[(psb.event_type == "death") & ~psb.id_number.isin(h.id_number)].sort_values(["event_date", "_business_date", "_line"])
    p = p.drop_duplicates("id_number").rename(columns={"event_date": "death_date"})[["id_number", "death_date", "district_code"]]
    deaths = pd.concat([h, p]).groupby(["death_date", "district_code"]).size()
    assert _values(con, "pop.deaths") == _as_indicator(deaths, days, _undelivered(home, "psb/household_events", "health/death_records"))

    assert _values(con, "le.new") == _as_indicator(samr[samr.event_type == "establish"].groupby(["event_date", "district_code"]).size(), days, _undelivered(home, "samr/entity_events"))
    closed = samr[samr.event_type.isin(["deregister", "revoke"])].groupby(["event_date", "district_code"]).size()
    assert _values(con, "le.closed") == _as_indicator(closed, days, _undelivered(home, "samr/entity_events"))

    # Stocks at the end of each day, replaying events in order.
    ev = pd.concat([psb.assign(day=psb.event_date, src="psb"),
                    health.assign(day=health.death_date, src="health", event_type="death")])
    ev = ev[ev.id_number.isin(persons.index)].sort_values(["day", "_business_date", "_line"], kind="stable")
    registered, active = {}, {}
    for day in days:
        upto = ev[ev.day <= day]
        last = upto[upto.src == "psb"].groupby("id_number").tail(1).set_index("id_number")
        dead = set(upto[upto.event_type == "death"].id_number)
        reg = last[(last.event_type != "move_out") & ~last.index.isin(dead)]
        registered.update({(day, k): float(n) for k, n in reg.groupby("district_code").size().items()})
        e = samr[samr.event_date <= day].groupby("uscc").tail(1)
        act = e[e.event_type.isin(["establish", "change"])]
        active.update({(day, k): float(n) for k, n in act.groupby("district_code").size().items()})
    assert _values(con, "pop.registered") == _as_indicator(pd.Series(registered), days)
    assert _values(con, "le.active") == _as_indicator(pd.Series(active), days)

    # Certificates: the holder's district in its library.
    ent = samr.groupby("uscc").tail(1).set_index("uscc").district_code
    holder_district = lambda r: persons.district_code.get(r.holder_id) if r.holder_type == "person" else ent.get(r.holder_id)  # noqa: E731
    certs = dsb.groupby("certificate_no").tail(1).set_index("certificate_no")
    cert_district = {no: holder_district(r) for no, r in certs.iterrows()}
    issued = dsb[dsb.event_type == "issue"].assign(k=lambda d: d.certificate_no.map(cert_district))
    assert _values(con, "cert.issued") == _as_indicator(issued.groupby(["event_date", "k"], dropna=False).size(), days, _undelivered(home, "dsb/certificate_events"))
    valid = {}
    for day in days:
        last = dsb[dsb.event_date <= day].groupby("certificate_no").tail(1)
        ok = last[last.event_type.isin(["issue", "renew"]) & (last.valid_from <= day) & (last.valid_to.isna() | (last.valid_to >= day))]
        for k, n in ok.certificate_no.map(cert_district).value_counts(dropna=False).items():
            valid[(day, k)] = float(n)
    assert _values(con, "cert.valid") == _as_indicator(pd.Series(valid), days)

    # Licence coverage: of the entities active at the end of the day, those holding a valid business licence.
    coverage = {}
    for day in days:
        e = samr[samr.event_date <= day].groupby("uscc").tail(1)
        act = e[e.event_type.isin(["establish", "change"])]
        last = dsb[dsb.event_date <= day].groupby("certificate_no").tail(1)
        lic = last[(last.certificate_type == "business_licence") & last.event_type.isin(["issue", "renew"])
                   & (last.valid_from <= day) & (last.valid_to.isna() | (last.valid_to >= day))]
        num = act[act.uscc.isin(set(lic.holder_id))].groupby("district_code").size()
        den = act.groupby("district_code").size()
        for k in load_city().district_codes:
            coverage[(day, k)] = float(num.get(k, 0)) / den[k] if k in den.index else None
        coverage[(day, CITY)] = float(num.sum()) / den.sum() if den.sum() else None
    assert _values(con, "cert.licence_coverage") == coverage

    # Insured employees (city-wide): persons whose latest insurance event by the day is an enrolment.
    ins = _clean(home, "hrss__insurance_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    insured = {(day, CITY): float((ins[ins.event_date <= day].groupby("id_number").tail(1).event_type == "enrol").sum())
               for day in days}
    assert _values(con, "hrss.insured_employees") == insured
    used = usage.assign(day=usage.used_at.str[:10], k=usage.certificate_no.map(cert_district))
    no_usage = _undelivered(home, "dsb/certificate_usage")
    assert no_usage, "the tiny city withholds a day of certificate uses"
    # A day whose uses were never delivered has no value (CONTRACT §4: absent or NULL, never 0).
    assert _values(con, "cert.usage") == _as_indicator(used.groupby(["day", "k"], dropna=False).size(), days, no_usage)

    # Ledger indicators, from the generator's own record of what it delivered.
    rejected_lines: dict[tuple, set] = {}
    for r in truth_rejections(home):
        rejected_lines.setdefault(r[:4], set()).add(r[4])
    received, read, rejected = {}, {}, {}
    for d in truth_deliveries(home):
        key, rows, reason = (d["department"], d["feed"], d["business_date"], d["file_name"]), int(d["rows"]), d["file_reason"]
        bad = len(rejected_lines.get(key, ()))
        if reason == "" and bad < rows or rows == 0 and reason == "":
            received[d["business_date"]] = received.get(d["business_date"], 0) + rows
        if reason != "unknown_feed":
            counted = rows if reason in ("", "missing_column", "manifest_mismatch") else 0
            read[d["business_date"]] = read.get(d["business_date"], 0) + counted
            rejected[d["business_date"]] = rejected.get(d["business_date"], 0) + (bad if reason == "" else counted)
    got = _values(con, "gov.rows_received")
    assert {d: got[(d, CITY)] for d in days} == {d: float(received.get(d, 0)) for d in days}
    got = _values(con, "gov.rejection_rate")
    assert {d: round(got[(d, CITY)], 9) for d in days} == {d: round(rejected[d] / read[d], 9) for d in days}


def _rewrite_with_extra_row(path: Path, row: dict) -> None:
    """The department re-delivers the same file (same name, same format) with one more row."""
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        pd.concat([df, pd.DataFrame([row])], ignore_index=True).to_parquet(path, index=False)
    elif path.suffix == ".jsonl":
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        raw = path.read_bytes()
        encoding = "utf-8" if raw.startswith(b"\xef\xbb\xbf") else ("utf-8" if _is_utf8(raw) else "gb18030")
        line = ",".join(row.values()) + "\n"
        path.write_bytes(raw + line.encode(encoding))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_a_correction_recomputes_only_the_days_it_touches(tiny_city: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    before = con.execute("SELECT indicator_id, date, district_code, value FROM marts.indicator_values").df()
    days = sorted(before.date.unique())
    target_day = days[-4].date()
    # The department corrects its household events of that day: one more birth, dated that day.
    from stdnum.cn import ric

    body = "330106" + target_day.strftime("%Y%m%d") + "002"
    row = {"event_id": "HJFIX1", "id_number": body + ric.calc_check_digit(body + "0"), "name": "新生", "gender": "2",
           "birth_date": target_day.isoformat(), "ethnicity": "01", "district_code": "330106", "event_type": "birth",
           "event_date": target_day.isoformat()}
    path = next((home / "landing" / "psb" / "household_events" / target_day.isoformat()).glob("household_events_*"))
    _rewrite_with_extra_row(path, row)
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.unlink(missing_ok=True)  # the old manifest no longer describes the file
    outcomes = ingest_landing(con, home / "landing", home / "tmp")
    assert [o.status for o in outcomes if o.path == str(path)] in (["accepted"], ["partial"])
    assert con.execute("SELECT count(*) FROM ingest.deliveries WHERE file_name = ? AND status = 'superseded'", [path.name]).fetchone()[0] == 1
    build_all(con, AS_OF)
    first, last = refresh(con, AS_OF)
    assert first == target_day
    after = con.execute("SELECT indicator_id, date, district_code, value FROM marts.indicator_values").df()
    merged = before.merge(after, on=["indicator_id", "date", "district_code"], suffixes=("_before", "_after"))
    assert len(merged) == len(before) == len(after)
    changed = merged[merged.value_before.fillna(-1) != merged.value_after.fillna(-1)]
    assert not changed.empty and (changed.date.dt.date >= target_day).all()
    births = changed[changed.indicator_id == "pop.births"]
    assert set(zip(births.date.dt.date, births.district_code)) == {(target_day, "330106"), (target_day, CITY)}


def test_alerts_fire_on_withheld_feed_and_planted_inconsistency_without_duplicates(tiny) -> None:
    home, con = tiny
    # Plant an inconsistency: health reports the death of someone holding a valid certificate.
    # (certificates from two issuers, so the one alert must gather several owners' findings)
    holder = con.execute(
        """SELECT p.id_number, p.district_code FROM population.persons p JOIN e_certificate.certificates c
           ON c.holder_id = p.id_number AND c.status = 'valid' WHERE p.status = 'registered'
           GROUP BY ALL HAVING count(DISTINCT c.issuer) >= 2 ORDER BY 1 LIMIT 1""").fetchone()
    day = con.execute("SELECT max(business_date) FROM ingest.live_deliveries").fetchone()[0]
    folder = home / "landing" / "health" / "death_records" / str(day)
    (folder / "late_report.csv").write_text(
        f"record_id,id_number,death_date,district_code,cause_category\nSWTEST1,{holder[0]},{day},{holder[1]},\n", encoding="utf-8")
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, AS_OF)
    refresh(con, AS_OF)
    evaluate(con, AS_OF)
    alerts = con.execute("SELECT rule_id, subject, date, status, message FROM marts.alerts").df()
    missing = pd.read_csv(home / "truth" / "missing.csv", dtype=str)
    for m in missing.itertuples():
        hit = alerts[(alerts.rule_id == "feed_missing") & (alerts.subject == f"{m.department}/{m.feed}") & (alerts.date.astype(str) == m.business_date)]
        assert len(hit) == 1, m
    dead = alerts[alerts.rule_id == "deceased_with_valid_certificate"]
    assert len(dead) == 1 and "valid certificates: 1;" in dead.message.iloc[0], dead.message.iloc[0]
    assert {"consistency:legal_rep_unknown", "consistency:insurance_employer_unknown"} <= set(alerts.rule_id)
    assert not alerts.message.str.contains(r"\d{17}[\dX]").any(), "no identity number in any alert"
    # Other findings are a district's own alert where the finding names one of the city's districts
    # (one alert per owning department there; findings of no known district are the city's).
    city = load_city()

    def by_rule_and_district(rows) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for rule, d, n in rows:
            key = (rule, d if d in city.district_codes else city.code)
            out[key] = out.get(key, 0) + n
        return out

    findings = con.execute("""SELECT 'consistency:' || rule, district_code, count(*) FROM quality.findings
                              WHERE rule <> 'deceased_with_valid_certificate' GROUP BY ALL""").fetchall()
    raised = con.execute("""SELECT rule_id, district_code, CAST(json_extract(message_params, '$.count') AS BIGINT) FROM marts.alerts
                            WHERE rule_id LIKE 'consistency:%' AND status = 'open'""").fetchall()
    assert by_rule_and_district(raised) == by_rule_and_district(findings)
    assert any(d != city.code for _, d, _ in raised), "some findings are a district's"
    n = len(alerts)
    # Re-running changes nothing; an alert acknowledged before the loop (a status of old
    # warehouses) is open again: its handling now lives in the operational store.
    first = con.execute("SELECT alert_id FROM marts.alerts WHERE rule_id = 'feed_missing' LIMIT 1").fetchone()[0]
    con.execute("UPDATE marts.alerts SET status = 'acknowledged' WHERE alert_id = ?", [first])
    before = dict(con.execute("SELECT alert_id, status FROM marts.alerts").fetchall())
    evaluate(con, AS_OF)
    again = dict(con.execute("SELECT alert_id, status FROM marts.alerts").fetchall())
    assert len(again) == n and again[first] == "open" and {a: s for a, s in again.items() if a != first} == \
        {a: s for a, s in before.items() if a != first}


def test_withheld_feed_alert_resolves_when_the_feed_arrives(tiny_city: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    missing = pd.read_csv(home / "truth" / "missing.csv", dtype=str).iloc[0]
    folder = home / "landing" / missing.department / missing.feed / missing.business_date
    folder.mkdir(parents=True, exist_ok=True)
    from warehouse.contract.feeds import feed

    (folder / "late.csv").write_text(",".join(feed(missing.department, missing.feed).column_names) + "\n", encoding="utf-8")
    later = AS_OF + dt.timedelta(hours=2)
    ingest_landing(con, home / "landing", home / "tmp")
    evaluate(con, later)
    status = con.execute("SELECT status FROM marts.alerts WHERE rule_id = 'feed_missing' AND subject = ? AND date = ?",
                         [f"{missing.department}/{missing.feed}", missing.business_date]).fetchone()[0]
    assert status == "resolved"


def test_clean_city_raises_nothing_and_an_injected_anomaly_is_caught(tmp_path: Path) -> None:
    from citybrain.synth.generate import generate

    home = tmp_path / "clean"
    generate(home, "tiny", 21, dt.date(2026, 11, 20), 5, progress=False, clean=True)
    con = _run(home)
    assert con.execute("SELECT count(*) FROM marts.alerts").fetchone()[0] == 0
    # Five times the usual certificate uses on the last day: a correction of that day's file.
    last = "2026-11-20"
    path = next((home / "landing" / "dsb" / "certificate_usage" / last).glob("certificate_usage_*"))
    df = pd.read_parquet(path) if path.suffix == ".parquet" else (pd.read_json(path, lines=True, dtype=str) if path.suffix == ".jsonl"
                                                                   else pd.read_csv(path, dtype=str, encoding="gb18030", keep_default_na=False))
    df.columns = [c.lstrip("\ufeff") for c in df.columns]
    boosted = pd.concat([df] + [df.assign(usage_id=df.usage_id + f"X{i}") for i in range(4)])
    path.unlink()
    boosted.to_csv(path.with_suffix(".csv"), index=False)
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, AS_OF)
    refresh(con, AS_OF)
    evaluate(con, AS_OF)
    rules = {tuple(r) for r in con.execute("SELECT rule_id, district_code, CAST(date AS VARCHAR) FROM marts.alerts").fetchall()}
    assert ("anomaly:cert.usage", CITY, last) in rules


def test_open_data_reveals_no_count_of_one_to_nine_people_even_by_differencing(tiny, tmp_path: Path) -> None:
    """The attacks that undid suppression, run on the published files: deaths as births + net
    migration − Δregistered, day-on-day changes of stocks, negative cells, city minus districts."""
    _, con = tiny
    files = export(con, tmp_path)
    pub = pd.read_csv(files["csv"], dtype={"district_code": str})
    assert "multiple of 10" in files["readme"].read_text(encoding="utf-8")
    assert (pub.value % BASE == 0).all() and (pub.rounded_to == BASE).all()
    truth = con.execute("SELECT indicator_id, CAST(date AS VARCHAR) AS date, district_code, value FROM marts.indicator_values").df()
    merged = pub.merge(truth, on=["indicator_id", "date", "district_code"], suffixes=("", "_true"))
    assert len(merged) == len(pub) and ((merged.value - merged.value_true).abs() <= BASE / 2).all()
    small = merged[merged.value_true.abs().between(1, 9)]
    assert len(small) > 20 and not (small.value == small.value_true).any()
    assert (small[small.value_true < 0].indicator_id == "pop.net_migration").any()  # negatives are covered too

    wide = pub.pivot_table(index=["date", "district_code"], columns="indicator_id", values="value")
    true = truth.pivot_table(index=["date", "district_code"], columns="indicator_id", values="value")
    # Deaths from the other flows and the stock.
    registered_change = wide["pop.registered"].groupby(level="district_code").diff()
    derived = wide["pop.births"] + wide["pop.net_migration"] - registered_change
    deaths = true["pop.deaths"].reindex(derived.index)
    hit = derived[deaths.between(1, 9)] == deaths[deaths.between(1, 9)]
    assert len(hit) > 0 and not hit.any()
    # Day-on-day changes of stocks, and the city minus the other districts.
    for stock in ("pop.registered", "cert.valid", "le.active"):
        change = wide[stock].groupby(level="district_code").diff().dropna()
        assert not change.abs().between(1, 9).any()
    # Any sum or difference of published values (the city less its districts, too) is a multiple of 10.


def test_snapshot_is_never_seen_half_published(tiny, tmp_path: Path) -> None:
    home, con = tiny
    serving = tmp_path / "serving"
    publish(con, serving, AS_OF, run_id="first")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), "12"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for i in range(6):
        publish(con, serving, AS_OF, run_id=f"run{i}", newest=3)
        time.sleep(0.3)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err[-2000:]
    reads, errors, runs = out.split()
    assert int(errors) == 0 and int(reads) > 20 and int(runs) >= 2
    assert len(list(serving.glob("snapshot-*.duckdb"))) == 3
    assert current(serving).exists()



def test_retention_keeps_each_days_last_snapshot_and_the_newest(tiny, tmp_path: Path) -> None:
    """Two refreshes a day for four days, kept 3 days and the newest 2: the last snapshot of
    each of the last three days stays, and the newest two (both of the last day), whatever
    the number of refreshes; each kept day opens on its own last snapshot."""
    _, con = tiny
    serving = tmp_path / "serving"
    first = AS_OF - dt.timedelta(days=3)
    for n in range(4):
        for hour in (7, 19):
            clock = first.replace(hour=hour) + dt.timedelta(days=n)
            publish(con, serving, clock, run_id=f"day{n}-{hour}", days=3, newest=2)
    kept = [(s.day - first.date()).days for s in list_snapshots(serving)]
    assert kept == [1, 2, 3, 3]
    snap = Snapshot(serving)
    runs = {}
    for day in snap.days():
        path, cur = snap.pinned(day)
        runs[(day - first.date()).days] = dict(cur.execute("SELECT key, value FROM snapshot_info").fetchall())["run_id"]
    assert runs == {1: "day1-19", 2: "day2-19", 3: "day3-19"}
    assert snap.pinned(first.date()) == (None, None)  # pruned: nothing, never another day's
    assert snap.pinned()[0] == current(serving) == snap.days()[first.date() + dt.timedelta(days=3)]


def test_every_accepted_row_leads_back_to_its_delivery(tiny, tmp_path: Path) -> None:
    """The snapshot's lineage counts every accepted row of every live delivery once, by day and
    district, and names the feeds behind every indicator."""
    _, con = tiny
    path = publish(con, tmp_path / "serving", AS_OF)
    snap = duckdb.connect(str(path), read_only=True)
    by_delivery = dict(snap.execute("SELECT delivery_id, sum(rows) FROM value_sources GROUP BY 1").fetchall())
    live = dict(snap.execute("SELECT delivery_id, rows_accepted FROM deliveries WHERE status IN ('accepted', 'partial') "
                             "AND rows_accepted > 0").fetchall())
    assert by_delivery == live and live
    missing = snap.execute("SELECT indicator_id FROM indicator_catalog EXCEPT SELECT indicator_id FROM indicator_feeds").fetchall()
    assert missing == []
    births = snap.execute("SELECT department || '/' || feed, basis FROM indicator_feeds WHERE indicator_id = 'pop.births'").fetchall()
    assert births == [("psb/household_events", "event")]
    snap.close()

READER = """
import sys, time
from pathlib import Path
from warehouse.serving.snapshot import Snapshot
serving, seconds = Path(sys.argv[1]), float(sys.argv[2])
snap = Snapshot(serving)
reads = errors = 0
runs = set()
end = time.time() + seconds
while time.time() < end:
    try:
        con = snap.connection()
        info = dict(con.execute("SELECT key, value FROM snapshot_info").fetchall())
        for key, value in info.items():
            if key.startswith("rows:"):
                n = con.execute(f"SELECT count(*) FROM {key[5:]}").fetchone()[0]
                assert n == int(value), (key, n, value)
        runs.add(info["run_id"])
        reads += 1
    except Exception as e:
        errors += 1
        print(repr(e), file=sys.stderr)
    time.sleep(0.02)
print(reads, errors, len(runs))
"""


def _as_ratio(num: pd.Series, den: pd.Series, days: list[str]) -> dict[tuple[str, str], float | None]:
    """(day, district) numerators and denominators -> every day x district and the pooled city
    value, None where nothing was counted (a rate has no value on a day without events)."""
    out: dict[tuple[str, str], float | None] = {}
    for day in days:
        for k in load_city().district_codes:
            n, d = float(num.get((day, k), 0)), float(den.get((day, k), 0))
            out[(day, k)] = round(n / d, 9) if d else None
        n = float(sum(v for (dd, _), v in num.items() if dd == day))
        d = float(sum(v for (dd, _), v in den.items() if dd == day))
        out[(day, CITY)] = round(n / d, 9) if d else None
    return out


def test_service_indicators_match_an_independent_computation(tiny) -> None:
    home, con = tiny
    days = sorted({d["business_date"] for d in truth_deliveries(home)})
    steps = _clean(home, "hotline__service_requests").sort_values(["event_time", "_business_date", "_line"], kind="stable")
    steps = steps.assign(day=steps.event_time.str[:10])
    created = steps[steps.event_type == "create"].drop_duplicates("ticket_no").set_index("ticket_no")
    steps = steps.assign(k=steps.ticket_no.map(created.district_code))
    assert len(created) > 30 and {"dispatch", "close", "rate", "reopen"} <= set(steps.event_type)

    requests = created.assign(day=created.event_time.str[:10]).groupby(["day", "district_code"]).size()
    assert _values(con, "svc.requests") == _as_indicator(requests, days, _undelivered(home, "hotline/service_requests"))
    closes = steps[steps.event_type == "close"]
    assert _values(con, "svc.closed") == _as_indicator(closes.groupby(["day", "k"], dropna=False).size(), days, _undelivered(home, "hotline/service_requests"))

    rates = steps[steps.event_type == "rate"].assign(s=lambda d: d.satisfaction.astype(int))
    got = {key: None if v is None else round(v, 9) for key, v in _values(con, "svc.satisfaction").items()}
    assert got == _as_ratio(rates.groupby(["day", "k"]).s.sum(), rates.groupby(["day", "k"]).size(), days)

    # A close is on time when it is no later than the due time of the latest dispatch before it.
    due = steps.due_at.where(steps.event_type == "dispatch").groupby(steps.ticket_no).ffill()
    followed = steps.assign(due=due.groupby(steps.ticket_no).shift())[lambda d: (d.event_type == "close") & d.due.notna()]
    on_time = followed.assign(ok=(followed.event_time <= followed.due).astype(int))
    got = {key: None if v is None else round(v, 9) for key, v in _values(con, "svc.on_time_rate").items()}
    assert got == _as_ratio(on_time.groupby(["day", "k"]).ok.sum(), on_time.groupby(["day", "k"]).size(), days)

    # Open at the end of each day: replay create, close and reopen; overdue: its latest due time has passed.
    backlog, overdue = {}, {}
    for day in days:
        end = f"{day} 24:00:00"  # sorts after every time of the day
        upto = steps[(steps.event_time < end) & steps.ticket_no.isin(created.index)]
        state = upto[upto.event_type.isin(["create", "close", "reopen"])].groupby("ticket_no").tail(1)
        open_now = state[state.event_type != "close"].ticket_no
        last_due = upto[upto.event_type == "dispatch"].groupby("ticket_no").tail(1).set_index("ticket_no").due_at
        late = open_now[open_now.map(last_due).fillna("9999") < end]
        backlog.update({(day, k): float(n) for k, n in open_now.map(created.district_code).value_counts().items()})
        overdue.update({(day, k): float(n) for k, n in late.map(created.district_code).value_counts().items()})
    assert _values(con, "svc.backlog") == _as_indicator(pd.Series(backlog, dtype=float), days)
    assert _values(con, "svc.overdue") == _as_indicator(pd.Series(overdue, dtype=float), days)
    got = {key: None if v is None else round(v, 9) for key, v in _values(con, "svc.overdue_share").items()}
    assert got == _as_ratio(pd.Series(overdue, dtype=float), pd.Series(backlog, dtype=float), days)

    # The same by handler and by category, which together make up the city's figures.
    for day in days[-3:]:
        by_category = sum(_values(con, f"svc.requests.{c}").get((day, CITY), 0) for c in REQUEST_CATEGORIES)
        assert by_category == _values(con, "svc.requests")[(day, CITY)]
    overdue_by_handler = sum(_values(con, f"svc.overdue.{h}")[(days[-1], CITY)]
                             for h in ("psb", "health", "civil", "hrss", "samr", *HANDLER_DEPARTMENTS, "local"))
    assert overdue_by_handler == _values(con, "svc.overdue")[(days[-1], CITY)]


def test_every_handler_category_and_department_has_its_indicators() -> None:
    """Catalog templates (a dimension of "{code}") expand over the contract's code lists: nothing missing,
    nothing extra, each with its dimension."""
    from warehouse.contract.feeds import DEPARTMENTS, FEEDS, REQUEST_HANDLERS
    from warehouse.marts.indicators.catalog import catalog

    ids = [i.id for i in catalog()]
    assert len(ids) == len(set(ids))
    for prefix in ("svc.on_time_rate", "svc.overdue", "svc.overdue_share"):
        assert {i for i in ids if i.startswith(prefix + ".")} == {f"{prefix}.{h}" for h in REQUEST_HANDLERS}
    assert {i for i in ids if i.startswith("svc.requests.")} == {f"svc.requests.{c}" for c in REQUEST_CATEGORIES}
    feeding = {f.department for f in FEEDS}
    assert {i for i in ids if i.startswith("gov.on_time_rate.")} == {f"gov.on_time_rate.{d}" for d in feeding}
    by_id = {i.id: i for i in catalog()}
    assert by_id["gov.on_time_rate.hotline"].name_zh.endswith(DEPARTMENTS["hotline"][0])
    assert by_id["svc.overdue_share.urban"].params == {"handler": "urban", "category": "*", "overdue": "share"}
    assert by_id["svc.overdue_share.urban"].owner == "urban"
    assert by_id["svc.overdue_share.urban"].dimensions == {"handler": "urban"}
    assert by_id["svc.requests.traffic"].dimensions == {"category": "traffic"}
    assert by_id["gov.on_time_rate.hotline"].dimensions == {"department": "hotline"}


def test_vitality_rates_and_both_scores_match_an_independent_computation(tiny) -> None:
    home, con = tiny
    from warehouse.marts.indicators.catalog import catalog
    from warehouse.marts.score import compute_scores

    days = sorted({d["business_date"] for d in truth_deliveries(home)})
    births, residents = _values(con, "pop.births"), _values(con, "pop.registered")
    got = _values(con, "pop.birth_rate")
    for i, day in enumerate(days):
        window = days[max(0, i - 27): i + 1]  # the 28 days ending D, fewer at the start
        for k in [*load_city().district_codes, CITY]:
            n = sum(births[(d, k)] for d in window)
            expected = n * 1000 * 365 / len(window) / residents[(day, k)] if residents[(day, k)] else None
            assert got[(day, k)] == pytest.approx(expected, rel=1e-9), (day, k)

    compute_scores(con)
    values = con.execute("SELECT * FROM marts.indicator_values").df()
    cat = pd.DataFrame([{"indicator_id": i.id, "family": i.score, "kind": i.kind, "direction": i.direction, "target": i.target}
                        for i in catalog() if i.score and i.target])
    assert set(cat[cat.family == "vital"].indicator_id) >= {"svc.on_time_rate", "svc.satisfaction", "svc.overdue_share",
                                                            "pop.birth_rate", "pop.net_migration_rate", "le.new_rate"}
    assert not any(cat[cat.family == "vital"].indicator_id.str.startswith("gov."))  # punctuality is data-sharing health
    assert "gov.on_time_rate.hotline" in set(cat[cat.family == "sharing"].indicator_id)
    v = values.merge(cat, on="indicator_id").dropna(subset=["value"])
    v = v.assign(month=pd.to_datetime(v.date).dt.to_period("M").dt.start_time.dt.date)
    for (family, month, district), g in v.groupby(["family", "month", "district_code"]):
        per = []
        for _, h in g.groupby("indicator_id"):
            value = h.numerator.sum() / h.denominator.sum() if h.kind.iloc[0] == "ratio" else h.value.mean()
            target, higher = h.target.iloc[0], h.direction.iloc[0] == "higher"
            per.append(min(2.0, max(0.0, value / target if higher else (2.0 if value == 0 else target / value))))
        score, n = con.execute(
            "SELECT score, indicators FROM marts.city_score WHERE family = ? AND period = 'month' AND period_start = ? AND district_code = ?",
            [family, month, district]).fetchone()
        assert n == len(per) and score == pytest.approx(sum(per) / len(per), abs=1e-8), (family, month, district)


def _writable_copy(con, tmp_path: Path):
    """A writable copy of the shared tiny warehouse, for a test that changes it."""
    con.execute("CHECKPOINT")
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0], db)
    return connect(db)


def test_a_handlers_overdue_backlog_alerts_that_departments_steward(tiny, tmp_path: Path) -> None:
    """Overdue share by handler: a department's alert goes to its steward, the district governments' to the city manager."""
    _, con = tiny
    copy = _writable_copy(con, tmp_path)
    last = copy.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    copy.execute("DELETE FROM marts.indicator_values WHERE indicator_id IN ('svc.overdue_share.urban', 'svc.overdue_share.local') AND date = ?", [last])
    copy.execute("INSERT INTO marts.indicator_values VALUES ('svc.overdue_share.urban', ?, ?, 0.5, 20, 40), "
                 "('svc.overdue_share.local', ?, ?, 0.2, 8, 40)", [last, CITY, last, CITY])
    evaluate(copy, AS_OF)
    owners = {r[0]: r[1:] for r in copy.execute(
        "SELECT rule_id, severity, owner_kind, owner_scope FROM marts.alerts WHERE rule_id LIKE 'threshold:svc.overdue_share.%' AND date = ?",
        [last]).fetchall()}
    assert owners["threshold:svc.overdue_share.urban"] == ("critical", "department", "urban")
    assert owners["threshold:svc.overdue_share.local"] == ("warning", "city", None)


def test_a_late_step_on_an_old_ticket_recomputes_from_its_own_day_only(tiny_city: Path, tmp_path: Path) -> None:
    """A redispatch of a weeks-old ticket moves indicators from its own day on (it counts under
    the handler of its time), and the daily refresh then equals a recomputation of every day."""
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    last = con.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    ticket, district, handler = con.execute(
        """SELECT ticket_no, district_code, handler FROM service.tickets
           WHERE status = 'open' AND handler IS NOT NULL AND created_at < ? ORDER BY created_at, ticket_no LIMIT 1""",
        [last - dt.timedelta(4)]).fetchone()
    other = "urban" if handler != "urban" else "transport"
    folder = home / "landing" / "hotline" / "service_requests" / last.isoformat()
    (folder / "redispatch.csv").write_text(
        "event_id,ticket_no,event_type,event_time,district_code,category,channel,handler,due_at,satisfaction,caller_id_number\n"
        f"RXLATE1,{ticket},dispatch,{last} 10:00:00,{district},,,{other},{last + dt.timedelta(3)} 10:00:00,,\n", encoding="utf-8")
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, AS_OF)
    first, _ = refresh(con, AS_OF)
    assert first >= last - dt.timedelta(2)  # the step's own day (and the clock's last two), not the ticket's creation
    incremental = con.execute("SELECT * FROM marts.indicator_values ORDER BY ALL").df()
    refresh(con, AS_OF, full=True)
    assert incremental.equals(con.execute("SELECT * FROM marts.indicator_values ORDER BY ALL").df())
    moved = con.execute("SELECT value FROM marts.indicator_values WHERE indicator_id = ? AND date = ? AND district_code = ?",
                        [f"svc.overdue.{other}", last - dt.timedelta(1), CITY]).fetchone()
    assert moved is not None  # the day before the step still counts the ticket under its old handler


def test_cancelling_a_years_old_certificate_recomputes_from_the_cancellation_only(tiny_city: Path, tmp_path: Path) -> None:
    """A cancellation carries its certificate's start of validity, years back: the refresh still
    recomputes from the cancellation's day only, and that equals a recomputation of every day."""
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    last = con.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    cert = con.execute(
        """SELECT certificate_no, certificate_type, holder_type, holder_id, issuer, valid_from, valid_to
           FROM e_certificate.certificate_state WHERE lifecycle = 'valid' AND valid_from < ?
           ORDER BY valid_from, certificate_no LIMIT 1""", [last - dt.timedelta(days=365)]).fetchone()
    assert cert is not None
    event = dict(zip(["certificate_no", "certificate_type", "holder_type", "holder_id", "issuer", "valid_from", "valid_to"], cert))
    event.update(event_id="ZZCANCEL1", event_type="cancel", event_date=last.isoformat(), valid_from=cert[5].isoformat(),
                 valid_to=cert[6].isoformat() if cert[6] else None)
    folder = home / "landing" / "dsb" / "certificate_events" / last.isoformat()
    (folder / "cancellation.jsonl").write_text(json.dumps(event, ensure_ascii=False) + "\n", encoding="utf-8")
    before = con.execute("SELECT value FROM marts.indicator_values WHERE indicator_id = 'cert.valid' AND date = ? AND district_code = ?",
                         [last, CITY]).fetchone()[0]
    assert [o.status for o in ingest_landing(con, home / "landing", home / "tmp")] == ["accepted"]
    build_all(con, AS_OF)
    first, _ = refresh(con, AS_OF)
    assert first >= last - dt.timedelta(2)  # the clock's last two days, not the certificate's start
    incremental = con.execute("SELECT * FROM marts.indicator_values ORDER BY ALL").df()
    assert con.execute("SELECT value FROM marts.indicator_values WHERE indicator_id = 'cert.valid' AND date = ? AND district_code = ?",
                       [last, CITY]).fetchone()[0] == before - 1
    refresh(con, AS_OF, full=True)
    assert incremental.equals(con.execute("SELECT * FROM marts.indicator_values ORDER BY ALL").df())


def test_a_back_dated_enrolment_reopens_the_stocks_not_the_flows_of_other_feeds(tiny_city: Path, tmp_path: Path) -> None:
    """An enrolment dated ten days back recomputes the stocks from that day; certificate uses
    and births, whose own feeds delivered nothing new, keep those days as they were; a full
    recomputation then gives the same values."""
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    last = con.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    back = last - dt.timedelta(days=10)
    person, employer = con.execute(
        "SELECT p.id_number, e.uscc FROM population.persons p, legal_person.entities e "
        "WHERE p.status = 'registered' ORDER BY p.id_number, e.uscc LIMIT 1").fetchone()
    folder = home / "landing" / "hrss" / "insurance_events" / last.isoformat()
    (folder / "late_enrolment.csv").write_text(
        f"event_id,id_number,employer_uscc,event_type,event_date\nINLATE1,{person},{employer},enrol,{back}\n", encoding="utf-8")
    marker = "UPDATE marts.indicator_values SET value = -1 WHERE indicator_id = ? AND date = ? AND district_code = ?"
    for flow in ("cert.usage", "pop.births"):  # a value the refresh must not touch
        con.execute(marker, [flow, back, CITY])
    insured = "SELECT value FROM marts.indicator_values WHERE indicator_id = 'hrss.insured_employees' AND date = ?"
    before = con.execute(insured, [back]).fetchone()[0]
    assert [o.status for o in ingest_landing(con, home / "landing", home / "tmp")] == ["accepted"]
    build_all(con, AS_OF)
    first, _ = refresh(con, AS_OF)
    assert first == back
    assert con.execute(insured, [back]).fetchone()[0] != before  # the stock moved from that day
    kept = "SELECT value FROM marts.indicator_values WHERE indicator_id = ? AND date = ? AND district_code = ?"
    assert [con.execute(kept, [f, back, CITY]).fetchone()[0] for f in ("cert.usage", "pop.births")] == [-1, -1]
    unmarked = f"""SELECT * FROM marts.indicator_values WHERE NOT (indicator_id IN ('cert.usage', 'pop.births')
                   AND date = DATE '{back}' AND district_code = '{CITY}') ORDER BY ALL"""
    incremental = con.execute(unmarked).df()
    refresh(con, AS_OF, full=True)
    assert incremental.equals(con.execute(unmarked).df())


def test_what_reads_the_shared_certificate_uses_names_their_feed() -> None:
    """cb_cert_uses holds the days the usage flows are recomputed from only, so every indicator
    reading it must be such a flow (its catalog entry names dsb/certificate_usage)."""
    readers = [i for i in catalog() if "cb_cert_uses" in i.sql_file.read_text(encoding="utf-8")]
    assert {i.id for i in readers} == {"cert.usage", "cert.online_share"}
    assert all("dsb/certificate_usage" in i.feeds for i in readers)


def test_back_dated_events_give_their_own_day_a_value_even_before_the_first_delivery(tiny_city: Path, tmp_path: Path) -> None:
    """Indicators cover every date in the data (CONTRACT §4): births delivered on the last day,
    dated inside the covered range and before the first business date, count on their own day."""
    from stdnum.cn import ric

    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = _run(home)
    first, last = con.execute("SELECT min(business_date), max(business_date) FROM ingest.live_deliveries").fetchone()
    before, inside = first - dt.timedelta(5), first + dt.timedelta(3)
    inside_before = _values(con, "pop.births")[(inside.isoformat(), "330106")]
    rows = []
    for i, day in enumerate((before, inside)):
        body = "330106" + day.strftime("%Y%m%d") + f"{i + 3:02d}2"
        rows.append(f"HJLATE{i},{body + ric.calc_check_digit(body + '0')},迟报,2,{day},01,330106,birth,{day}")
    folder = home / "landing" / "psb" / "household_events" / last.isoformat()
    (folder / "late_births.csv").write_text(
        "event_id,id_number,name,gender,birth_date,ethnicity,district_code,event_type,event_date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest_landing(con, home / "landing", home / "tmp")
    build_all(con, AS_OF)
    refresh(con, AS_OF)
    births = _values(con, "pop.births")
    assert births[(inside.isoformat(), "330106")] == inside_before + 1
    assert births[(before.isoformat(), "330106")] == 1 and births[(before.isoformat(), CITY)] == 1
    # That day had no psb delivery: districts without a birth on it have no value, not 0.
    assert births[(before.isoformat(), "330102")] is None


def test_a_critical_threshold_alert_quotes_the_critical_level(tiny, tmp_path: Path) -> None:
    _, con = tiny
    copy = _writable_copy(con, tmp_path)
    last = copy.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    copy.execute("DELETE FROM marts.indicator_values WHERE indicator_id = 'svc.overdue_share' AND date = ? AND district_code IN (?, '330106')",
                 [last, CITY])
    copy.execute("INSERT INTO marts.indicator_values VALUES ('svc.overdue_share', ?, ?, 0.5, 20, 40), ('svc.overdue_share', ?, '330106', 0.2, 8, 40)",
                 [last, CITY, last])
    evaluate(copy, AS_OF)
    got = dict(copy.execute("SELECT district_code, severity || ': ' || message FROM marts.alerts WHERE rule_id = 'threshold:svc.overdue_share' AND date = ?",
                            [last]).fetchall())
    assert got[CITY].startswith("critical:") and "30.0 %" in got[CITY] and "critical level" in got[CITY] and "15.0 %" not in got[CITY]
    assert got["330106"].startswith("warning:") and "15.0 %" in got["330106"] and "warning level" in got["330106"]
    # The reader's language: the same levels, rendered from the stored template.
    zh = {d: render(k, p, "zh") for d, k, p in copy.execute(
        "SELECT district_code, message_key, CAST(message_params AS VARCHAR) FROM marts.alerts "
        "WHERE rule_id = 'threshold:svc.overdue_share' AND date = ?", [last]).fetchall()}
    assert "警戒线 30.0" in zh[CITY] and "预警线 15.0" in zh["330106"], zh


def test_a_refresh_forecasts_every_marked_indicator_and_district_two_weeks_ahead(tiny_city: Path, tmp_path: Path) -> None:
    """The Dagster job a refresh runs makes forecasts: every indicator the catalog marks, every
    district (city-wide only where its scope says so) and the city, 14 days from the last complete day."""
    from helpers import refreshed_copy

    from warehouse.marts.forecasts import HORIZON
    from warehouse.marts.indicators.catalog import catalog

    home = refreshed_copy(tiny_city, tmp_path / "h")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    f = con.execute("SELECT * FROM marts.forecasts").df()
    last = con.execute("SELECT max(business_date) FROM ingest.live_deliveries").fetchone()[0]
    assert set(f.issued_on.dt.date) == {last}  # refreshed at 07:00 the next day: the last day is complete
    marked = [i for i in catalog() if i.forecast]
    assert {"pop.births", "svc.on_time_rate", "gov.rejection_rate"} <= {i.id for i in marked}
    assert not any("{" in i.id or i.id.count(".") > 1 for i in marked)  # templated (per handler/category) ids are not forecast
    expected = {(i.id, k) for i in marked for k in ([*load_city().district_codes, CITY] if i.scope == "district" else [CITY])}
    # ... except a series without a single value yet (a county where no request was closed).
    valued = set(con.execute("SELECT DISTINCT indicator_id, district_code FROM marts.indicator_values WHERE value IS NOT NULL").fetchall())
    assert set(zip(f.indicator_id, f.district_code)) == expected & valued and len(expected - valued) <= 3
    days = {last + dt.timedelta(h) for h in range(1, HORIZON + 1)}
    assert all(set(g.date.dt.date) == days and len(g) == HORIZON for _, g in f.groupby(["indicator_id", "district_code"]))
    assert ((f.lo95 <= f.lo80) & (f.lo80 <= f["mean"]) & (f["mean"] <= f.hi80) & (f.hi80 <= f.hi95)).all()
    kinds = {i.id: i for i in marked}
    counts = f[f.indicator_id.map(lambda i: kinds[i].kind == "count" and not kinds[i].signed)]
    shares = f[f.indicator_id.map(lambda i: kinds[i].unit == "%")]
    assert (counts.lo95 >= 0).all() and ((shares.lo95 >= 0) & (shares.hi95 <= 1)).all() and len(shares)
    # Two weeks of history is too short for a model, and the method says so.
    assert set(f.method) == {"daykind_mean:short_history"}
    # The snapshot the cockpit reads carries them.
    snap = duckdb.connect(str(current(home / "serving")), read_only=True)
    assert snap.execute("SELECT count(*) FROM forecasts").fetchone()[0] == len(f)


def _set_on_time_rate(con: duckdb.DuckDBPyConnection, district: str, rate, cases: int) -> None:
    """Replace the on-time rate of ``district`` on every day with ``rate(day)`` over ``cases`` closures."""
    days = [r[0] for r in con.execute("SELECT DISTINCT date FROM marts.indicator_values ORDER BY 1").fetchall()]
    con.execute("DELETE FROM marts.indicator_values WHERE indicator_id = 'svc.on_time_rate' AND district_code = ?", [district])
    con.executemany("INSERT INTO marts.indicator_values VALUES ('svc.on_time_rate', ?, ?, ?, ?, ?)",
                    [(d, district, rate(d), rate(d) * cases, cases) for d in days])


def test_a_predicted_breach_is_one_warning_that_follows_the_forecast_and_resolves(tiny, tmp_path: Path) -> None:
    from warehouse.contract.workdays import is_workday
    from warehouse.marts.forecasts import refresh_forecasts

    _, con = tiny
    copy = _writable_copy(con, tmp_path)
    last = copy.execute("SELECT max(date) FROM marts.indicator_values").fetchone()[0]
    ahead = [last + dt.timedelta(h) for h in range(1, 8)]

    def run(city_rate, district_rate=lambda d: 0.5) -> pd.DataFrame:
        _set_on_time_rate(copy, CITY, city_rate, cases=200)
        _set_on_time_rate(copy, "330106", district_rate, cases=5)  # far below, but over 5 cases a day: noise
        refresh_forecasts(copy, AS_OF)
        evaluate(copy, AS_OF)
        return copy.execute("SELECT * FROM marts.alerts WHERE rule_id = 'forecast_breach' AND subject = 'svc.on_time_rate'").df()

    # On-time closure (warning below 85%, critical below 75%) slips to 80% on rest days.
    alerts = run(lambda d: 0.95 if is_workday(d) else 0.80)
    assert len(alerts) == 1, alerts  # the district's tiny denominators raise nothing
    a = alerts.iloc[0]
    first_rest = next(d for d in ahead if not is_workday(d))
    assert (a.district_code, a.subject, a.severity, a.status) == (CITY, "svc.on_time_rate", "warning", "open")
    assert a.date.date() == first_rest and str(first_rest) in a.message and "On-time closure rate" in a.message
    # The prediction moves to workdays: the same alert, its date now the first workday ahead.
    alerts = run(lambda d: 0.80 if is_workday(d) else 0.95)
    first_work = next(d for d in ahead if is_workday(d))
    assert len(alerts) == 1 and alerts.alert_id.iloc[0] == a.alert_id and alerts.date.iloc[0].date() == first_work
    assert str(first_work) in alerts.message.iloc[0]
    # Worse: the 95% bound crosses the critical level, quoted in the message.
    alerts = run(lambda d: 0.70)
    assert len(alerts) == 1 and alerts.severity.iloc[0] == "critical" and "75.0 %" in alerts.message.iloc[0]
    # The data recover: the prediction no longer holds and the alert is resolved.
    alerts = run(lambda d: 0.95)
    assert len(alerts) == 1 and alerts.status.iloc[0] == "resolved" and alerts.alert_id.iloc[0] == a.alert_id
