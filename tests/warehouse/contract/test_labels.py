"""The label registry names every code the contract and the warehouse produce, in both
languages, and stored messages render in each language alone."""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import duckdb
import pytest
from helpers import run_to_alerts

from warehouse.contract import labels, translations
from warehouse.contract.city import load_city
from warehouse.contract.feeds import (
    FEEDS,
    FILE_REASONS,
    OWNER_DEPARTMENTS,
    REQUEST_CATEGORIES,
    REQUEST_HANDLERS,
    ROW_REASONS,
    UNKNOWN_FEED,
)
from warehouse.ingest.schema import connect
from warehouse.marts.indicators.catalog import catalog
from warehouse.marts.score import compute_scores
from warehouse.ops import alert_loop

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _named(kind: str, code: str) -> None:
    found = labels.pair(kind, code)
    assert found is not None, f"{kind} {code!r} has no label"
    zh, en = found
    assert zh and en, (kind, code)
    assert not CJK.search(en), f"English name of {kind} {code!r} has Chinese: {en}"
    # Chinese names hold no English word (units such as % and codes such as PIPL's article
    # numbers aside, none is allowed).
    assert not LATIN_WORD.search(zh), f"Chinese name of {kind} {code!r} has Latin letters: {zh}"


def _finding_rules() -> set[str]:
    sql = (Path(__file__).parents[3] / "warehouse" / "libraries" / "findings.sql").read_text(encoding="utf-8")
    return set(re.findall(r"^SELECT '(\w+)'", sql, flags=re.M))


def test_every_contract_code_has_both_names() -> None:
    from dagster import DagsterRunStatus

    from pipelines.definitions import defs

    city = load_city()
    expected = {
        "department": set(OWNER_DEPARTMENTS) | set(REQUEST_HANDLERS),
        "district": {city.code, *city.district_codes},
        "feed": {f.id for f in FEEDS} | {f.name for f in FEEDS},
        "reason": {*ROW_REASONS, *FILE_REASONS, UNKNOWN_FEED},
        "finding": _finding_rules(),
        "rule": {"feed_missing", "deceased_with_valid_certificate", "forecast_breach"}
        | {f"consistency:{r}" for r in _finding_rules() if r != "deceased_with_valid_certificate"}
        | {f"threshold:{i.id}" for i in catalog() if i.warn is not None}
        | {f"anomaly:{i.id}" for i in catalog() if i.anomaly},
        "severity": {"critical", "warning"},
        "alert_status": {"open", "resolved"},
        "alert_state": set(alert_loop.STATES),
        "alert_step": {*alert_loop.STEPS, alert_loop.LEGACY_STEP},
        "owner_kind": set(alert_loop.OWNER_KINDS),
        "delivery_status": {"accepted", "partial", "rejected", "superseded"},
        "ticket_status": {"open", "closed"},
        "run_state": {s.value for s in DagsterRunStatus},
        "unit": {i.unit for i in catalog()},
        "indicator": {i.id for i in catalog()},
        "category": set(REQUEST_CATEGORIES),
        "timezone": {s.execution_timezone for s in defs.schedules},
    }
    for kind, codes in expected.items():
        assert codes, kind
        for code in codes:
            _named(kind, code)
    for code, reason in labels.REASONS.items():
        for pair in ((reason.means_in("zh"), reason.means), (reason.fix_in("zh"), reason.fix)):
            assert pair[0] and pair[1] and not CJK.search(pair[1]) and CJK.search(pair[0]), code
            # In Chinese only the names of formats and encodings stay Latin.
            assert set(LATIN_WORD.findall(pair[0])) <= {"JSON", "UTF", "GB"}, (code, pair[0])
    # District names in English are their pinyin, never the Chinese.
    assert labels.name("district", "330102", "en") == "Shangcheng"


def test_indicator_definitions_name_departments_rather_than_their_codes() -> None:
    # A code that is not a word of its department's English name (psb, hrss…) must not appear.
    codes = [c for c, (_, en) in labels.names("department").items() if c.lower() not in en.lower()]
    for i in catalog():
        words = set(re.findall(r"[A-Za-z_]+", i.definition()))
        assert not words & set(codes), (i.id, i.definition())
        assert i.definition_zh and not LATIN_WORD.search(i.definition_zh.replace("{", "")), i.id
        # Written for readers, not the SQL's notes: no column names (used_at, district_code…).
        assert i.definition_en and "_" not in i.definition_en and not re.search(r"[\u4e00-\u9fff]", i.definition_en), i.id


def test_message_templates_use_the_same_fields_in_both_languages() -> None:
    for key, en in labels.MESSAGES.items():
        zh = translations.pgettext("message", en, "zh")
        assert zh != en, key  # translated in the catalog
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (zh, en)]
        # Only a parser's own (English) detail, or a unit English does without, may be left out.
        assert fields[0] ^ fields[1] <= {"detail", "unit"}, key
        assert not CJK.search(en), key


@pytest.fixture(scope="module")
def warehouse(tiny_city: Path, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    home = tmp_path_factory.mktemp("labels") / "h"
    shutil.copytree(tiny_city, home)
    # A file in no feed's folder and a file whose manifest disagrees: file-level messages too.
    (home / "landing" / "psb" / "nowhere").mkdir(parents=True)
    (home / "landing" / "psb" / "nowhere" / "stray.csv").write_text("a\n1\n", encoding="utf-8")
    con = run_to_alerts(home)
    compute_scores(con)
    return con


# Columns of the refreshed warehouse that hold codes a person sees, and their label kind.
CODE_COLUMNS = [
    ("ingest.deliveries", "department", "department"), ("ingest.deliveries", "feed", "feed"),
    ("ingest.deliveries", "status", "delivery_status"), ("ingest.deliveries", "reason", "reason"),
    ("ingest.rejections", "reason", "reason"),
    ("marts.alerts", "rule_id", "rule"), ("marts.alerts", "severity", "severity"), ("marts.alerts", "status", "alert_status"),
    ("marts.alerts", "district_code", "district"), ("marts.alerts", "owner_scope", "owner"), ("marts.alerts", "owner_kind", "owner_kind"),
    ("quality.findings", "rule", "finding"), ("quality.findings", "owner_department", "department"),
    ("service.tickets", "status", "ticket_status"), ("service.tickets", "handler", "owner"),
    ("service.tickets", "category", "category"), ("service.tickets", "district_code", "district"),
    ("marts.indicator_values", "indicator_id", "indicator"), ("marts.indicator_values", "district_code", "district"),
    ("marts.city_score", "family", "score_family"), ("marts.city_score", "period", "period"),
]


def test_every_code_a_refreshed_warehouse_holds_has_both_names(warehouse: duckdb.DuckDBPyConnection) -> None:
    for table, column, kind in CODE_COLUMNS:
        # A file under no known feed's folder keeps the folder names its department gave it.
        known = "AND reason IS DISTINCT FROM 'unknown_feed'" if table == "ingest.deliveries" else ""
        codes = [r[0] for r in warehouse.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL {known}").fetchall()]
        assert codes or table == "ingest.deliveries" and column == "reason", (table, column)
        for code in codes:
            _named(kind, code)


def test_stored_messages_render_in_one_language_each(warehouse: duckdb.DuckDBPyConnection) -> None:
    stored = warehouse.execute(
        """SELECT message_key, CAST(message_params AS VARCHAR), message FROM marts.alerts
           UNION ALL SELECT error_key, CAST(error_params AS VARCHAR), error FROM ingest.deliveries WHERE error IS NOT NULL""").fetchall()
    keys = {k for k, _, _ in stored}
    assert {"feed_missing", "rows_rejected", "not_a_feed"} <= keys and None not in keys, keys
    for key, params, english in stored:
        assert labels.render(key, params, "en") == english  # the contract's column is the English rendering
        zh = labels.render(key, params, "zh", fallback="")
        assert zh and CJK.search(zh), (key, zh)
        # In Chinese, only the file's own names (paths, columns) may be Latin; never a code of the registry.
        for kind in ("department", "feed", "reason", "indicator", "unit"):
            for code in labels.names(kind):
                if re.search(r"[a-z_]{3,}", code) and not code.isupper():
                    assert not re.search(rf"(?<![\w/]){re.escape(code)}(?![\w/])", zh), (key, code, zh)


def test_older_warehouses_gain_the_message_columns(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("""CREATE SCHEMA marts; CREATE TABLE marts.alerts (
        alert_id VARCHAR PRIMARY KEY, rule_id VARCHAR NOT NULL, severity VARCHAR NOT NULL, date DATE NOT NULL,
        district_code VARCHAR NOT NULL, subject VARCHAR NOT NULL, status VARCHAR NOT NULL, message VARCHAR NOT NULL,
        owner_role VARCHAR NOT NULL, owner_scope VARCHAR, first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL,
        resolved_at TIMESTAMP, acknowledged_at TIMESTAMP, acknowledged_by VARCHAR, ack_comment VARCHAR)""")
    con.execute("""INSERT INTO marts.alerts VALUES ('a', 'feed_missing', 'warning', DATE '2026-11-20', '330100', 'psb/household_events',
                   'open', '公安局「household_events」… (psb/household_events …)', 'steward', 'psb', now(), now(), NULL, NULL, NULL, NULL)""")
    con.close()
    connect(tmp_path / "old.duckdb").close()  # the warehouse's migrations, once
    con = connect(tmp_path / "old.duckdb")
    row = con.execute("SELECT message_key, message_params, message FROM marts.alerts").fetchone()
    assert row[0] is None and row[1] is None and row[2].startswith("公安局")
    # The owner named by a cockpit role then is named by its kind now.
    assert con.execute("SELECT owner_kind, owner_scope FROM marts.alerts").fetchone() == ("department", "psb")
    assert "owner_role" not in {c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'alerts'").fetchall()}
    # An old row without a template is shown as it was stored.
    assert labels.render(row[0], row[1], "en", fallback=row[2]) == row[2]


def test_english_messages_read_right_for_a_count_of_one() -> None:
    """English has no plural agreement in the templates: a count stands where one or many read right."""
    ones = {"count": 1, "persons": 1, "certificates": 1, "rejected": 1, "rows_read": 1, "rule": "death_not_deregistered"}
    for key in ("death_not_deregistered", "deceased_with_valid_certificate", "consistency"):
        text = labels.render(key, ones, "en")
        assert text and not re.search(r"\b1 [a-z]+s\b", text), text
