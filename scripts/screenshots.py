"""Screenshots of each role's first page, for docs/screenshots/ (run after a refresh).

    .venv/bin/python scripts/screenshots.py --home citybrain_home [--out docs/screenshots]

Serves the data directory's current snapshot with a scratch operational store (the real
users and audit log are not touched), signs in as one user per role in Debian's headless
chromium and saves ``<role>.png`` (plus the city manager's overview in English and in the
dark big-screen mode, a district manager's overview on a phone, and the citizens' requests
page as a district manager, a steward in English and a city manager on a phone).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from dash_client import BENCH_USERS, PASSWORD, scratch_home, start_cockpit  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# (file name, user, cookies, viewport, page: None for the role's first page)
SHOTS = [(role, user, {}, (1440, 1000), None) for user, (role, _) in BENCH_USERS.items()] + [
    ("city_manager_en", "boss", {"cb_lang": "en"}, (1440, 1000), None),
    ("city_manager_big_screen", "boss", {"cb_theme": "dark"}, (1920, 1080), None),
    ("district_manager_phone", "xihu", {}, (390, 844), None),
    ("service_district_manager", "xihu", {}, (1440, 1000), "/service"),
    ("service_steward_en", "police", {"cb_lang": "en"}, (1440, 1000), "/service"),
    ("service_city_manager_phone", "boss", {}, (390, 844), "/service"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=Path(os.environ.get("CITYBRAIN_HOME", "citybrain_home")))
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = ap.parse_args()
    chromium = subprocess.run(["scripts/browser"], check=True, capture_output=True, text=True).stdout.strip()
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
            for name, user, cookies, (width, height), path in SHOTS:
                context = browser.new_context(viewport={"width": width, "height": height})
                context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
                page = context.new_page()
                page.goto(f"{url}/login")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                if path:
                    page.goto(f"{url}{path}")
                    page.wait_for_load_state("networkidle")
                page.wait_for_selector("#_pages_content > *")
                page.wait_for_timeout(1500)  # let the figures draw
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
