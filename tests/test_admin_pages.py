"""Registry, permissions and audit in the web application (issue 12), in-process: forms that keep
what was typed, addresses and ranges, members' passwords and accounts' credentials, reading and
printing permissions, the audit page's detail, exports and checkpoints, and errors as pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import PASSPHRASES, World
from postguard.access.catalogue import Catalogue
from postguard.access.decide import AccessRequest, decide
from postguard.access.snapshot import load_snapshot
from postguard.errors import ConflictError, ValidationError
from postguard.policy import default_pack
from postguard.policy.schema import AccessRules
from postguard.registry.credentials import decrypt
from postguard.registry.signin import set_password
from postguard.settings import Settings
from postguard.web import create_app

MEMBERS = ("IT-1", "CP-1", "PIO-1", "REV-1", "AUD-1")


@pytest.fixture
def site(world: World) -> Iterator[TestClient]:
    for member in MEMBERS:
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    app = create_app(
        Settings(
            database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
        )
    )
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


def _sign_in(client: TestClient, member: str) -> str:
    """Sign ``member`` in; their session's CSRF token."""
    client.cookies.clear()
    page = client.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin",
        data={"service_number": member, "password": f"password-of-{member}", "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text
    return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


def _count(world: World, sql: str) -> int:
    with world.db.engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


# Forms keep what was typed, and say which field is wrong ------------------------------------


def test_a_refused_computer_form_keeps_its_values_and_marks_the_field(site: TestClient) -> None:
    csrf = _sign_in(site, "IT-1")
    answer = site.post(
        "/registry/computer",
        data={"csrf_token": csrf, "asset_tag": "PC-77", "hostname": "desk-77", "addresses": "10.0.0.300"},
    )
    assert answer.status_code == 422
    page = answer.text
    assert 'value="PC-77"' in page and 'value="desk-77"' in page and 'value="10.0.0.300"' in page
    field = page.split('id="c-addr"')[1].split(">")[0]
    assert 'aria-invalid="true"' in field and "c-addr-error" in field
    assert 'id="c-addr-error"' in page and "not an IPv4 or IPv6 address or a CIDR range" in page
    assert f'name="csrf_token" value="{csrf}"' in page  # the form can be sent again as it is
    assert 'aria-invalid="true"' not in page.split('id="c-tag"')[1].split(">")[0]


def test_a_refused_member_form_keeps_roles_and_marks_the_service_number(
    site: TestClient, world: World
) -> None:
    csrf = _sign_in(site, "IT-1")
    answer = site.post(
        "/registry/member",
        data={"csrf_token": csrf, "service_number": "bad number!", "name": "Nat New", "roles": ["pio"]},
    )
    assert answer.status_code == 422
    page = answer.text
    assert 'value="bad number!"' in page and 'value="Nat New"' in page
    assert 'aria-invalid="true"' in page.split('id="m-number"')[1].split(">")[0]
    assert 'value="pio" checked' in page and 'value="officer" checked' not in page
    assert _count(world, "SELECT count(*) FROM member WHERE name = 'Nat New'") == 0
    ok = site.post(
        "/registry/member",
        data={"csrf_token": csrf, "service_number": "NAT-9", "name": "Nat New", "roles": ["pio"]},
    )
    assert ok.status_code == 303 and "Member+NAT-9+added" in ok.headers["location"]


def test_a_refused_permission_keeps_its_wording_but_never_the_passphrase(site: TestClient) -> None:
    csrf = _sign_in(site, "CP-1")
    answer = site.post(
        "/permissions",
        data={
            "csrf_token": csrf, "kind": "personal-device", "member": "PIO-1", "device": "IMEI-1",
            "reason": "press office phone", "text": "May post from this phone.", "passphrase": "wrong one",
        },
    )  # fmt: skip
    assert answer.status_code == 422
    page = answer.text
    assert "May post from this phone.</textarea>" in page and 'value="press office phone"' in page
    assert 'value="IMEI-1" selected' in page and 'value="PIO-1" selected' in page
    assert "wrong one" not in page
    assert 'aria-invalid="true"' in page.split('id="passphrase"')[1].split(">")[0]
    good = site.post(
        "/permissions",
        data={
            "csrf_token": csrf, "kind": "personal-device", "member": "PIO-1", "device": "IMEI-1",
            "reason": "press office phone", "text": "May post from this phone.",
            "passphrase": PASSPHRASES["commissioner"],
        },
    )  # fmt: skip
    assert good.status_code == 303 and "issued" in good.headers["location"]


# Categories from the pack; service numbers of the pack's form -------------------------------


def test_a_category_authorisation_names_one_of_the_packs_categories(site: TestClient, world: World) -> None:
    with pytest.raises(ValidationError, match="not a site category"):
        world.grants.authorise(
            "IT-1", member=None, computer="PC-1", scope="category", target="gossip", reason="r"
        )
    csrf = _sign_in(site, "IT-1")
    page = site.get("/registry").text
    select = page.split('id="a-category"')[1].split("</select>")[0]
    assert 'value="micro-blogging"' in select and 'value="social-networking"' in select
    answer = site.post(
        "/registry/authorisation",
        data={
            "csrf_token": csrf,
            "scope": "category",
            "category": "no-such",
            "reason": "r",
            "computer": "PC-1",
        },
    )
    assert (
        answer.status_code == 422
        and 'aria-invalid="true"' in answer.text.split('id="a-category"')[1].split(">")[0]
    )
    ok = site.post(
        "/registry/authorisation",
        data={
            "csrf_token": csrf,
            "scope": "category",
            "category": "micro-blogging",
            "reason": "r",
            "computer": "PC-1",
        },
    )
    assert ok.status_code == 303
    assert world.grants.list_authorisations()[-1]["target"] == "micro-blogging"


def test_service_numbers_have_the_packs_form_in_the_registry_and_the_api(
    site: TestClient, world: World
) -> None:
    with pytest.raises(ValidationError, match="service number"):
        world.registry.add_member("IT-1", service_number="lower case", name="Lou")
    token = site.post("/api/v1/session", json={"service_number": "IT-1", "password": "password-of-IT-1"})
    assert token.status_code == 200, token.text
    csrf = token.json()["csrf_token"]
    answer = site.post(
        "/api/v1/members", json={"service_number": "x y", "name": "Lou"}, headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert world.registry.add_member("IT-1", service_number="LOU-7", name="Lou").service_number == "LOU-7"


# Addresses and ranges -----------------------------------------------------------------------


def test_addresses_take_ips_and_cidr_ranges_normalised(world: World) -> None:
    pc = world.registry.add_computer(
        "IT-1", asset_tag="PC-NET", addresses=["10.9.0.7/24", "2001:DB8::1", "192.168.1.1/32"]
    )
    assert pc.addresses == ["10.9.0.0/24", "2001:db8::1", "192.168.1.1"]
    with pytest.raises(ValidationError, match="CIDR"):
        world.registry.add_computer("IT-1", asset_tag="PC-BAD", addresses=["10.0.0.0/33"])


def test_the_access_decision_finds_a_computer_by_its_range(world: World) -> None:
    world.registry.add_computer("IT-1", asset_tag="PC-LAN", addresses=["10.30.0.0/16"])
    world.registry.add_computer("IT-1", asset_tag="PC-DESK", addresses=["10.31.5.0/24"])
    snapshot = load_snapshot(world.db, None)
    assert snapshot.computer_at("10.30.200.9") == "PC-LAN"
    assert snapshot.computer_at("10.31.5.77") == "PC-DESK"
    assert snapshot.computer_at("10.0.0.5") == "PC-1"
    assert snapshot.computer_at("10.32.0.1") is None and snapshot.computer_at("not an ip") is None
    world.grants.authorise("IT-1", member="PIO-1", computer="PC-LAN", scope="all", reason="press")
    snapshot = load_snapshot(world.db, None)
    catalogue = Catalogue(default_pack())
    inside = AccessRequest("https://x.com", "PIO-1", address="10.30.1.2")
    decision = decide(snapshot, catalogue, AccessRules(), inside)
    assert decision.allowed and decision.computer == "PC-LAN"
    desk = decide(
        snapshot, catalogue, AccessRules(), AccessRequest("https://x.com", "PIO-1", address="10.31.5.2")
    )
    assert not desk.allowed and desk.computer == "PC-DESK"  # the authorisation is for PC-LAN only


def test_two_active_computers_cannot_share_an_address_or_overlap(world: World) -> None:
    with pytest.raises(ConflictError, match=r"10\.0\.0\.5"):
        world.registry.add_computer("IT-1", asset_tag="PC-2", addresses=["10.0.0.5"])
    with pytest.raises(ConflictError, match="overlaps"):
        world.registry.add_computer("IT-1", asset_tag="PC-2", addresses=["10.0.0.0/29"])
    world.registry.add_computer("IT-1", asset_tag="PC-2", addresses=["10.0.1.0/24"])
    with pytest.raises(ConflictError):
        world.registry.change_computer("IT-1", "PC-2", addresses=["10.0.0.5"])
    world.registry.change_computer("IT-1", "PC-1", active=False)  # retired: its address is free
    world.registry.add_computer("IT-1", asset_tag="PC-3", addresses=["10.0.0.5"])
    with pytest.raises(ConflictError):  # nor may the retired one come back with it
        world.registry.change_computer("IT-1", "PC-1", active=True)
    assert _count(world, "SELECT count(*) FROM computer_address WHERE address = '10.0.0.5'") == 1


def test_the_database_itself_refuses_a_second_active_computer_at_an_address(world: World) -> None:
    """A writer that bypasses the registry still cannot give two computers one address."""
    with world.db.engine.connect() as conn:
        computer = conn.execute(sa.text("SELECT id FROM computer WHERE asset_tag = 'PC-1'")).scalar_one()
        assert conn.execute(sa.text("SELECT address FROM computer_address")).scalars().all() == ["10.0.0.5"]
    with pytest.raises(sa.exc.IntegrityError), world.db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO computer_address (computer_id, address) VALUES (:c, '10.0.0.5')"),
            {"c": computer},
        )


def test_an_active_computers_range_wins_over_a_retired_computers_address() -> None:
    from postguard.access.snapshot import Snapshot

    snap = Snapshot(
        computers={"OLD": False, "LAN": True},
        computer_by_address={"10.0.0.5": "OLD", "10.0.0.0/24": "LAN"},
    )
    assert snap.computer_at("10.0.0.5") == "LAN" and snap.computer_at("10.0.0.6") == "LAN"
    assert (
        Snapshot(computers={"A": True}, computer_by_address={"10.0.0.5": "A"}).computer_at("10.0.0.5") == "A"
    )


# IT's registry actions ------------------------------------------------------------------------


def test_it_sets_a_password_deactivates_reactivates_and_retires(site: TestClient, world: World) -> None:
    csrf = _sign_in(site, "IT-1")
    differ = site.post(
        "/registry/password",
        data={
            "csrf_token": csrf,
            "member": "REV-1",
            "password": "a new long password",
            "password_again": "other",
        },
    )
    assert differ.status_code == 422 and "a new long password" not in differ.text
    assert 'value="REV-1" selected' in differ.text
    done = site.post(
        "/registry/password",
        data={
            "csrf_token": csrf, "member": "REV-1", "password": "a new long password",
            "password_again": "a new long password",
        },
    )  # fmt: skip
    assert done.status_code == 303 and "password+of+REV-1" in done.headers["location"]
    assert (
        site.post(
            "/registry/deactivate-member", data={"csrf_token": csrf, "service_number": "REV-1"}
        ).status_code
        == 303
    )
    assert not next(m for m in world.registry.members() if m["service_number"] == "REV-1")["active"]
    assert "Reactivate REV-1" in site.get("/registry").text
    site.post("/registry/reactivate-member", data={"csrf_token": csrf, "service_number": "REV-1"})
    assert next(m for m in world.registry.members() if m["service_number"] == "REV-1")["active"]
    site.post("/registry/retire-computer", data={"csrf_token": csrf, "asset_tag": "PC-1"})
    site.post("/registry/retire-device", data={"csrf_token": csrf, "identifier": "IMEI-1"})
    assert not world.registry.computers()[0]["active"] and not world.registry.devices()[0]["active"]
    assert _count(world, "SELECT count(*) FROM computer_address") == 0
    with world.db.engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_entry WHERE actor = 'IT-1'")).scalars().all()
    assert {"member.password", "member.revoke", "member.change", "computer.revoke", "device.revoke"} <= set(
        actions
    )
    # The new password signs REV-1 in.
    site.cookies.clear()
    page = site.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    signed = site.post(
        "/signin", data={"service_number": "REV-1", "password": "a new long password", "csrf_token": token}
    )
    assert signed.status_code == 303


def test_only_it_may_use_the_registry_forms(site: TestClient, world: World) -> None:
    csrf = _sign_in(site, "AUD-1")
    page = site.get("/registry").text
    assert "Deactivate" not in page and 'id="set-password"' not in page and 'id="connect-account"' not in page
    refused = site.post("/registry/deactivate-member", data={"csrf_token": csrf, "service_number": "PIO-1"})
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    assert next(m for m in world.registry.members() if m["service_number"] == "PIO-1")["active"]
    refused = site.post(
        "/registry/password",
        data={
            "csrf_token": csrf,
            "member": "PIO-1",
            "password": "taken over now!",
            "password_again": "taken over now!",
        },
    )
    assert refused.status_code == 403


def test_connecting_an_account_stores_the_credential_encrypted_and_never_shows_it(
    site: TestClient, world: World
) -> None:
    world.registry.add_account("IT-1", platform="mastodon", handle="@police@social.example")
    csrf = _sign_in(site, "IT-1")
    secret = "tok-0123456789-secret"
    bad = site.post(
        "/registry/connect-account",
        data={
            "csrf_token": csrf, "account": "mastodon:@police@social.example", "connector": "mastodon",
            "endpoint": "ftp://nope", "credential": secret,
        },
    )  # fmt: skip
    assert bad.status_code == 422 and secret not in bad.text
    assert 'aria-invalid="true"' in bad.text.split('id="cn-endpoint"')[1].split(">")[0]
    answer = site.post(
        "/registry/connect-account",
        data={
            "csrf_token": csrf, "account": "mastodon:@police@social.example", "connector": "mastodon",
            "endpoint": "https://social.example/", "credential": secret,
        },
    )  # fmt: skip
    assert answer.status_code == 303
    with world.db.engine.connect() as conn:
        stored, endpoint = conn.execute(sa.text("SELECT credential, endpoint FROM official_account")).one()
        trail = " ".join(conn.execute(sa.text("SELECT detail FROM audit_entry")).scalars().all())
    assert secret not in stored and decrypt(world.keys_dir, stored) == secret
    assert endpoint == "https://social.example" and secret not in trail
    assert secret not in site.get("/registry").text


# Reading, printing and downloading permissions ----------------------------------------------


def _permit(world: World, member: str = "PIO-1") -> str:
    row = world.grants.permit(
        "CP-1", world.commissioner_key, kind="personal-device", member=member, device="IMEI-1",
        reason="press phone", text_="May post from IMEI-1.",
    )  # fmt: skip
    return row.code


def test_every_member_reads_their_own_permissions_and_overseers_read_all(
    site: TestClient, world: World
) -> None:
    mine = _permit(world)
    world.registry.add_device("IT-1", identifier="IMEI-2", owner="REV-1")
    theirs = world.grants.permit(
        "CP-1", world.commissioner_key, kind="personal-device", member="REV-1", device="IMEI-2",
        reason="r", text_="May post from IMEI-2.",
    ).code  # fmt: skip
    _sign_in(site, "PIO-1")  # pio and officer: no overseeing role
    page = site.get("/permissions")
    assert page.status_code == 200 and f"Print {mine}" in page.text and f"Print {theirs}" not in page.text
    assert 'href="/permissions"' in site.get("/").text
    assert site.get(f"/permissions/{mine}/print").status_code == 200
    assert site.get(f"/permissions/{theirs}/print").status_code == 403
    assert site.get(f"/permissions/{theirs}/document").status_code == 403
    session = site.post("/api/v1/session", json={"service_number": "PIO-1", "password": "password-of-PIO-1"})
    assert session.status_code == 200
    assert [p["id"] for p in site.get("/api/v1/permissions").json()] == [mine]
    assert site.get(f"/api/v1/permissions/{mine}").json()["honoured"] is True
    assert site.get(f"/api/v1/permissions/{theirs}").status_code == 403
    for overseer in ("AUD-1", "REV-1", "IT-1", "CP-1"):
        _sign_in(site, overseer)
        assert (
            f"Print {theirs}" in site.get("/permissions").text
            and f"Print {mine}" in site.get("/permissions").text
        )
    with world.db.engine.connect() as conn:
        denied = conn.execute(
            sa.text("SELECT count(*) FROM audit_entry WHERE action = 'denied' AND actor = 'PIO-1'")
        ).scalar_one()
    assert denied >= 3  # each refused read is audited


def test_a_permission_prints_and_downloads_as_its_signed_document(site: TestClient, world: World) -> None:
    from postguard.keys import load_public
    from postguard.registry.documents import export_document, verify_document

    code = _permit(world)
    _sign_in(site, "AUD-1")
    printed = site.get(f"/permissions/{code}/print")
    assert (
        printed.status_code == 200
        and "May post from IMEI-1." in printed.text
        and "<style" not in printed.text
    )
    assert "@media print" in site.get("/static/app.css").text
    download = site.get(f"/permissions/{code}/document")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f'attachment; filename="{code}.json"'
    trusted = load_public(world.keys_dir, "commissioner")
    expected = export_document(world.grants.get_permission(code)[0], trusted)
    assert download.text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"  # as 'permit export'
    assert verify_document(download.content, trusted).valid
    assert site.get("/permissions/CP-99999/print").status_code == 404


# The audit page: an entry in full, exports, checkpoints ---------------------------------------


def test_an_audit_entry_has_a_page_of_its_own(site: TestClient, world: World) -> None:
    _sign_in(site, "AUD-1")
    page = site.get("/audit", params={"action": "computer.add"}).text
    seq = int(page.split('aria-label="Entry ')[0].rsplit('<a href="/audit/', 1)[1].split('"')[0])
    entry = site.get(f"/audit/{seq}")
    assert entry.status_code == 200
    assert "computer:PC-1" in entry.text and "10.0.0.5" in entry.text and "Previous hash" in entry.text
    assert site.get("/audit/999999").status_code == 404
    _sign_in(site, "PIO-1")
    assert site.get(f"/audit/{seq}").status_code == 403


def test_the_audit_search_exports_as_csv_and_json_lines_with_its_filters(
    site: TestClient, world: World
) -> None:
    for n in range(3):
        world.registry.add_computer("IT-1", asset_tag=f"PC-X{n}", hostname="=cmd|calc")
    _sign_in(site, "AUD-1")
    lines = site.get("/audit/export.jsonl", params={"action": "computer.*"})
    assert lines.status_code == 200 and "attachment" in lines.headers["content-disposition"]
    rows = [json.loads(line) for line in lines.text.splitlines()]
    assert [r["target"] for r in rows] == [
        "computer:PC-1",
        "computer:PC-X0",
        "computer:PC-X1",
        "computer:PC-X2",
    ]
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)  # chain order
    table = list(
        csv.reader(
            io.StringIO(site.get("/audit/export.csv", params={"q": "PC-X1", "action": "computer.*"}).text)
        )
    )
    assert table[0][:4] == ["seq", "at", "actor", "action"] and len(table) == 2
    assert table[1][5] == "computer:PC-X1" and json.loads(table[1][7])["hostname"] == "=cmd|calc"
    _sign_in(site, "PIO-1")
    assert site.get("/audit/export.csv").status_code == 403


def test_the_audit_export_streams_past_one_batch(
    site: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postguard.web.pages import audit as audit_page

    monkeypatch.setattr(audit_page, "_BATCH", 2)
    _sign_in(site, "AUD-1")
    total = _count(world, "SELECT count(*) FROM audit_entry")
    rows = [json.loads(line) for line in site.get("/audit/export.jsonl").text.splitlines()]
    assert len(rows) >= total and len({r["seq"] for r in rows}) == len(rows)


def test_an_auditor_signs_a_checkpoint_and_wrong_passphrases_are_throttled(
    site: TestClient, world: World
) -> None:
    csrf = _sign_in(site, "AUD-1")
    before = _count(world, "SELECT count(*) FROM audit_checkpoint")
    wrong = site.post("/audit/checkpoint", data={"csrf_token": csrf, "passphrase": "not it"})
    assert wrong.status_code == 422 and "not it" not in wrong.text
    assert 'aria-invalid="true"' in wrong.text.split('id="cp-passphrase"')[1].split(">")[0]
    assert _count(world, "SELECT count(*) FROM audit_entry WHERE action = 'key.passphrase-failed'") == 1
    good = site.post("/audit/checkpoint", data={"csrf_token": csrf, "passphrase": PASSPHRASES["department"]})
    assert good.status_code == 303 and "Checkpoint" in good.headers["location"]
    assert _count(world, "SELECT count(*) FROM audit_checkpoint") == before + 1
    assert (
        _count(
            world, "SELECT count(*) FROM audit_entry WHERE action = 'audit.checkpoint' AND actor = 'AUD-1'"
        )
        == 1
    )
    verified = site.post("/audit/verify", data={"csrf_token": csrf})
    assert "Intact." in verified.text
    for _ in range(10):
        last = site.post("/audit/checkpoint", data={"csrf_token": csrf, "passphrase": "still not"})
    assert last.status_code == 429
    throttled = site.post(
        "/audit/checkpoint", data={"csrf_token": csrf, "passphrase": PASSPHRASES["department"]}
    )
    assert (
        throttled.status_code == 429 and _count(world, "SELECT count(*) FROM audit_checkpoint") == before + 1
    )
    _sign_in(site, "PIO-1")
    csrf = _sign_in(site, "PIO-1")
    assert site.post("/audit/checkpoint", data={"csrf_token": csrf, "passphrase": "x"}).status_code == 403


# Errors are pages for people; the API keeps problem details -----------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_page_errors_are_pages_and_api_errors_problem_details(site: TestClient, signed_in: bool) -> None:
    if signed_in:
        _sign_in(site, "IT-1")
    missing = site.get("/no/such/page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Not found" in missing.text and 'href="/"' in missing.text
    wrong_method = site.put("/registry")
    assert wrong_method.status_code == 405 and "Not allowed here" in wrong_method.text
    api_missing = site.get("/api/v1/no-such", headers={"Authorization": "Bearer nope"})
    assert api_missing.headers["content-type"] == "application/problem+json"


def test_invalid_input_and_service_errors_on_pages_are_pages(site: TestClient) -> None:
    _sign_in(site, "AUD-1")
    invalid = site.get("/audit", params={"limit": "many"})
    assert invalid.status_code == 422 and invalid.headers["content-type"].startswith("text/html")
    assert "(check: limit)" in invalid.text and '<a href="/">' in invalid.text
    unknown = site.get("/permissions/CP-404/print")
    assert unknown.status_code == 404 and "CP-404" in unknown.text and "<h1>Not found</h1>" in unknown.text
    api = site.get("/api/v1/permissions/CP-404")
    assert api.status_code == 404 and api.json()["type"].endswith("/not-found")
    api_invalid = site.get("/api/v1/audit", params={"limit": "many"})
    assert api_invalid.status_code == 422 and api_invalid.json()["errors"]


def test_a_crash_on_a_page_is_a_page_and_on_the_api_a_problem(
    site: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postguard.registry.service import Registry

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    _sign_in(site, "AUD-1")
    monkeypatch.setattr(Registry, "computers", broken)
    crashed = site.get("/registry")
    assert crashed.status_code == 500 and "Something went wrong" in crashed.text
    assert "secret internals" not in crashed.text
    api = site.get("/api/v1/devices")
    assert api.status_code == 500 and api.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in api.text


def test_migration_0010_copies_the_active_computers_addresses(database_url: str) -> None:
    from postguard.registry.db import Database

    db = Database(database_url, create=True)
    db.upgrade("0009")
    insert = sa.text(
        "INSERT INTO computer (asset_tag, hostname, addresses, on_police_network, active, created_at, updated_at)"
        " VALUES (:t, '', :a, true, :active, '2026-01-01', '2026-01-01')"
    )
    with db.engine.begin() as conn:
        conn.execute(insert, {"t": "PC-A", "a": json.dumps(["10.1.0.1", "10.2.0.7/24"]), "active": True})
        conn.execute(
            insert, {"t": "PC-B", "a": json.dumps(["10.1.0.1"]), "active": True}
        )  # shared: first keeps it
        conn.execute(insert, {"t": "PC-C", "a": json.dumps(["10.3.0.1"]), "active": False})  # retired
    db.upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.asset_tag, a.address FROM computer_address a JOIN computer c ON c.id = a.computer_id"
                " ORDER BY a.address"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("PC-A", "10.1.0.1"), ("PC-A", "10.2.0.0/24")]
    db.engine.dispose()


def test_the_cli_and_the_api_take_cidr_ranges(
    site: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from postguard.cli.app import app

    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    runner = CliRunner()
    made = runner.invoke(
        app, ["device", "add-computer", "PC-CLI", "--address", "10.50.0.9/16", "--actor", "IT-1"]
    )
    assert made.exit_code == 0, made.output
    clash = runner.invoke(
        app, ["device", "add-computer", "PC-CLI2", "--address", "10.50.3.3", "--actor", "IT-1"]
    )
    assert clash.exit_code != 0 and "PC-CLI" in clash.output
    assert next(c for c in world.registry.computers() if c["asset_tag"] == "PC-CLI")["addresses"] == [
        "10.50.0.0/16"
    ]
    session = site.post("/api/v1/session", json={"service_number": "IT-1", "password": "password-of-IT-1"})
    csrf = {"X-CSRF-Token": session.json()["csrf_token"]}
    api = site.post(
        "/api/v1/devices/computers", json={"asset_tag": "PC-API", "addresses": ["10.60.0.0/24"]}, headers=csrf
    )
    assert api.status_code == 201, api.text
    overlap = site.post(
        "/api/v1/devices/computers",
        json={"asset_tag": "PC-API2", "addresses": ["10.60.0.128/25"]},
        headers=csrf,
    )
    assert overlap.status_code == 409 and overlap.json()["type"].endswith("/conflict")
    bad = site.post(
        "/api/v1/devices/computers",
        json={"asset_tag": "PC-API3", "addresses": ["10.60.0.0/40"]},
        headers=csrf,
    )
    assert bad.status_code == 422


def test_the_packs_service_number_form_is_the_registrys(world: World) -> None:
    from postguard.policy.schema import Governance
    from postguard.registry.service import Registry

    strict = Registry(world.db, governance=Governance(service_number=r"^\d{4}$"))
    with pytest.raises(ValidationError, match=r"\^\\d\{4\}\$"):
        strict.add_member("IT-1", service_number="PC-12", name="Not Four Digits")
    assert strict.add_member("IT-1", service_number="1234", name="Four Digits").service_number == "1234"
    with pytest.raises(ValueError, match="regular expression"):
        Governance(service_number="([unclosed")
    empty = Registry(world.db, governance=Governance())
    with pytest.raises(ValidationError, match="service number"):
        empty.bootstrap(service_number="lower", name="Nobody")
