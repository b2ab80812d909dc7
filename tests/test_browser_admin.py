"""Registry, permissions and audit in a real browser (issue 12): forms that keep what was typed
and say which field is wrong, IT's actions on members, computers, devices and accounts, reading,
printing and downloading permissions, the audit trail's entries, exports and checkpoints, and
errors shown as pages. Screenshots are kept as ``admin-*.png``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from browser_support import expect, shot, signed_in

pytestmark = pytest.mark.slow

PASSPHRASE = "demo passphrase, not for real use"


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_registry_forms_keep_what_was_typed_and_mark_the_wrong_field(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, _ = demo_service
    it = signed_in(browser, base, "1001")
    it.goto("/registry")
    it.get_by_text("Register a computer").click()
    form = it.locator("#add-computer")
    form.get_by_label("Asset tag").fill("PC-0100")
    form.get_by_label("Host name").fill("press-01")
    form.get_by_label("Addresses (IP or CIDR").fill("10.40.0.0/24 10.40.1.300")
    form.get_by_role("button", name="Register computer").click()
    addresses = it.locator("#c-addr")
    expect(addresses).to_have_attribute("aria-invalid", "true")
    expect(addresses).to_have_value("10.40.0.0/24 10.40.1.300")
    expect(it.locator("#c-host")).to_have_value("press-01")
    expect(it.locator("#c-addr-error")).to_contain_text("10.40.1.300")
    assert "c-addr-error" in (addresses.get_attribute("aria-describedby") or "")
    shot(it, "admin-01-computer-refused")
    # The range that overlaps the demo's PC-0042 (127.0.0.1) is refused too, at the field.
    addresses.fill("127.0.0.0/8")
    it.locator("#add-computer").get_by_role("button", name="Register computer").click()
    expect(it.locator("#c-addr-error")).to_contain_text("PC-0042")
    addresses = it.locator("#c-addr")
    addresses.fill("10.40.0.0/24 10.40.1.30")
    it.locator("#add-computer").get_by_role("button", name="Register computer").click()
    expect(it.locator(".notice")).to_contain_text("Computer PC-0100 registered")
    expect(it.locator("#computers")).to_contain_text("10.40.0.0/24, 10.40.1.30")

    # A member: a service number not of the pack's form is refused, the rest kept.
    it.get_by_text("Add a member").click()
    member = it.locator("#add-member")
    member.get_by_label("Service number").fill("new one")
    member.get_by_label("Name").fill("Noor Newman")
    member.get_by_label("pio").check()
    member.get_by_role("button", name="Add member").click()
    expect(it.locator("#m-number")).to_have_attribute("aria-invalid", "true")
    expect(it.locator("#m-name")).to_have_value("Noor Newman")
    expect(it.locator("#add-member").get_by_label("pio")).to_be_checked()
    shot(it, "admin-02-member-refused")
    it.locator("#m-number").fill("6006")
    it.locator("#add-member").get_by_role("button", name="Add member").click()
    expect(it.locator(".notice")).to_contain_text("Member 6006 added")

    # A category authorisation chooses its category from the pack's list.
    it.get_by_text("Grant an authorisation").click()
    grant = it.locator("#grant-authorisation")
    grant.get_by_label("Member (service number").fill("6006")
    grant.get_by_label("Computer (asset tag").fill("PC-0100")
    grant.get_by_label("Scope", exact=True).select_option("category")
    grant.get_by_label("Category (for scope category)").select_option("photo-video-sharing")
    grant.get_by_label("Reason").fill("press videos")
    grant.get_by_role("button", name="Grant").click()
    expect(it.locator("#authorisations")).to_contain_text("photo-video-sharing")
    shot(it, "admin-03-authorised")
    it.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(it)


def test_it_sets_passwords_deactivates_retires_and_connects_accounts(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, _ = demo_service
    it = signed_in(browser, base, "1001")
    it.goto("/registry")
    it.get_by_text("Add a member").click()
    it.locator("#m-number").fill("7007")
    it.locator("#m-name").fill("Sam Seven")
    it.locator("#add-member").get_by_role("button", name="Add member").click()
    expect(it.locator(".notice")).to_contain_text("Member 7007 added")

    it.get_by_text("Set or reset a member's password").click()
    form = it.locator("#set-password")
    form.get_by_label("Member").select_option("7007")
    form.get_by_label("New password", exact=True).fill("seven is a long password")
    form.get_by_label("New password again").fill("seven is a long password")
    form.get_by_role("button", name="Set password").click()
    expect(it.locator(".notice")).to_contain_text("password of 7007 is set")
    shot(it, "admin-04-password-set")
    seven = signed_in_with(browser, base, "7007", "seven is a long password")
    expect(seven.locator("header")).to_contain_text("Sam Seven")

    # Deactivated, 7007 can no longer sign in; reactivated, they can.
    it.get_by_role("button", name="Deactivate 7007").click()
    expect(it.locator(".notice")).to_contain_text("7007 deactivated")
    seven.goto("/drafts")
    assert "/signin" in seven.url
    it.get_by_role("button", name="Reactivate 7007").click()
    expect(it.locator(".notice")).to_contain_text("7007 reactivated")
    shot(it, "admin-05-member-reactivated")

    # Retiring a computer and a device.
    it.get_by_text("Register a computer").click()
    it.locator("#c-tag").fill("PC-OLD")
    it.locator("#add-computer").get_by_role("button", name="Register computer").click()
    it.get_by_role("button", name="Retire PC-OLD").click()
    expect(it.locator(".notice")).to_contain_text("PC-OLD retired")
    expect(it.locator("#computers tr", has_text="PC-OLD")).to_contain_text("retired")
    it.get_by_text("Register a personal device").click()
    it.locator("#d-id").fill("SERIAL-9")
    it.locator("#add-device").get_by_label("Owner").select_option("7007")
    it.locator("#add-device").get_by_role("button", name="Register device").click()
    it.get_by_role("button", name="Retire SERIAL-9").click()
    expect(it.locator("#devices tr", has_text="SERIAL-9")).to_contain_text("retired")

    # Connecting the demo's Bluesky account: the credential is typed once and never shown.
    secret = "app-password-7q3x-not-shown"
    it.get_by_text("Connect an account").click()
    connect = it.locator("#connect-account")
    connect.get_by_label("Account").select_option("bluesky:@police.example")
    connect.get_by_label("Connector").select_option("bluesky")
    connect.get_by_label("Endpoint").fill("https://pds.example")
    connect.get_by_label("Access token or secret").fill(secret)
    assert connect.get_by_label("Access token or secret").get_attribute("type") == "password"
    connect.get_by_role("button", name="Connect").click()
    expect(it.locator(".notice")).to_contain_text("stored encrypted")
    assert secret not in it.content()
    shot(it, "admin-06-account-connected")


def signed_in_with(browser: Any, base: str, number: str, password: str) -> Any:
    page = browser.new_context(base_url=base).new_page()
    page.goto("/signin")
    page.get_by_label("Service number").fill(number)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/**")
    return page


def test_a_member_reads_prints_and_downloads_their_permission(
    demo_service: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, _ = demo_service
    pio = signed_in(browser, base, "3003")  # pio and officer: no overseeing role
    pio.get_by_role("navigation", name="Main").get_by_role("link", name="Permissions").click()
    expect(pio.locator("table")).to_contain_text("personal-device")
    shot(pio, "admin-07-own-permissions")
    code = pio.locator("tbody tr", has_text="personal-device").locator("td").first.inner_text()
    pio.get_by_role("link", name=f"Print {code}").click()
    expect(pio.locator("h1")).to_contain_text("Written permission")
    expect(pio.locator("blockquote")).to_contain_text("own phone")
    pio.emulate_media(media="print")
    expect(pio.locator("header.top")).to_be_hidden()
    shot(pio, "admin-08-permission-print")
    pio.emulate_media(media="screen")
    with pio.expect_download() as info:
        pio.get_by_role("link", name="Download the signed document").click()
    download = info.value
    assert download.suggested_filename == f"{code}.json"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["format"] == "postguard-signed-permission/1" and document["payload"]["code"] == code

    # Someone else's permission is not theirs to read.
    reviewer = signed_in(browser, base, "4004")
    reviewer.goto("/permissions")
    expect(reviewer.locator("table")).to_contain_text("confidential-release")


def test_the_auditor_reads_an_entry_exports_the_search_and_signs_a_checkpoint(
    demo_service: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, _ = demo_service
    auditor = signed_in(browser, base, "5005")
    auditor.goto("/audit")
    auditor.get_by_label("Action (e.g. review.*)").fill("permission.*")
    auditor.get_by_role("button", name="Search").click()
    first = auditor.locator("tbody tr").first.locator("a")
    first.click()
    expect(auditor.locator("h1")).to_contain_text("Audit entry")
    expect(auditor.locator("pre.detail")).to_contain_text("member")
    shot(auditor, "admin-09-audit-entry")
    auditor.go_back()
    with auditor.expect_download() as csv_info:
        auditor.get_by_role("link", name="CSV").click()
    csv_path = tmp_path / "audit.csv"
    csv_info.value.save_as(csv_path)
    table = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert table[0][0] == "seq" and len(table) > 1
    assert all(row[3].startswith("permission.") for row in table[1:])
    with auditor.expect_download() as lines_info:
        auditor.get_by_role("link", name="JSON lines").click()
    lines_path = tmp_path / "audit.jsonl"
    lines_info.value.save_as(lines_path)
    rows = [json.loads(line) for line in lines_path.read_text(encoding="utf-8").splitlines()]
    assert [r["seq"] for r in rows] == [int(row[0]) for row in table[1:]]

    auditor.get_by_text("Sign a checkpoint").click()
    auditor.get_by_label("Department key passphrase").fill("not the passphrase")
    auditor.get_by_role("button", name="Sign checkpoint").click()
    expect(auditor.locator("#cp-passphrase")).to_have_attribute("aria-invalid", "true")
    expect(auditor.locator("#cp-passphrase-error")).to_be_visible()
    shot(auditor, "admin-10-checkpoint-refused")
    auditor.get_by_label("Department key passphrase").fill(PASSPHRASE)
    auditor.get_by_role("button", name="Sign checkpoint").click()
    expect(auditor.locator(".notice")).to_contain_text("Checkpoint over")
    auditor.get_by_role("button", name="Verify the chain").click()
    expect(auditor.locator(".verdict")).to_contain_text("Intact")
    shot(auditor, "admin-11-checkpoint-signed")


def test_errors_are_pages_with_a_way_back(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    it = signed_in(browser, base, "1001")
    answer = it.goto("/registry/nowhere/at/all")
    assert answer is not None and answer.status == 404
    expect(it.locator("h1")).to_have_text("Not found")
    shot(it, "admin-12-not-found")
    answer = it.goto("/audit?limit=lots")
    assert answer is not None and answer.status == 422
    expect(it.locator("main")).to_contain_text("limit")
    it.keyboard.press("Tab")  # the skip link, then the way back, by keyboard alone
    it.get_by_role("link", name="Back to my work").focus()
    it.keyboard.press("Enter")
    it.wait_for_url(f"{base}/")
    api = it.request.get(f"{base}/api/v1/permissions/CP-404")
    assert api.status == 404 and api.headers["content-type"] == "application/problem+json"
