"""The analyst's console against a real Dagster (webserver on its private socket and daemon,
as scripts/up serves them): the page's own callbacks, posted as the browser posts them after
the analyst confirms, launch a run that fails at a planted step, say why, re-execute it from
the failure to success, cancel a run, turn the schedule off and on and move its time, preview, launch and
cancel a backfill; the same callbacks forged by every other role change nothing; every
action is in the audit log with who did it.

Dagster's runs work in their own throwaway data directory; the cockpit reads its own."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import Session, expect
from helpers import PASSWORD, USERS, dash_call, served, served_dagster, sign_in

from cockpit import dagster_api
from cockpit.app import create_app
from cockpit.auth import add_user
from warehouse import settings
from warehouse.ops.store import OpsStore
from warehouse.storage.failpoints import fault_file, hold_file
from warehouse.storage.home import Home

PLANTED = "quality__consistency_findings"  # a step of the daily refresh
OTHERS = ("boss", "xihu", "police", "aud", "root")


@pytest.fixture(scope="module")
def dagster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Dagster served with its daemon; yields its data directory (where faults are planted)."""
    root = tmp_path_factory.mktemp("console")
    with served_dagster(root, daemon=True) as (sock, _):
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("CITYBRAIN_DAGSTER_URL", raising=False)
            mp.setenv("CITYBRAIN_DAGSTER_SOCKET", str(sock))
            yield root / "home"


@pytest.fixture(scope="module")
def home(dagster: Path) -> Path:
    """The platform's data directory, shared by Dagster and the cockpit as under scripts/up;
    the cockpit needs only its users there (the runs page reads no snapshot)."""
    h = dagster
    store = OpsStore(h)
    for name, (role, scope) in USERS.items():
        add_user(store, name, PASSWORD, role, scope)
    return h


@pytest.fixture(scope="module")
def app(home: Path):
    return create_app(Home.resolve(home))


def _client(app, user: str):
    c = app.server.test_client()
    assert sign_in(c, user).status_code == 302
    return c


def _act(client, app, button: str, *, first=None, last=None, run=None, instigator=None, backfill=None, at=None):
    """The action ``button`` confirmed, posted as the page does once the analyst clicks Confirm
    (or as a forger would, straight to the server)."""
    return dash_call(client, app, "ru-result.children", [1], [{"button": button}, first, last, run, instigator, backfill, at])


def _said(response) -> tuple[str, str | None]:
    out = json.loads(response.get_data(as_text=True))["response"]
    return out["ru-result"]["children"], out.get("ru-chosen", {}).get("data")


def _finished(run_id: str) -> dagster_api.RunDetail:
    deadline = time.monotonic() + 180
    while (run := dagster_api.run_detail(run_id)).run.status not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"run {run_id} did not finish: {run.run.status}"
        time.sleep(1)
    return run


def _detail(client, app, run_id: str) -> str:
    out = json.loads(dash_call(client, app, "ru-detail.children", [run_id, None, None], [None]).get_data(as_text=True))["response"]
    return json.dumps(out["ru-detail"]["children"], ensure_ascii=False)


def _plant(root: Path) -> Path:
    """Plant a fault at the step PLANTED; the file to remove once it is 'fixed'."""
    fault = fault_file(root, PLANTED)
    fault.parent.mkdir(parents=True, exist_ok=True)
    fault.touch()
    return fault


def _console_log(home: Path) -> list[tuple[str, str]]:
    actions = {"run_launch", "run_reexecute", "run_cancel", "backfill_launch", "backfill_cancel", "instigator_on", "instigator_off",
               "schedule_time"}
    return [(e["username"], e["action"]) for e in OpsStore(home).access_log(limit=500) if e["action"] in actions]


def test_an_analyst_reads_why_a_run_failed_and_reexecutes_it_from_the_failure(app, home: Path, dagster: Path) -> None:
    ana = _client(app, "ana")
    fault = _plant(dagster)
    said, run_id = _said(_act(ana, app, "ru-refresh"))
    assert "已提交刷新" in said and run_id
    failed = _finished(run_id)
    assert failed.run.status == "FAILURE" and [s.key for s in failed.steps if s.status == "FAILURE"] == [PLANTED]
    shown = _detail(ana, app, run_id)
    # The failed step by its name, the reason in plain words, the traceback behind a toggle; who launched it.
    assert "失败环节：跨部门一致性核查" in shown and "原因：测试用的故障点使该环节停止" in shown
    assert '"type": "Details"' in shown and "Traceback" not in shown.split('"Details"')[0] and "发起人 ana" in shown
    assert PLANTED not in shown.replace(json.dumps(failed.failures[0].traceback, ensure_ascii=False)[1:-1], "")

    # Nobody else may re-execute or cancel it, whatever they post.
    def launched() -> list[str]:  # every run but the daemon's automatic retries of the failed one
        return [r.run_id for r in dagster_api.recent_runs(100) if "dagster/retry_number" not in r.tags]

    runs_before = launched()
    for user in OTHERS:
        other = _client(app, user)
        for confirm in ("ru-from-failure", "ru-all-steps", "ru-cancel", "ru-refresh"):
            assert _act(other, app, confirm, run=run_id).status_code == 204
    assert dagster_api.run_detail(run_id).run.status == "FAILURE" and launched() == runs_before

    fault.unlink()  # the fault is fixed
    said, again = _said(_act(ana, app, "ru-from-failure", run=run_id))
    assert "已重新执行" in said and again and again != run_id
    done = _finished(again)
    assert done.run.status == "SUCCESS" and done.parent_run_id == run_id
    assert {s.key for s in done.steps} == {PLANTED, "marts__dirty_days"}  # only the failed step and what follows it
    shown = _detail(ana, app, again)
    assert "每日刷新：成功" in shown and '"value": "2"' in shown and '"max": "2"' in shown and "2/2 个环节完成" in shown
    # The runs list says who launched them, from the audit log, not a tag.
    table = json.loads(dash_call(ana, app, "ru-table.rowData", [None, None], [None]).get_data(as_text=True))["response"]["ru-table"]["rowData"]
    by_id = {r["run_id"]: r["launched_by"] for r in table}
    assert by_id[run_id[:8]] == by_id[again[:8]] == "ana"
    assert [a for a in _console_log(home) if a[1] in ("run_launch", "run_reexecute")] == [("ana", "run_reexecute"), ("ana", "run_launch")]


def test_an_analyst_cancels_a_run(app, home: Path, dagster: Path) -> None:
    ana = _client(app, "ana")
    _, run_id = _said(_act(ana, app, "ru-refresh"))
    said, _ = _said(_act(ana, app, "ru-cancel", run=run_id))
    assert "已请求取消" in said
    assert _finished(run_id).run.status == "CANCELED"
    assert ("ana", "run_cancel") in _console_log(home)


def test_freshness_per_feed_and_stage_as_dagster_judges_it(app, home: Path, dagster: Path) -> None:
    """After the refreshes above: every feed by name, then the libraries, indicators, forecasts
    and publishing, each with its stalest part's last materialization (as the instance records
    it) and Dagster's verdict against the daily freshness policy in words."""
    import os

    import dagster as dg

    from cockpit import console
    from warehouse.contract import labels
    from warehouse.contract.feeds import FEEDS

    ana = _client(app, "ana")
    out = json.loads(dash_call(ana, app, "ru-freshness.rowData", [None]).get_data(as_text=True))["response"]
    rows = out["ru-freshness"]["rowData"]
    stages = [r["stage"] for r in rows]
    feeds = {labels.name("feed", f.id, "zh") for f in FEEDS}
    assert set(stages[:len(FEEDS)]) == feeds and stages[len(FEEDS):] == ["专题库", "指标与预警", "预测", "发布到驾驶舱"]
    verdicts = {zh for zh, _ in labels.names("freshness").values()}
    assert all(r["verdict"] in verdicts for r in rows), rows  # every stage is under the daily policy, in words
    by_stage = {r["stage"]: r for r in rows}
    libraries = [a.key for a in dagster_api.freshness() if a.group == "libraries"]
    os.environ["DAGSTER_HOME"] = str(dagster.parent / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            latest = [instance.get_latest_materialization_event(dg.AssetKey(list(k))) for k in libraries]
    finally:
        os.environ.pop("DAGSTER_HOME")
    assert all(latest) and by_stage["专题库"]["last_materialized"] == console.when(min(e.timestamp for e in latest))
    assert all(by_stage[f]["last_materialized"] != "从未" for f in feeds)  # the daily refresh ingested every feed
    assert _dash_forged_freshness(app) == [204] * len(OTHERS)


def _dash_forged_freshness(app) -> list[int]:
    return [dash_call(_client(app, u), app, "ru-freshness.rowData", [None]).status_code for u in OTHERS]


def _instigators(client, app) -> dict[str, dict]:
    out = json.loads(dash_call(client, app, "ru-instigators.rowData", [None, None], [None]).get_data(as_text=True))["response"]
    return {r["instigator"]: r for r in out["ru-instigators"]["rowData"]}


def test_an_analyst_turns_the_schedule_off_and_on_and_nobody_else_can(app, home: Path, dagster: Path) -> None:
    ana = _client(app, "ana")
    daily = "每日刷新（报送截止后）"
    shown = _instigators(ana, app)
    assert shown[daily]["when"] == "每天 06:30（北京时间）" and shown[daily]["switch"] == "开启" and shown[daily]["next_tick"]
    assert shown["落地区传感器"]["when"] == "每 5 秒检查一次"
    for user in OTHERS:
        assert _act(_client(app, user), app, "ru-off", instigator="schedule:daily_after_deadline").status_code == 204
    assert _instigators(ana, app)[daily]["switch"] == "开启"
    assert "已关闭" in _said(_act(ana, app, "ru-off", instigator="schedule:daily_after_deadline"))[0]
    off = _instigators(ana, app)[daily]
    assert off["switch"] == "关闭" and off["next_tick"] == ""
    assert "已开启" in _said(_act(ana, app, "ru-on", instigator="schedule:daily_after_deadline"))[0]
    assert _instigators(ana, app)[daily]["next_tick"] == shown[daily]["next_tick"]

    # Its time moves, kept in the platform's settings, which Dagster reads when it loads the pipelines.
    before = dt.datetime.fromisoformat(shown[daily]["next_tick"])
    for user in OTHERS:
        assert _act(_client(app, user), app, "ru-time-set", at="07:45").status_code == 204
    assert "请按“时:分”填写时间" in _said(_act(ana, app, "ru-time-set", at="25:99"))[0]
    assert settings.saved(home)["daily_refresh_at"] == "06:30"
    assert "每日刷新改为每天 07:45" in _said(_act(ana, app, "ru-time-set", at="07:45"))[0]
    moved = _instigators(ana, app)[daily]
    assert moved["when"] == "每天 07:45（北京时间）" and moved["switch"] == "开启"
    assert (dt.datetime.fromisoformat(moved["next_tick"]) - before) % dt.timedelta(days=1) == dt.timedelta(minutes=75)
    assert settings.saved(home)["daily_refresh_at"] == "07:45" and settings.daily_cron(home) == "45 7 * * *"
    log = _console_log(home)
    assert {("ana", "instigator_off"), ("ana", "instigator_on"), ("ana", "schedule_time")} <= set(log)
    assert not [u for u, _ in log if u != "ana"]


def test_an_analyst_previews_launches_and_cancels_a_backfill(app, home: Path, dagster: Path) -> None:
    ana = _client(app, "ana")
    out = json.loads(dash_call(ana, app, "ru-preview.children", ["2026-11-03", "2026-11-01"]).get_data(as_text=True))["response"]
    assert "2026-11-01 至 2026-11-03 共 3 天" in out["ru-preview"]["children"]
    # Asked for, it is put to the analyst in the page, the preview as the question; nothing launched yet.
    asked = json.loads(dash_call(ana, app, "ru-modal-text.children", [None, 1, *[None] * 7], ["2026-11-03", "2026-11-01"],
                                 changed="ru-backfill.n_clicks").get_data(as_text=True))["response"]
    assert asked["ru-pending"]["data"] == {"button": "ru-backfill"} and dagster_api.backfills() == []
    assert asked["ru-modal-text"]["children"].startswith("将重算 2026-11-01 至 2026-11-03") and asked["ru-modal-text"]["children"].endswith("确定开始？")
    for user in OTHERS:
        assert _act(_client(app, user), app, "ru-backfill", first="2026-11-01", last="2026-11-03").status_code == 204
    assert dagster_api.backfills() == []
    said, _ = _said(_act(ana, app, "ru-backfill", first="2026-11-01", last="2026-11-03"))
    [backfill] = dagster_api.backfills()
    assert backfill.backfill_id in said and backfill.targeted == 3
    for user in OTHERS:
        assert _act(_client(app, user), app, "ru-bf-cancel", backfill=backfill.backfill_id).status_code == 204
    assert dagster_api.backfills()[0].status == "REQUESTED"
    assert "已请求取消补算" in _said(_act(ana, app, "ru-bf-cancel", backfill=backfill.backfill_id))[0]
    assert dagster_api.backfills()[0].status in ("CANCELING", "CANCELED")
    table = json.loads(dash_call(ana, app, "ru-backfills.rowData", [None, None], [None]).get_data(as_text=True))["response"]["ru-backfills"]["rowData"]
    assert table[0]["launched_by"] == "ana" and "3 天" in table[0]["progress"]
    assert {("ana", "backfill_launch"), ("ana", "backfill_cancel")} <= set(_console_log(home))


def test_each_console_action_is_logged_as_one_named_audit_action() -> None:
    """The console's buttons map onto the label registry's console actions, each once; those
    that start something are among them (the console shows who launched what from them)."""
    from cockpit import console
    from warehouse.contract import labels

    assert sorted(console.ACTIONS.values()) == sorted(labels.CONSOLE_ACTIONS)
    assert set(labels.LAUNCH_ACTIONS) < set(labels.CONSOLE_ACTIONS) <= set(labels.ACTIONS)


def test_the_landing_sensors_last_tick_names_the_feeds_it_found() -> None:
    from flask import Flask

    from cockpit.console import tick_outcome

    run = dagster_api.Run("r1", "daily_refresh", "SUCCESS", 1.0, 2.0, {"citybrain/feeds": "psb/household_events,health/death_records"})
    tick = dagster_api.Tick(1.0, "SUCCESS", ["r1"], "")
    with Flask(__name__).test_request_context():
        assert tick_outcome(tick, {"r1": run}) == "发起 1 次运行：发现户籍变动、死亡医学证明的新报送"
    with Flask(__name__).test_request_context(headers={"Cookie": "cb_lang=en"}):
        said = tick_outcome(tick, {"r1": run})
    assert said.startswith("1 run requested: new deliveries of ") and "household_events" not in said
    with Flask(__name__).test_request_context(headers={"Cookie": "cb_lang=en"}):
        assert tick_outcome(dagster_api.Tick(1.0, "SUCCESS", ["r1", "r2"], ""), {}) == "2 runs requested"


# ---------------------------------------------------------------- in a browser
@pytest.fixture(scope="module")
def console_url(app) -> Iterator[str]:
    """The cockpit served for real over the platform's data directory, beside the Dagster above."""
    with served(app.server) as url:
        yield url


@pytest.mark.browser
def test_an_analyst_uses_the_console_in_a_browser(browser, console_url: str, dagster: Path, app) -> None:
    """As an analyst in Chromium, each action confirmed in the page: the schedule
    off and on and its time moved (the next tick moves); a run failing at a planted step, why,
    the traceback behind its toggle, re-executed from the failure to success; a backfill held
    in progress at its indicators step, cancelled from the page."""
    s = Session(browser, console_url, "ana")
    page = s.page
    asked: list[str] = []

    def confirmed(button: str) -> None:
        """Click ``button``, read the question the page puts, and confirm it."""
        page.click(button)
        expect(page.get_by_role("dialog")).to_be_visible()
        asked.append(page.inner_text("#ru-modal-text"))
        page.click("#ru-yes")
        expect(page.get_by_role("dialog")).to_be_hidden(timeout=60_000)
    s.open("/runs")
    expect(page.locator("#ru-status")).to_contain_text("调度服务在线", timeout=20_000)

    daily = page.locator("#ru-instigators .ag-row", has_text="每日刷新（报送截止后）")
    expect(daily).to_contain_text("开启")
    s.choose("#ru-instigator", "每日刷新（报送截止后）")
    confirmed("#ru-off")
    expect(page.locator("#ru-result")).to_contain_text("已关闭")
    expect(daily.locator(".ag-cell[col-id=switch]")).to_have_text("关闭")
    confirmed("#ru-on")
    expect(page.locator("#ru-result")).to_contain_text("已开启")
    expect(daily.locator(".ag-cell[col-id=switch]")).to_have_text("开启")
    expect(daily.locator(".ag-cell[col-id=next_tick]")).not_to_have_text("")
    before = daily.locator(".ag-cell[col-id=next_tick]").inner_text()
    page.fill("#ru-time", "08:15")
    page.press("#ru-time", "Enter")
    confirmed("#ru-time-set")
    expect(page.locator("#ru-result")).to_contain_text("每日刷新改为每天 08:15", timeout=60_000)  # after Dagster reloads the pipelines
    expect(daily).to_contain_text("每天 08:15（北京时间）", timeout=20_000)
    expect(daily.locator(".ag-cell[col-id=next_tick]")).not_to_have_text(before)

    s.open("/runs")
    fault = _plant(dagster)
    confirmed("#ru-refresh")
    expect(page.locator("#ru-result")).to_contain_text("已提交刷新")
    expect(page.locator("#ru-failed-step")).to_contain_text("跨部门一致性核查", timeout=120_000)
    expect(page.locator("#ru-why")).to_contain_text("测试用的故障点使该环节停止")
    traceback = page.locator("#ru-detail pre.traceback")
    expect(traceback).to_be_hidden()
    page.click("#ru-detail summary")
    expect(traceback).to_be_visible()
    fault.unlink()
    confirmed("#ru-from-failure")
    expect(page.locator("#ru-result")).to_contain_text("已重新执行")
    expect(page.locator("#ru-summary")).to_contain_text("每日刷新：成功", timeout=120_000)
    expect(page.locator("#ru-summary")).to_contain_text("发起人 ana")

    # A backfill in progress (held at its indicators step), cancelled from the page.
    hold = hold_file(dagster, "marts__indicator_values")
    hold.parent.mkdir(parents=True, exist_ok=True)
    hold.touch()
    try:
        said, _ = _said(_act(_client(app, "ana"), app, "ru-backfill", first="2026-10-01", last="2026-10-02"))
        backfill = next(b for b in dagster_api.backfills() if b.backfill_id in said)
        s.open("/runs")
        row = page.locator("#ru-backfills .ag-row", has_text=backfill.backfill_id)
        expect(row).to_contain_text("进行中", timeout=20_000)
        s.choose("#ru-bf", f"{backfill.backfill_id} · 进行中")
        confirmed("#ru-bf-cancel")
        expect(page.locator("#ru-result")).to_contain_text("已请求取消补算")
        expect(row).to_contain_text(re.compile("取消中|已取消"), timeout=20_000)
    finally:
        hold.unlink()
    assert asked == ["确定关闭？关闭后不再自动运行。", "确定开启？", "确定修改每日刷新的时间？从下一次起按新时间运行。",
                               "确定立即运行每日刷新？", "确定从失败的环节起重新执行？",
                               "确定取消该补算？未开始的日期不再计算，进行中的运行将被取消。"]
    assert not s.problems, s.problems
    s.close()
