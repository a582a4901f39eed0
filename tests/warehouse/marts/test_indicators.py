"""Indicators and scores against independent computations from the generator's clean rows,
and what a correction or a late, back-dated row recomputes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import AS_OF_TIME as AS_OF
from helpers import CITY, clean_rows, expected_persons, run_to_alerts, truth_deliveries, truth_rejections

from warehouse.contract.city import load_city
from warehouse.contract.feeds import HANDLER_DEPARTMENTS, REQUEST_CATEGORIES
from warehouse.ingest.deliveries import ingest_landing
from warehouse.libraries.build import build_all
from warehouse.marts.indicators.catalog import catalog
from warehouse.marts.indicators.compute import refresh


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

def test_contract_indicators_match_an_independent_computation(tiny) -> None:
    home, con = tiny
    days = sorted({d["business_date"] for d in truth_deliveries(home)})
    persons = expected_persons(home)
    psb = clean_rows(home, "psb__household_events")
    health = clean_rows(home, "health__death_records")
    samr = clean_rows(home, "samr__entity_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    dsb = clean_rows(home, "dsb__certificate_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
    usage = clean_rows(home, "dsb__certificate_usage")

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
    ins = clean_rows(home, "hrss__insurance_events").sort_values(["event_date", "_business_date", "_line"], kind="stable")
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
    con = run_to_alerts(home)
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
    steps = clean_rows(home, "hotline__service_requests").sort_values(["event_time", "_business_date", "_line"], kind="stable")
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

def test_a_late_step_on_an_old_ticket_recomputes_from_its_own_day_only(tiny_city: Path, tmp_path: Path) -> None:
    """A redispatch of a weeks-old ticket moves indicators from its own day on (it counts under
    the handler of its time), and the daily refresh then equals a recomputation of every day."""
    home = tmp_path / "h"
    shutil.copytree(tiny_city, home)
    con = run_to_alerts(home)
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
    con = run_to_alerts(home)
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
    con = run_to_alerts(home)
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
    con = run_to_alerts(home)
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
