"""A query that fails shows "could not load" and is logged with its name; a snapshot published
before a table existed shows no data, without an error. Snapshots made by hand (no refresh)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import duckdb
import pytest
from helpers import PASSWORD, dash_call, sign_in

from cockpit.app import create_app
from cockpit.auth import add_user
from warehouse.ops.store import OpsStore
from warehouse.serving.publish import current, publish
from warehouse.storage.home import Home

COULD_NOT_LOAD = {"zh": "无法加载此数据", "en": "Could not load this data"}


def _home(root: Path, city_score: str) -> Home:
    """A data directory whose current snapshot holds the reference tables and a
    ``city_score`` table made by the DDL ``city_score``; a city manager who may read it."""
    publish(duckdb.connect(), root / "serving", dt.datetime(2026, 11, 21, 7))  # an empty warehouse: reference tables only
    con = duckdb.connect(str(current(root / "serving")))
    con.execute(city_score)
    con.close()
    add_user(OpsStore(root), "boss", PASSWORD, "city_manager", None)
    return Home.resolve(root)


def _overview(home: Home, lang: str) -> str:
    app = create_app(home)
    client = app.server.test_client()
    client.set_cookie("cb_lang", lang)
    assert sign_in(client, "boss").status_code == 302
    r = dash_call(client, app, "ov-kpis.children", [None])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return json.dumps(r.get_json(), ensure_ascii=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_query_that_fails_shows_could_not_load_and_is_logged(tmp_path: Path, caplog, lang: str) -> None:
    # The score table lacks the columns the overview reads: a bug, not an older snapshot.
    home = _home(tmp_path, "CREATE TABLE city_score (district_code VARCHAR, period VARCHAR)")
    with caplog.at_level(logging.ERROR, logger="citybrain.cockpit"):
        body = _overview(home, lang)
    assert COULD_NOT_LOAD[lang] in body, body[:500]
    assert "暂无" not in body and "No records" not in body and "No score" not in body
    assert any("query scores failed" in r.getMessage() for r in caplog.records), caplog.text


def test_a_snapshot_without_the_tables_shows_no_data_without_an_error(tmp_path: Path, caplog) -> None:
    # Published before the indicators, alerts and forecasts existed (none of their tables), with
    # no score yet: nothing to show, and no error.
    home = _home(tmp_path, "CREATE TABLE city_score (district_code VARCHAR, family VARCHAR, period VARCHAR, period_start DATE, "
                           "first_day DATE, last_day DATE, score DOUBLE, indicators INTEGER, weakest_indicator VARCHAR, "
                           "strongest_indicator VARCHAR)")
    with caplog.at_level(logging.ERROR, logger="citybrain.cockpit"):
        body = _overview(home, "zh")
    assert COULD_NOT_LOAD["zh"] not in body
    assert "暂无" in body, body[:500]
    assert not [r for r in caplog.records if "failed" in r.getMessage()], caplog.text


def test_a_page_whose_query_fails_shows_could_not_load(tmp_path: Path, caplog) -> None:
    home = _home(tmp_path, "CREATE TABLE indicator_catalog (id VARCHAR)")  # the explorer orders it by indicator_id
    app = create_app(home)
    client = app.server.test_client()
    assert sign_in(client, "boss").status_code == 302
    with caplog.at_level(logging.ERROR, logger="citybrain.cockpit"):
        r = dash_call(client, app, "_pages_content.children", ["/explorer", ""], [])
    body = json.dumps(r.get_json(), ensure_ascii=False)
    assert COULD_NOT_LOAD["zh"] in body and "本页暂时无法显示" not in body, body[:500]
    assert any("query catalog failed" in r.getMessage() for r in caplog.records), caplog.text


def test_a_grid_whose_rows_could_not_load_does_not_say_no_records(tmp_path: Path) -> None:
    home = _home(tmp_path, "CREATE TABLE open_tickets (ticket_no VARCHAR)")  # no due time to compare
    app = create_app(home)
    client = app.server.test_client()
    assert sign_in(client, "boss").status_code == 302
    answer = dash_call(client, app, "sv-overdue.rowData", [1]).get_json()
    assert COULD_NOT_LOAD["zh"] in json.dumps(answer["response"]["sv-scope"], ensure_ascii=False)
    assert "sv-overdue" not in answer["response"]  # the rows are left as they were...
    assert answer["sideUpdate"]["sv-overdue"] == {"className": "cb-grid cb-failed"}  # ...and the grid says nothing of them


def test_a_snapshot_whose_tables_cannot_be_listed_shows_could_not_load(tmp_path: Path, caplog, monkeypatch) -> None:
    # Listing the snapshot's tables (asked before every query) fails like any query would.
    home = _home(tmp_path, "CREATE TABLE city_score (district_code VARCHAR, period VARCHAR)")

    def damaged():
        raise duckdb.IOException("the snapshot cannot be read")
    monkeypatch.setattr("cockpit.data.snapshot.snapshot_tables", damaged)
    with caplog.at_level(logging.ERROR, logger="citybrain.cockpit"):
        body = _overview(home, "en")
    assert COULD_NOT_LOAD["en"] in body, body[:500]
    assert any("query info failed" in r.getMessage() for r in caplog.records), caplog.text
