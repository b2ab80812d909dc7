"""Composing in a real browser (Playwright driving Debian's Chromium): where the post goes, whether
it fits there, how it will appear, and one-step rewrites, on the compose page (live, with the
script) and on a draft's edit form (a plain form post, with no script at all), at desktop and phone
widths. Screenshots are kept under ``test-artifacts/screenshots`` as ``compose-*.png``.
"""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow

GLOATING = "A 30-year-old man has been arrested for the Harbour Road robbery. #GotHim"
FIXED = GLOATING.replace("#GotHim", "#Arrested")
PHONE = {"viewport": {"width": 390, "height": 844}}


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_account_is_chosen_first_and_only_a_connected_one(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003")
    pio.goto("/compose")
    account, text = pio.get_by_label("Official account"), pio.get_by_label("Post text")
    assert account.bounding_box()["y"] < text.bounding_box()["y"]  # the account comes first
    # The demo's Bluesky account is not connected: listed, but it cannot be chosen.
    expect(pio.locator("#account option[value='bluesky:@police.example']")).to_be_disabled()
    expect(pio.locator("#account option[value='bluesky:@police.example']")).to_contain_text("not connected")
    text.fill("Harbour Road is open again.")
    pio.get_by_role("button", name="Save draft").click()
    assert pio.url.endswith("/compose")  # nothing is saved without the account
    assert pio.evaluate("document.getElementById('account').validity.valueMissing")
    expect(pio.locator("#char-count")).to_contain_text("choose the account to see its limit")
    # By keyboard: the account, then Tab to the text.
    account.focus()
    pio.keyboard.press("ArrowDown")  # the first connected account
    pio.keyboard.press("Tab")
    assert pio.evaluate("document.activeElement.id") == "text"
    expect(pio.locator("#card-account")).to_have_text("mastodon:@police@127.0.0.1")
    expect(pio.locator("#char-count")).to_contain_text("of 500 characters (mastodon)")
    shot(pio, "compose-account-first")
    pio.get_by_role("button", name="Save draft").click()
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    expect(pio.locator(".facts")).to_contain_text("mastodon:@police@127.0.0.1")
    # The edit form keeps the account, and the author may change it there.
    expect(pio.get_by_label("Official account")).to_have_value("mastodon:@police@127.0.0.1")
    shot(pio, "compose-draft-account")


def test_the_counter_and_preview_follow_the_text_and_too_long_is_refused(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003")
    pio.goto("/compose")
    pio.get_by_label("Official account").select_option("mastodon:@police@127.0.0.1")
    box = pio.get_by_label("Post text")
    box.fill("ROAD CLOSURE\nHarbour Road is closed.\n\nPlease use the bypass.")
    card = pio.locator("#card-text")
    assert card.inner_text().split("\n")[:2] == [
        "ROAD CLOSURE",
        "Harbour Road is closed.",
    ]  # line breaks kept
    expect(pio.locator("#char-count")).to_have_text("60 of 500 characters (mastodon).")
    # A web address counts as 23 on Mastodon, however long; an emoji with its skin tone as one.
    box.fill("Appeal: https://police.example/appeals/" + "x" * 100 + " \U0001f44d\U0001f3fd")
    expect(pio.locator("#char-count")).to_have_text("33 of 500 characters (mastodon).")
    long = "Harbour Road is closed after a collision; please use the bypass. " * 8
    box.fill(long.strip())
    counter = pio.locator("#char-count")
    expect(counter).to_contain_text("over the limit; it cannot be submitted until it is shorter")
    expect(counter).to_have_class("counter over")
    shot(pio, "compose-counter-over")
    pio.get_by_role("button", name="Save draft").click()  # saved, to be shortened later
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".problem")).to_contain_text("takes at most 500 on mastodon: shorten it by")
    expect(pio.locator("h1 .state")).to_have_text("checked")
    shot(pio, "compose-too-long-refused")


def test_a_rewrite_is_applied_live_and_checked_again(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003")
    pio.goto("/compose")
    pio.get_by_label("Official account").select_option("mastodon:@police@127.0.0.1")
    pio.get_by_label("Post text").fill(GLOATING + " What idiots.")
    apply = pio.get_by_role("button", name="Apply: replace “#GotHim” with “#Arrested”")
    expect(apply).to_be_visible(timeout=10_000)
    # Advice ("Describe what happened without name-calling") is not offered as Apply.
    expect(pio.locator("#live-findings li", has_text="idiots")).to_be_visible()
    expect(pio.locator("#live-findings li", has_text="idiots").get_by_role("button")).to_have_count(0)
    shot(pio, "compose-rewrite-offered")
    apply.focus()
    pio.keyboard.press("Enter")  # by keyboard
    expect(pio.get_by_label("Post text")).to_have_value(FIXED + " What idiots.")
    expect(pio.locator("#live-findings li", has_text="#GotHim")).to_have_count(0, timeout=10_000)
    expect(pio.locator("#card-text")).to_have_text(FIXED + " What idiots.")
    shot(pio, "compose-rewrite-applied")


def test_a_rewrite_on_the_edit_form_needs_no_script(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003", java_script_enabled=False)
    pio.goto("/compose")
    pio.get_by_label("Official account").select_option("mastodon:@police@127.0.0.1")
    pio.get_by_label("Post text").fill(GLOATING)
    pio.get_by_role("button", name="Save draft").click()
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    expect(pio.locator("#char-count")).to_have_text(
        "73 of 500 characters (mastodon)."
    )  # counted by the server
    apply = pio.get_by_role("button", name="Apply: replace “#GotHim” with “#Arrested”")
    expect(apply).to_be_visible()
    shot(pio, "compose-edit-form-rewrite")
    apply.click()
    expect(pio.locator(".notice")).to_contain_text("Rewrite applied")
    expect(pio.get_by_label("Post text")).to_have_value(FIXED)
    expect(pio.locator(".clean")).to_be_visible()
    expect(pio.get_by_role("button", name="Apply: replace “#GotHim” with “#Arrested”")).to_have_count(0)
    shot(pio, "compose-edit-form-rewrite-applied")


def test_composing_on_a_phone(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003", **PHONE)
    pio.goto("/compose")
    pio.get_by_label("Official account").select_option("mastodon:@police@127.0.0.1")
    pio.get_by_label("Post text").fill(
        GLOATING + "\nhttps://police.example/appeals/harbour-road-robbery-2026-information-wanted"
    )
    expect(pio.get_by_role("button", name="Apply: replace “#GotHim” with “#Arrested”")).to_be_visible(
        timeout=10_000
    )
    expect(pio.locator("#char-count")).to_contain_text("of 500 characters (mastodon)")
    _no_sideways_scroll(pio)
    shot(pio, "compose-phone-390")
    pio.get_by_role("button", name="Apply: replace “#GotHim” with “#Arrested”").click()
    expect(pio.locator("#live-summary")).to_contain_text("No findings", timeout=10_000)
    pio.get_by_role("button", name="Save draft").click()
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    _no_sideways_scroll(pio)
    shot(pio, "compose-phone-390-draft")
