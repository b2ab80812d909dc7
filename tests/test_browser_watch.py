"""The watch's alert and the archive in a real browser (issue 14).

The demo makes a post on its fake Mastodon outside postguard; the watch finds it before the
service starts. The reviewer (4004) sees its alert on the first page, opens it and
acknowledges it with a note; the auditor (5005) finds the post in the archive, flagged as
made outside the workflow. Screenshots: ``watch-*.png``.
"""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow


def test_the_reviewer_sees_the_alert_and_acknowledges_it(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    page = signed_in(browser, base, "4004")
    panel = page.locator("#open-alerts")
    expect(panel).to_contain_text("Open alerts")
    shot(page, "watch-01-first-page-alert")
    panel.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("Posted outside the workflow")
    expect(page.locator("main")).to_contain_text("A.iii")
    shot(page, "watch-02-alert")
    page.get_by_label("What was done about it").fill("Asked the officer to delete it; reminded the unit.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("h1")).to_contain_text("acknowledged")
    expect(page.locator("#acknowledgement")).to_contain_text("reminded the unit")
    shot(page, "watch-03-acknowledged")


def test_the_auditor_finds_the_post_in_the_archive(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    page = signed_in(browser, base, "5005")
    page.goto("/archive")
    expect(page.locator("main")).to_contain_text("outside")
    shot(page, "watch-04-archive")
    page.locator("main table a").first.click()
    expect(page.locator("main")).to_contain_text("Harbour Road robbery")
    shot(page, "watch-05-archived-post")
