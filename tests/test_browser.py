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
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: 'make test' installs Debian's chromium", pytrace=False)
    pytest.skip("Debian's Chromium is not installed ('make test' installs it)", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("POSTGUARD_ARTIFACTS", "test-artifacts")) / "screenshots"
VIOLATING = "We got our man! The thug who robbed the corner shop on Harbour Road is behind bars."
FIXED = "A 41-year-old man has been charged with robbery and will appear in court on Monday."


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    port, fake = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "POSTGUARD_DEMO_MASTODON_PORT": str(fake)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "postguard.demo", str(folder), "--serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/signin", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        output = proc.communicate()[0].decode(errors="replace")
        pytest.fail(f"the demo service did not start: {output}")
    yield base, f"http://127.0.0.1:{fake}"
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield chromium
        chromium.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _signed_in(browser: object, base: str, number: str, **options: object) -> object:
    context = browser.new_context(base_url=base, **options)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/")
    assert "/signin" in page.url  # every page asks who you are first
    page.get_by_label("Service number").fill(number)
    page.get_by_label("Password").fill(f"demo-password-{number}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    return page


def test_a_post_from_draft_to_publication_and_a_permission(service: tuple[str, str], browser: object) -> None:
    base, mastodon = service
    expect = sync_api.expect

    # The PIO composes a violating post: it is underlined as she types.
    pio = _signed_in(browser, base, "3003")
    pio.goto("/signin")
    _shot(pio, "01-sign-in")
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
    _shot(pio, "02-compose-underlined")
    pio.get_by_role("button", name="Save draft").click()
    expect(pio.locator(".notice")).to_contain_text("saved and checked")
    code = pio.locator("h1").inner_text().split()[0]
    pio.get_by_label("Submitting from").select_option("PC-0042")
    pio.get_by_role("button", name="Submit", exact=True).click()
    expect(pio.locator(".notice")).to_contain_text("Submitted")
    _shot(pio, "03-submitted")

    # The reviewer finds it in the queue and returns it with a comment.
    reviewer = _signed_in(browser, base, "4004")
    reviewer.goto("/review")
    expect(reviewer.get_by_role("link", name=code)).to_be_visible()
    _shot(reviewer, "04-review-queue")
    reviewer.get_by_role("link", name=code).click()
    reviewer.get_by_label("Comment for the author").fill(
        "Say what happened, neutrally: no guilt, no insults."
    )
    reviewer.get_by_role("button", name="Return to author").click()
    expect(reviewer.locator(".notice")).to_contain_text("Returned")
    _shot(reviewer, "05-returned")

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
    _shot(reviewer, "06-published")
    with urllib.request.urlopen(f"{mastodon}/api/v1/statuses", timeout=5) as answer:
        statuses = json.load(answer)["statuses"]
    assert [s["content"] for s in statuses] == [FIXED]

    # The Commissioner issues a written permission, signed with her key.
    commissioner = _signed_in(browser, base, "2002")
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
    _shot(commissioner, "07-permission-issued")
    commissioner.goto("/")
    expect(commissioner.locator("#findings-caption")).to_contain_text("Findings by clause")
    _shot(commissioner, "08-dashboard")

    # The auditor verifies the trail; the registry is IT's.
    auditor = _signed_in(browser, base, "5005")
    auditor.goto("/audit")
    auditor.get_by_role("button", name="Verify the chain").click()
    expect(auditor.locator(".verdict")).to_contain_text("Intact")
    auditor.get_by_label("Search target or detail").fill(code)
    auditor.get_by_role("button", name="Search").click()
    expect(auditor.locator("table")).to_contain_text("publish.sent")
    _shot(auditor, "09-audit")
    it = _signed_in(browser, base, "1001")
    it.goto("/registry")
    expect(it.locator("#computers")).to_contain_text("PC-0042")
    _shot(it, "10-registry")


def test_phone_sized_compose_and_keyboard_only_sign_in(service: tuple[str, str], browser: object) -> None:
    base, _ = service
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
    sync_api.expect(page.locator("#live-preview mark.violation").first).to_be_visible(timeout=10_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    _shot(page, "11-phone-compose")
    context.close()


def test_pages_refuse_wrong_roles_and_forged_forms(service: tuple[str, str], browser: object) -> None:
    base, _ = service
    pio = _signed_in(browser, base, "3003")
    assert pio.goto("/audit").status == 403  # type: ignore[attr-defined]
    sync_api.expect(pio.locator("h1")).to_have_text("Not allowed")
    forged = pio.request.post(f"{base}/compose", form={"text": "hello", "csrf_token": "forged"})
    assert forged.status == 403 and "security token" in forged.text()
