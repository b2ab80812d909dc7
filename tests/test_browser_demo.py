"""The demo in a browser (issue 12): what the demo publishes can be opened at the link it shows.

The reviewer publishes the demo's road-closure draft to the fake Mastodon; the draft's page
links to the post, and the link opens the post's own page there.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow

ROAD = "Harbour Road is closed after a collision"


def test_the_published_link_opens_the_post_on_the_fake_mastodon(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, mastodon = demo_service
    pio = signed_in(browser, base, "3003")
    pio.goto("/drafts/D-00001")
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".notice")).to_contain_text("Submitted")

    reviewer = signed_in(browser, base, "4004")
    reviewer.goto("/drafts/D-00001")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".notice")).to_contain_text("Approved")
    reviewer.get_by_role("button", name="Publish now").click()
    expect(reviewer.locator("h1 .state")).to_have_text("published")
    link = reviewer.locator("#publication a")
    # Status 1 is the post the demo made on the fake Mastodon outside postguard.
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(mastodon)}/@police/\d+$"))
    shot(reviewer, "startup-01-published-link")
    href = link.get_attribute("href")
    assert href is not None

    link.click()
    reviewer.wait_for_url(href)
    expect(reviewer.locator("article")).to_contain_text(ROAD)
    shot(reviewer, "startup-02-post-on-fake-mastodon")
    reviewer.get_by_role("link", name="Everything posted here").click()
    expect(reviewer.locator("ol")).to_contain_text(ROAD)
