"""The web application in a real browser: Playwright driving Debian's Chromium (no browser download).

One post's whole way, as the users take it: the PIO signs in, composes a
violating post and sees it underlined as she types, submits it; the reviewer
returns it with a comment; she fixes it and submits again; the reviewer
approves and publishes it to the demo's fake Mastodon; the Commissioner
issues a written permission; the auditor verifies the trail. A screenshot of
each page is kept under ``test-artifacts/screenshots`` (``POSTGUARD_ARTIFACTS``).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from browser_support import expect, shot, signed_in
from postguard.demo import OUTSIDE_POST

pytestmark = pytest.mark.slow

VIOLATING = "We got our man! The thug who robbed the corner shop on Harbour Road is behind bars."
FIXED = "A 41-year-old man has been charged with robbery and will appear in court on Monday."


def test_a_post_from_draft_to_publication_and_a_permission(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, mastodon = demo_service

    # The PIO composes a violating post: it is underlined as she types.
    pio = signed_in(browser, base, "3003")
    pio.goto("/signin")
    shot(pio, "01-sign-in")
    pio.goto("/compose")
    pio.get_by_label("Official account").select_option(index=1)
    pio.get_by_label("Post text").press_sequentially(VIOLATING[:40], delay=5)
    pio.get_by_label("Post text").fill(VIOLATING)
    marks = pio.locator("#live-preview mark.violation")
    expect(marks.first).to_be_visible(timeout=10_000)
    assert "A.iii.guilt" in {m.get_attribute("data-clause") for m in marks.all()}
    marks.first.hover()
    expect(pio.locator("#live-preview .tip").first).to_be_visible()
    expect(pio.locator("#live-summary")).to_contain_text("finding")
    shot(pio, "02-compose-underlined")
    pio.get_by_role("button", name="Save draft").click()
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    code = pio.locator("h1").inner_text().split()[0]
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".notice")).to_contain_text("Submitted")
    shot(pio, "03-submitted")

    # The reviewer finds it in the queue and returns it with a comment.
    reviewer = signed_in(browser, base, "4004")
    reviewer.goto("/review")
    expect(reviewer.get_by_role("link", name=code)).to_be_visible()
    shot(reviewer, "04-review-queue")
    reviewer.get_by_role("link", name=code).click()
    reviewer.get_by_label("Comment for the author").fill(
        "Say what happened, neutrally: no guilt, no insults."
    )
    reviewer.get_by_role("button", name="Return to author").click()
    expect(reviewer.locator(".notice")).to_contain_text("Returned")
    shot(reviewer, "05-returned")

    # The PIO fixes it: the underlines go, and she submits it again.
    pio.goto(f"/drafts/{code}")
    expect(pio.locator(".reviews")).to_contain_text("neutrally")
    pio.get_by_label("Post text").fill(FIXED)
    expect(pio.locator("#live-summary")).to_contain_text("No findings", timeout=10_000)
    pio.get_by_role("button", name="Save and check again").click()
    expect(pio.locator(".clean")).to_be_visible()
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".notice")).to_contain_text("Submitted")

    # The reviewer approves it and publishes it to the fake Mastodon.
    reviewer.goto(f"/drafts/{code}")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".notice")).to_contain_text("Approved")
    reviewer.get_by_role("button", name="Publish now").click()
    expect(reviewer.locator(".notice")).to_contain_text("Published")
    expect(reviewer.locator("h1 .state")).to_have_text("published")
    shot(reviewer, "06-published")
    with urllib.request.urlopen(f"{mastodon}/api/v1/statuses", timeout=5) as answer:
        statuses = json.load(answer)["statuses"]
    # What postguard published, beside the post the demo made on the platform outside postguard.
    assert [s["content"] for s in statuses if s["content"] != OUTSIDE_POST] == [FIXED]

    # The Commissioner issues a written permission, signed with her key.
    commissioner = signed_in(browser, base, "2002")
    commissioner.goto("/permissions")
    form = commissioner.locator("#issue-permission")
    form.get_by_label("Kind").select_option("confidential-release")
    form.get_by_label("Member").select_option("3003")
    form.get_by_label("Post it releases").fill(code)
    form.get_by_label("Reason").fill("Witness appeal agreed with the investigating officer")
    form.get_by_label("Wording of the permission").fill(
        "Constable Lee may publish the CCTV still in the appeal."
    )
    form.get_by_label("Commissioner key passphrase").fill("demo passphrase, not for real use")
    form.get_by_role("button", name="Sign and issue").click()
    expect(commissioner.locator(".notice")).to_contain_text("issued and signed")
    expect(commissioner.locator("table")).to_contain_text("confidential-release")
    shot(commissioner, "07-permission-issued")
    commissioner.goto("/dashboard")
    expect(commissioner.locator("#findings-caption")).to_contain_text("Findings by clause")
    shot(commissioner, "08-dashboard")

    # The auditor verifies the trail; the registry is IT's.
    auditor = signed_in(browser, base, "5005")
    auditor.goto("/audit")
    auditor.get_by_role("button", name="Verify the chain").click()
    expect(auditor.locator(".verdict")).to_contain_text("Intact")
    auditor.get_by_label("Search target or detail").fill(code)
    auditor.get_by_role("button", name="Search").click()
    expect(auditor.locator("table")).to_contain_text("publish.sent")
    shot(auditor, "09-audit")
    it = signed_in(browser, base, "1001")
    it.goto("/registry")
    expect(it.locator("#computers")).to_contain_text("PC-0042")
    shot(it, "10-registry")


def test_phone_sized_compose_and_keyboard_only_sign_in(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/signin")
    page.get_by_label("Service number").focus()
    page.keyboard.type("3003")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password-3003")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    page.goto("/compose")
    page.get_by_label("Post text").fill("Vote for my brother in the council election!")
    expect(page.locator("#live-preview mark.violation").first).to_be_visible(timeout=10_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(page, "11-phone-compose")
    context.close()


def test_pages_refuse_wrong_roles_and_forged_forms(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003")
    assert pio.goto("/audit").status == 403  # type: ignore[attr-defined]
    expect(pio.locator("h1")).to_have_text("Not allowed")
    forged = pio.request.post(f"{base}/compose", form={"text": "hello", "csrf_token": "forged"})
    assert forged.status == 403 and "security token" in forged.text()
