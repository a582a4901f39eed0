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
indicator's sources in both languages). ``--only NAME ...`` retakes just those.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from dash_client import BENCH_USERS, PASSWORD, scratch_home, start_cockpit  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from warehouse.settings import settings  # noqa: E402

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
]
# What is chosen on a page before its picture is taken: (dropdown, option in the shot's language).
CHOICES = {
    "explorer_analyst": [("#ex-ind", "网上及移动端用证占比"), ("#ex-dist", "西湖区"), ("#ex-dist", "上城区"), ("#ex-dist", "拱墅区")],
    "explorer_analyst_en": [("#ex-ind", "Online and mobile share of uses"), ("#ex-dist", "Xihu"), ("#ex-dist", "Shangcheng"),
                            ("#ex-dist", "Gongshu")],
}


def _steward_reads_a_citizens_row(root: Path, url: str, browser) -> None:
    """The demo behind the citizen's page: a citizen named in the police's rejected rows, and the
    police steward viewing that delivery through the page (purpose and legal basis given)."""
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_cockpit(root, port, 1, 4)
    url = f"http://127.0.0.1:{port}"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless", "--disable-gpu"])
            _steward_reads_a_citizens_row(root, url, browser)
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
