"""A signed-in browser tab for the cockpit's browser suites (Playwright, which skips them when absent)."""

from __future__ import annotations

import pytest
from helpers import PASSWORD

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect


class Session:
    """One signed-in browser tab that records every console error, page error and dialog."""

    def __init__(self, browser, url: str, user: str, viewport: tuple[int, int] = (1400, 1000)) -> None:
        self.url = url
        # A browser in Hangzhou asks for Chinese (the sign-in page follows the browser's language).
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True,
                                           locale="zh-CN")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []  # every URL the page asked for, to check none leaves the cockpit
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(f"{url}/login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def _dialog(self, dialog) -> None:
        """Any browser dialog is a problem: the cockpit asks in the page, in the reader's language."""
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def open(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_selector("#_pages_content > *")

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)

    def choose(self, dropdown: str, option: str) -> None:
        self.page.click(dropdown)
        self.page.get_by_role("option", name=option, exact=True).click()
        self.page.keyboard.press("Escape")
        self.settle()

    def assert_clean(self) -> None:
        assert not self.problems, self.problems
        body = self.page.inner_text("body")
        assert "出错了" not in body and "Traceback" not in body and self.page.locator(".error").count() == 0, body[:500]

    def close(self) -> None:
        self.context.close()
