"""Screenshots of each role's first page, for docs/screenshots/ (run after a refresh).

    .venv/bin/python scripts/screenshots.py --home citybrain_home [--out docs/screenshots]

Serves the data directory's current snapshot with a scratch operational store (the real
users and audit log are not touched), signs in as one user per role in Debian's headless
chromium and saves ``<role>.png`` (the citizen's ``my_data.png``; plus the city manager's overview in English and in the
dark big-screen mode on a 1920×1080 wall screen, a district manager's and a city manager's
overview on a phone, the citizens' requests page as a district manager, a steward in English,
a city manager on a phone and the steward of a department that only handles requests, a
citizen's page in both languages after the police steward has read one of that citizen's
rejected rows through the ingestion page, and in both languages the sign-in page, the alerts
page, the explorer comparing three districts with the city and the steward's page; a past
day's historical view, with the oldest day the serving folder keeps; the drill-down to an
indicator's sources in both languages; the auditor's search of the log by that citizen's
identity number, in both languages). For data sharing (docs/sharing.md), on a demo of requests
made through the operational store (one answered past its due time, one refused, grants active
and approved, calls made with a key about that citizen): in both languages the catalog and the
population library's persons entry with its lineage as a civil-affairs officer sees them, the
police steward's request queue (the overdue request chosen), and the officer's requests and grants
with an approved grant activated there and its key shown once; the catalog on a phone, the
request queue on the 1920×1080 wall screen in big-screen mode, and how departments share as the
city manager sees it. ``--only NAME ...`` retakes just those.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from dash_client import BENCH_USERS, PASSWORD, scratch_home, start_cockpit  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from warehouse.settings import settings  # noqa: E402

PERSONS = "library/population/persons"
CERTIFICATES = "library/e_certificate/certificate_state"
# Stands for the oldest day with a snapshot (a shot needing it is skipped when there is no other day).
PAST_DAY = "{past_day}"
# (file name, user, cookies, viewport, page: None for the role's first page)
SHOTS = [(role, user, {}, (1440, 1000), None) for user, (role, _) in BENCH_USERS.items()] + [
    ("city_manager_en", "boss", {"cb_lang": "en"}, (1440, 1000), None),
    ("city_manager_big_screen", "boss", {"cb_theme": "dark"}, (1920, 1080), None),
    ("district_manager_phone", "xihu", {}, (390, 844), None),
    ("city_manager_phone", "boss", {}, (390, 844), None),
    ("service_district_manager", "xihu", {}, (1440, 1000), "/service"),
    ("service_steward_en", "police", {"cb_lang": "en"}, (1440, 1000), "/service"),
    ("service_city_manager_phone", "boss", {}, (390, 844), "/service"),
    ("service_handler_steward", "roads", {}, (1440, 1000), None),
    ("my_data", "resident", {}, (1440, 1000), None),
    ("my_data_en_phone", "resident", {"cb_lang": "en"}, (390, 844), None),
    ("login", None, {}, (1440, 700), "/login"),
    ("login_en", None, {"cb_lang": "en"}, (1440, 700), "/login"),
    ("alerts_city_manager", "boss", {}, (1440, 1000), "/alerts"),
    ("alerts_city_manager_en", "boss", {"cb_lang": "en"}, (1440, 1000), "/alerts"),
    ("explorer_analyst", "ana", {}, (1440, 1000), "/explorer"),
    ("explorer_analyst_en", "ana", {"cb_lang": "en"}, (1440, 1000), "/explorer"),
    ("ingestion_steward", "police", {}, (1440, 1000), "/ingestion"),
    ("ingestion_steward_en", "police", {"cb_lang": "en"}, (1440, 1000), "/ingestion"),
    ("ingestion_auditor_en", "aud", {"cb_lang": "en"}, (1440, 1000), "/ingestion"),
    ("admin_en", "root", {"cb_lang": "en"}, (1440, 1000), None),
    ("past_day_city_manager", "boss", {"cb_day": PAST_DAY}, (1440, 1000), None),
    ("trace_city_manager", "boss", {}, (1440, 1000), "/trace?area=330100&indicator=cert.usage"),
    ("trace_district_manager_en", "xihu", {"cb_lang": "en"}, (1440, 1000), "/trace?area=330106&indicator=svc.requests"),
    ("audit_auditor", "aud", {}, (1440, 1000), "/audit"),
    ("audit_auditor_en", "aud", {"cb_lang": "en"}, (1440, 1000), "/audit"),
    # Data sharing: the catalog, an entry, the steward's queue, the officer's grants (docs/sharing.md).
    ("catalog_officer", "clerk", {}, (1440, 1000), "/catalog"),
    ("catalog_officer_en", "clerk", {"cb_lang": "en"}, (1440, 1000), "/catalog"),
    ("catalog_officer_phone", "clerk", {}, (390, 844), "/catalog"),
    ("catalog_entry_officer", "clerk", {}, (1440, 1000), f"/catalog?entry={PERSONS}"),
    ("catalog_entry_officer_en", "clerk", {"cb_lang": "en"}, (1440, 1000), f"/catalog?entry={PERSONS}"),
    ("requests_steward", "police", {}, (1440, 1000), "/requests"),
    ("requests_steward_en", "police", {"cb_lang": "en"}, (1440, 1000), "/requests"),
    ("requests_steward_big_screen", "police", {"cb_theme": "dark"}, (1920, 1080), "/requests"),
    ("requests_officer", "clerk", {}, (1440, 1000), "/requests"),
    ("requests_officer_en", "clerk", {"cb_lang": "en"}, (1440, 1000), "/requests"),
    ("requests_city_manager", "boss", {}, (1440, 1000), "/requests"),
]
# What is done on a page before its picture is taken (after CHOICES): a function of the page and the
# citizen's identity number.
def _search_log(page, resident: str) -> None:
    page.fill("#au-id", resident)
    page.press("#au-id", "Enter")
    page.wait_for_selector("#au-table .ag-row")


def _choose_row(grid: str, *texts: str):
    def choose(page, _resident: str) -> None:
        row = page.locator(f"{grid} .ag-center-cols-container .ag-row")
        for text in texts:
            row = row.filter(has_text=text)
        row.first.click()
        page.wait_for_load_state("networkidle")

    return choose


def _activate(entry: str, approved: str):
    """Choose the approved grant of ``entry`` and take its key: the key shown once."""
    def activate(page, resident: str) -> None:
        _choose_row("#rq-mine", entry, approved)(page, resident)
        page.click("#rq-issue")
        page.wait_for_selector("#rq-key")

    return activate


ACTIONS = {
    "audit_auditor": _search_log, "audit_auditor_en": _search_log,
    "requests_steward": _choose_row("#rq-queue"), "requests_steward_en": _choose_row("#rq-queue"),
    "requests_steward_big_screen": _choose_row("#rq-queue"),
    "requests_officer": _activate("人口库 · 人员", "已批准"),
    "requests_officer_en": _activate("E-certificate library · Certificate state", "Approved"),
}
# What is chosen on a page before its picture is taken: (dropdown, option in the shot's language).
CHOICES = {
    "explorer_analyst": [("#ex-ind", "网上及移动端用证占比"), ("#ex-dist", "西湖区"), ("#ex-dist", "上城区"), ("#ex-dist", "拱墅区")],
    "explorer_analyst_en": [("#ex-ind", "Online and mobile share of uses"), ("#ex-dist", "Xihu"), ("#ex-dist", "Shangcheng"),
                            ("#ex-dist", "Gongshu")],
}


def _steward_reads_a_citizens_row(root: Path, url: str, browser) -> str:
    """The demo behind the citizen's page: a citizen named in the police's rejected rows, and the
    police steward viewing that delivery through the page (purpose and legal basis given).
    Returns the citizen's identity number."""
    import duckdb
    from stdnum.cn import ric

    from cockpit.auth import add_user
    from cockpit.roles import roles_that
    from warehouse.ops.store import OpsStore

    snapshot = root / "serving" / (root / "serving" / "CURRENT").read_text().strip()
    con = duckdb.connect(str(snapshot), read_only=True)
    rows = con.execute("""SELECT delivery_id, i FROM (SELECT delivery_id, CASE WHEN json_valid(raw) THEN json_extract_string(raw, '$.id_number') END AS i
                          FROM rejected_rows WHERE department = 'psb') WHERE regexp_full_match(i, '[0-9]{17}[0-9X]') ORDER BY ALL""").fetchall()
    con.close()
    delivery, id_number = next((d, i) for d, i in rows if ric.is_valid(i))
    store = OpsStore(root)
    # The roles these users play, by what they may do: the person's own data use; a
    # department's rejected rows (here a department that only handles requests).
    add_user(store, "resident", PASSWORD, roles_that("see_own_data_use")[0], None, id_number)
    add_user(store, "roads", PASSWORD, roles_that("see_rejected_rows")[0], "urban")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "police")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#in-delivery")
    page.fill("#in-delivery", str(delivery))
    page.fill("#in-purpose", "核对户籍信息后退回区分局更正")
    page.click("#in-basis")
    page.get_by_role("option", name="更正不准确的数据（《个人信息保护法》第四十六条）", exact=True).click()
    page.click("#in-view")
    page.wait_for_selector("#in-rows-table")
    context.close()
    return id_number


def _sharing_demo(root: Path, url: str, resident: str) -> None:
    """The data requests behind the sharing shots, made through the operational store as the
    requests page makes them, at times in the past working days: officers of civil affairs
    (``clerk``), human resources and social security (``hr``) and market regulation (``reg``);
    the bureau's and market regulation's stewards. The police's queue holds one request overdue
    and two within their time; civil affairs has a draft, a refusal and two approved grants (the
    officer's shots activate one each); human resources' grant of the persons entry is active and
    its key has answered calls about ``resident`` (their page and the auditor's search show them)."""
    import requests

    from cockpit.auth import add_user
    from cockpit.roles import roles_that
    from warehouse.ops.store import OpsStore

    officer, steward = roles_that("request_data")[0], roles_that("answer_requests")[0]
    store = OpsStore(root)
    for name, role, dept in (("clerk", officer, "civil"), ("hr", officer, "hrss"), ("reg", officer, "samr"),
                             ("bureau", steward, "dsb"), ("market", steward, "samr")):
        add_user(store, name, PASSWORD, role, dept)
    today = dt.datetime.now().replace(second=0, microsecond=0)

    def ago(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return (today - dt.timedelta(days=days)).replace(hour=hour, minute=minute)

    def request(entry: str, owner: str, dept: str, who: str, items: list[str], purpose: str, scenario: str, basis: str,
                days: int, submitted: dt.datetime | None, answer: tuple | None = None) -> int:
        rid = store.add_share_request(entry_code=entry, owner=owner, sharing_class="conditional", items=items, department=dept,
                                      requester=who, purpose=purpose, scenario=scenario, legal_basis=basis, days=days,
                                      submit=False, role=officer)
        if submitted is not None:
            store.add_share_step(rid, "submit", actor=who, role=officer, scope=dept, now=submitted)
        if answer is not None:
            step, by, at, reason = answer
            store.add_share_step(rid, step, actor=by, role=steward, scope=owner, reason=reason, now=at)
        return rid

    # Human resources: a grant of persons in use, and a request the police left unanswered past its due time.
    pension = request(PERSONS, "psb", "hrss", "hr", ["status", "district_code"], "核验养老金领取人员是否健在、户籍是否迁出",
                      "养老保险待遇资格认证", "《社会保险法》第十六条；《社会保险经办条例》第二十九条", 180, ago(28, 9, 40),
                      ("approve", "police", ago(26, 15, 10), ""))
    key = store.issue_key(pension, actor="hr", role=officer, scope="hrss")
    for case in ("RS-2026-104512", "RS-2026-104877"):
        answered = requests.post(f"{url}/api/v1/persons/status", json={"id_number": resident}, timeout=30,
                                 headers={"Authorization": f"Bearer {key}", "X-Officer-Id": "hr", "X-Case-No": case})
        answered.raise_for_status()
    request("feed/psb/household_events", "psb", "hrss", "hr", ["id_number", "event_type", "event_date"],
            "死亡、迁出人员停发社会保险待遇", "社保待遇停发核查", "《社会保险法》第十六条", 366, ago(14, 10, 5))
    # Market regulation, within its time; civil affairs, today.
    request(PERSONS, "psb", "samr", "reg", ["status"], "核验个体工商户经营者户籍状态", "个体工商户登记", "《促进个体工商户发展条例》第十条",
            90, ago(3, 15, 20))
    request("feed/psb/household_events", "psb", "civil", "clerk", ["id_number", "event_type", "event_date", "district_code"],
            "婚姻登记前核验当事人户籍迁移", "婚姻登记窗口", "《婚姻登记条例》第七条", 30, ago(0, 9, 10))
    # Civil affairs: refused, approved twice (activated in the officer's shots), a draft.
    request("library/population/person_history", "psb", "civil", "clerk", ["id_number", "status", "valid_from", "valid_to"],
            "核验当事人历史婚姻登记地", "婚姻登记窗口", "《婚姻登记条例》第七条", 90, ago(21, 11, 0),
            ("refuse", "police", ago(19, 16, 30), "历史版本含注销人员的全部变更，超出婚姻登记所需；请申请“人口库 · 人员”的户籍状态"))
    request(PERSONS, "psb", "civil", "clerk", ["status", "district_code"], "核验结婚登记当事人户籍状态", "婚姻登记窗口",
            "《婚姻登记条例》第七条", 180, ago(6, 9, 30), ("approve", "police", ago(4, 16, 5), ""))
    request(CERTIFICATES, "dsb", "civil", "clerk", ["lifecycle", "certificate_type", "valid_to"], "核验离婚证、结婚证是否有效",
            "补领婚姻登记证", "《婚姻登记条例》第十七条", 90, ago(5, 10, 45), ("approve", "bureau", ago(3, 11, 20), ""))
    request("feed/health/death_records", "health", "civil", "clerk", ["id_number", "death_date"], "丧偶当事人再婚登记核验",
            "婚姻登记窗口", "《婚姻登记条例》第七条", 90, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=settings().home)
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--only", nargs="+", metavar="NAME", help="retake only these (file names without .png)")
    args = ap.parse_args()
    shots = [shot for shot in SHOTS if not args.only or shot[0] in args.only]
    chromium = subprocess.run(["scripts/browser"], check=True, capture_output=True, text=True).stdout.strip()
    from warehouse.serving.publish import list_snapshots

    days = sorted({snap.day for snap in list_snapshots(args.home / "serving")})
    past = str(days[0]) if len(days) > 1 else None
    shots = [(name, user, {k: (past if v == PAST_DAY else v) for k, v in cookies.items()}, size, path)
             for name, user, cookies, size, path in shots if past or PAST_DAY not in cookies.values()]
    root = scratch_home(args.home)
    # The data directory's hashing key, so that the interfaces find people in the snapshot's lookups.
    shutil.copy(args.home / "audit.key", root / "audit.key")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_cockpit(root, port, 1, 4)
    url = f"http://127.0.0.1:{port}"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless", "--disable-gpu"])
            resident = _steward_reads_a_citizens_row(root, url, browser)
            _sharing_demo(root, url, resident)
            for name, user, cookies, (width, height), path in shots:
                context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
                context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
                page = context.new_page()
                page.goto(f"{url}/login")
                if user is None:  # the sign-in page itself
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
                    print(f"{args.out / name}.png", flush=True)
                    context.close()
                    continue
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                if path:
                    page.goto(f"{url}{path}")
                    page.wait_for_load_state("networkidle")
                page.wait_for_selector("#_pages_content > *")
                for dropdown, option in CHOICES.get(name, []):
                    page.click(dropdown)
                    page.get_by_role("option", name=option, exact=True).click()
                    page.keyboard.press("Escape")
                    page.wait_for_load_state("networkidle")
                if name in ACTIONS:
                    ACTIONS[name](page, resident)
                page.wait_for_timeout(2500)  # let the figures (and the maps' boundaries) draw
                page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
                print(f"{args.out / name}.png", flush=True)
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
