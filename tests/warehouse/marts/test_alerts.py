"""Alerts: withheld feeds, planted inconsistencies, anomalies, thresholds and predicted
breaches fire once, name their owner and resolve."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
from helpers import AS_OF_TIME as AS_OF
from helpers import CITY, run_to_alerts

from warehouse.contract.city import load_city
from warehouse.contract.labels import render
from warehouse.ingest.deliveries import ingest_landing
from warehouse.ingest.schema import connect
from warehouse.libraries.build import build_all
from warehouse.marts.alerts import evaluate
from warehouse.marts.indicators.compute import refresh


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
    con = run_to_alerts(home)
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
    con = run_to_alerts(home)
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
