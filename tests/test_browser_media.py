"""A photo on the compose page in a real browser (issue 13): upload, preview with boxes, safe copy.

The demo's PIO (3003) composes a post with a photo carrying a GPS position and a face; the
draft page shows the photo with what the check found drawn over it; "Make a safe copy"
blurs it, strips the metadata and checks the copy again. Screenshots: ``media-*.png``.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow

TEXT = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."


def _photo(path: Path) -> Path:
    """scikit-image's astronaut (a face), with a GPS position and an artist in its EXIF."""
    data = pytest.importorskip("skimage.data")
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.fromarray(data.astronaut())
    exif = image_module.Exif()
    exif[0x013B] = "Officer Jane Roe"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    image.save(path, exif=exif.tobytes())
    return path


def test_upload_preview_with_boxes_and_a_safe_copy(
    demo_service: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, mastodon = demo_service
    photo = _photo(tmp_path / "scene.jpg")
    page = signed_in(browser, base, "3003")
    page.goto("/compose")
    page.get_by_label("Official account").select_option(index=1)
    page.get_by_label("Post text").fill(TEXT)
    page.get_by_label("Attach a photo or video").set_input_files(str(photo))
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("h1")).to_contain_text("D-", timeout=60_000)
    figure = page.locator("#attachments figure").first
    expect(figure.locator("img")).to_be_visible()
    expect(figure.locator("svg.media-boxes rect").first).to_be_attached()
    expect(figure.locator(".media-findings")).to_contain_text("location")
    # The boxes lie over the picture: the overlay has the picture's size on the page.
    img, svg = figure.locator("img").bounding_box(), figure.locator("svg.media-boxes").bounding_box()
    assert img and svg and abs(img["width"] - svg["width"]) < 2 and abs(img["height"] - svg["height"]) < 2
    shot(page, "media-01-preview-with-boxes")

    original = figure.locator("img").get_attribute("src")
    page.get_by_role("button", name="Make a safe copy").click()
    expect(page.locator(".notice")).to_contain_text("Safe copy made")
    figure = page.locator("#attachments figure").first
    expect(figure).to_contain_text("Nothing is found in it.")
    copy = figure.locator("img").get_attribute("src")
    assert copy and copy != original
    # The copy is served only to a signed-in member, and carries no GPS.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    request = urllib.request.Request(
        f"{base}{copy}", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        data = answer.read()
    assert data[:3] == b"\xff\xd8\xff" and b"Jane Roe" not in data and b"GPS" not in data
    shot(page, "media-02-safe-copy")

    # On a phone (390 px) the preview fits: no sideways scroll.
    phone = signed_in(browser, base, "3003", viewport={"width": 390, "height": 844})
    phone.goto(page.url)
    expect(phone.locator("#attachments img").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "media-03-phone")

    # Submitted, approved and published: the fake Mastodon holds the copy, not the original.
    page.get_by_label("Submitting from").select_option("PC-0042")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Submitted")
    reviewer = signed_in(browser, base, "4004")
    reviewer.goto(page.url.split("?")[0])
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".notice")).to_contain_text("Approved")
    reviewer.get_by_role("button", name="Publish now").click()
    expect(reviewer.locator(".notice")).to_contain_text("Published")
    with urllib.request.urlopen(f"{mastodon}/api/v1/statuses", timeout=5) as answer:
        status = json.load(answer)["statuses"][0]
    (attached,) = status["media_attachments"]
    assert attached["sha256"] == copy.rsplit("/", 1)[1] != (original or "").rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{mastodon}/media/{attached['id']}", timeout=5) as answer:
        assert answer.read() == data
    reviewer.goto(status["url"])
    expect(reviewer.locator("article img")).to_be_visible()
    shot(reviewer, "media-04-published-on-fake-mastodon")
