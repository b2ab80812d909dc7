"""Drafts, the review queue and the first page in a real browser (issue 12).

The demo's PIO (3003) and reviewer (4004): what waits for each on the first page; finding
drafts by text and by author; the review queue on a phone (390 px); what changed between two
submissions; the draft page after publication, with its working link; withdrawing a draft.
Screenshots are kept as ``drafts-*.png``.
"""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow

FIXED = "A man has been charged with robbing the corner shop and will appear in court on Monday."


def test_my_work_the_lists_the_changes_and_withdrawing(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service

    # The first page: what waits for each member. The charts moved to /dashboard.
    reviewer = signed_in(browser, base, "4004")
    expect(reviewer.locator("h1")).to_have_text("My work")
    waiting = reviewer.locator("#to-review")
    expect(waiting).to_contain_text("D-00002")
    expect(waiting.locator(".time-left").first).to_have_text(re.compile(r"\(\d+ (d|h) .*left\)"))
    expect(waiting).to_contain_text("Constable Pat Lee")
    shot(reviewer, "drafts-01-my-work-reviewer")
    reviewer.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(reviewer.locator("#findings-caption")).to_contain_text("Findings by clause")

    pio = signed_in(browser, base, "3003")
    expect(pio.locator("#expiring")).to_contain_text("confidential-release")
    expect(pio.locator("#expiring .time-left")).to_contain_text("left")
    expect(pio.locator("#returned")).to_contain_text("No draft of yours has been returned")
    shot(pio, "drafts-02-my-work-pio")

    # Finding drafts: by text, then by author; people by rank and name, dates shown.
    pio.goto("/drafts")
    pio.get_by_label("Text or id").fill("harbour road")
    pio.get_by_role("button", name="Find").click()
    rows = pio.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("D-00001")
    expect(rows.first).to_contain_text("Constable Pat Lee")
    expect(rows.first.locator(".date")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(pio.get_by_label("Text or id")).to_have_value("harbour road")  # the filter is kept
    pio.get_by_label("Text or id").fill("")
    pio.get_by_label("Author").select_option(label="Sergeant Rhys Okafor")
    pio.get_by_role("button", name="Find").click()
    expect(pio.locator("main")).to_contain_text("No drafts here")
    shot(pio, "drafts-03-find")

    # The review queue on a phone: filterable, no sideways scroll.
    phone = signed_in(browser, base, "4004", viewport={"width": 390, "height": 844})
    phone.goto("/review")
    expect(phone.get_by_role("link", name="D-00002")).to_be_visible()
    phone.get_by_label("Text or id").fill("thug")
    phone.get_by_label("Text or id").press("Enter")
    expect(phone.get_by_role("link", name="D-00002")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "drafts-04-review-queue-390")
    for path in ("/", "/drafts", "/drafts/D-00002"):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"

    # The reviewer returns it; the PIO sees it on her first page, fixes it, and sees what changed.
    reviewer.goto("/drafts/D-00002")
    expect(reviewer.locator(".verdict")).to_contain_text("The checker's decision")
    listed = reviewer.locator("#findings-list > li")
    assert listed.count() == len({t.strip() for t in listed.all_inner_texts()})  # each finding once
    assert reviewer.locator("#post-text .tip").count() == 0
    reviewer.get_by_label("Comment for the author").fill("Say what happened, neutrally.")
    reviewer.get_by_role("button", name="Return to author").click()
    expect(reviewer.locator(".notice")).to_contain_text("Returned")
    pio.goto("/")
    expect(pio.locator("#returned")).to_contain_text("D-00002")
    pio.locator("#returned").get_by_role("link", name="D-00002").click()
    pio.get_by_label("Post text").fill(FIXED)
    pio.get_by_role("button", name="Save and check again").click()
    changes = pio.locator("#changes")
    expect(changes).to_contain_text("What changed since submission 1")
    expect(changes.locator("del").first).to_be_visible()
    expect(changes.locator("ins").first).to_be_visible()
    assert "thug" in " ".join(changes.locator("del").all_inner_texts())
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".notice")).to_contain_text("Submitted")
    expect(pio.locator("#changes")).to_contain_text("since submission 1")  # 1 against 2, now
    shot(pio, "drafts-05-changes")

    # The reviewer approves and publishes it: the draft page links to the post.
    reviewer.goto("/drafts/D-00002")
    expect(reviewer.locator(".reviews")).to_contain_text("Sergeant Rhys Okafor")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".notice")).to_contain_text("Approved")
    reviewer.get_by_role("button", name="Publish now").click()
    expect(reviewer.locator("h1 .state")).to_have_text("published")
    link = reviewer.locator("#publication a")
    href = link.get_attribute("href") or ""
    assert href.startswith("http")
    with urllib.request.urlopen(href, timeout=5) as answer:
        assert answer.status == 200
    expect(reviewer.locator("#withdraw")).to_have_count(0)  # published: it stays
    shot(reviewer, "drafts-06-published")

    # The PIO withdraws the other draft: it leaves the lists of work and cannot be submitted.
    pio.goto("/drafts/D-00001")
    pio.get_by_label("Why it is withdrawn (optional)").fill("the road reopened")
    pio.get_by_role("button", name="Withdraw this draft").click()
    expect(pio.locator(".notice")).to_contain_text("Withdrawn")
    expect(pio.locator("h1 .state")).to_have_text("withdrawn")
    expect(pio.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
    shot(pio, "drafts-07-withdrawn")
    pio.goto("/drafts?state=withdrawn")
    expect(pio.locator("tbody tr")).to_have_count(1)
