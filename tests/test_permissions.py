"""Written permissions: honoured only when genuinely signed, in force and not revoked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import PASSPHRASES, World
from postguard.checks.types import Post
from postguard.errors import SigningKeyError, ValidationError
from postguard.keys import init_key, load_public, load_signing
from postguard.registry.documents import export_document, render_html, verify_document
from postguard.registry.permissions import post_sha256


def _permit(world: World, **overrides: object) -> str:
    args: dict[str, object] = {
        "kind": "personal-device",
        "member": "PIO-1",
        "device": "IMEI-1",
        "reason": "on-call PIO",
        "text_": "May use the iPhone for the X account.",
    }
    args.update(overrides)
    return world.grants.permit("CP-1", world.commissioner_key, **args).code  # type: ignore[arg-type]


def _sql(world: World, statement: str, **params: object) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_a_signed_permission_in_force_is_honoured(world: World) -> None:
    code = _permit(world)
    assert code.startswith(f"CP-{dt.datetime.now(dt.UTC).year}-")
    verdict = world.grants.honoured(code)
    assert verdict.valid and "signed by CP-1" in verdict.reason


def test_a_row_edited_by_hand_is_not_honoured(world: World) -> None:
    code = _permit(world, valid_until="2027-01-31")
    assert world.grants.honoured(code).valid
    _sql(world, "UPDATE permission SET valid_until = NULL WHERE code = :c", c=code)  # "until revoked"
    verdict = world.grants.honoured(code)
    assert not verdict.valid and "edited outside postguard" in verdict.reason


def test_a_row_forged_by_hand_is_not_honoured(world: World) -> None:
    code = _permit(world)
    _sql(
        world,
        "INSERT INTO permission (code, kind, member_id, device_id, post_ref, valid_from, valid_until, "
        "reason, text, issued_by_id, issued_at, key_id, signature, revoked_reason) "
        "SELECT 'CP-2026-9999', kind, member_id, device_id, post_ref, valid_from, NULL, reason, text, "
        "issued_by_id, issued_at, key_id, signature, '' FROM permission WHERE code = :c",
        c=code,
    )
    verdict = world.grants.honoured("CP-2026-9999")
    assert not verdict.valid and "signature does not match" in verdict.reason


def test_expired_not_yet_valid_and_revoked_are_not_honoured(world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = _permit(world, valid_from=now - dt.timedelta(days=10), valid_until=now - dt.timedelta(days=1))
    assert "expired" in world.grants.honoured(expired).reason
    future = _permit(world, valid_from=now + dt.timedelta(days=1))
    assert "not in force until" in world.grants.honoured(future).reason
    revoked = _permit(world)
    world.grants.revoke_permission("CP-1", revoked, "device lost")
    assert world.grants.honoured(revoked).reason.startswith("revoked")
    # Un-revoking by hand does not help: the revocation stays in the audit trail.
    _sql(world, "UPDATE permission SET revoked_at = NULL WHERE code = :c", c=revoked)
    assert world.grants.honoured(revoked).reason.startswith("revoked")


def test_a_permission_signed_by_another_key_is_not_honoured(world: World, tmp_path: Path) -> None:
    other_dir = tmp_path / "other"
    init_key(other_dir, "commissioner", "another long passphrase")
    impostor = load_signing(other_dir, "commissioner", "another long passphrase")
    with pytest.raises(ValidationError, match="not the commissioner key"):
        world.grants.permit(
            "CP-1", impostor, kind="personal-device", member="PIO-1", device="IMEI-1", reason="r", text_="t"
        )
    code = _permit(world)
    verdict = world.grants.honoured(code, trusted=load_public(other_dir, "commissioner"))
    assert not verdict.valid and "not the commissioner key" in verdict.reason


def test_wrong_passphrase_and_missing_key_are_clear(world: World, tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match=r"passphrase .* is wrong"):
        load_signing(world.keys_dir, "commissioner", "not the passphrase")
    with pytest.raises(SigningKeyError, match="an administrator creates the commissioner key pair"):
        load_signing(tmp_path / "none", "commissioner", PASSPHRASES["commissioner"])
    with pytest.raises(SigningKeyError, match="exists already"):
        init_key(world.keys_dir, "commissioner", "a brand new passphrase")
    with pytest.raises(SigningKeyError, match="at least 12"):
        init_key(tmp_path / "k", "department", "short")


def test_change_resigns_and_keeps_it_honoured(world: World) -> None:
    code = _permit(world, valid_until="2027-01-31")
    row = world.grants.change_permission("CP-1", world.commissioner_key, code, valid_until="2027-03-31")
    assert row.valid_until is not None and row.valid_until.month == 3
    assert world.grants.honoured(code).valid


def test_a_confidential_release_is_honoured_only_for_its_member_post_kind_and_dates(world: World) -> None:
    """Issue 11, item 3: a release issued for another member and another post approved a draft."""
    post = Post("The victim, Shanice Morgan, is recovering.")
    digest = post_sha256(post)
    for_draft = _permit(world, kind="confidential-release", member="PIO-1", device=None, post="D-00017")
    mine = world.grants.resolver(member="PIO-1", draft="D-00017")
    assert mine.check_permission(for_draft, post) == (True, world.grants.honoured(for_draft).reason)
    ok, why = world.grants.resolver(member="PIO-1", draft="D-00018").check_permission(for_draft, post)
    assert not ok and "another post (D-00017)" in why
    ok, why = world.grants.resolver(member="REV-1", draft="D-00017").check_permission(for_draft, post)
    assert not ok and "issued for PIO-1, not REV-1" in why
    by_text = _permit(world, kind="confidential-release", member=None, device=None, post=f"sha256:{digest}")
    assert world.grants.resolver(member="REV-1").check_permission(by_text, post)[0]
    changed = Post("The victim, Shanice Morgan, is recovering at home.")
    assert not world.grants.resolver(member="REV-1").check_permission(by_text, changed)[0]
    # The registry's own resolver (no member, no draft) honours only a release scoped to the text.
    assert world.grants.check_permission(by_text, post)[0]
    assert not world.grants.check_permission(for_draft, post)[0]
    device_permit = _permit(world)
    ok, why = mine.check_permission(device_permit, post)
    assert not ok and "not a confidential-release" in why
    later = _permit(
        world,
        kind="confidential-release",
        member="PIO-1",
        device=None,
        post="D-00017",
        valid_from=(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),
    )
    ok, why = mine.check_permission(later, post)
    assert not ok and "not in force until" in why
    world.grants.revoke_permission("CP-1", for_draft, "the family withdrew consent")
    assert not mine.check_permission(for_draft, post)[0]
    with pytest.raises(ValidationError, match="names the post it releases"):
        _permit(world, kind="confidential-release", member="PIO-1", device=None)


def test_exported_document_verifies_offline_and_catches_alteration(world: World) -> None:
    code = _permit(world)
    row, _ = world.grants.get_permission(code)
    public = load_public(world.keys_dir, "commissioner")
    document = export_document(row, public)
    raw = json.dumps(document).encode()
    assert verify_document(raw, public).valid
    document["payload"]["text"] = "May use any phone."
    check = verify_document(json.dumps(document).encode(), public)
    assert not check.valid and "altered or forged" in check.reason
    with pytest.raises(ValidationError, match="not a signed permission"):
        verify_document(b"\xff\xfe not json", public)
    html = render_html(export_document(row, public), "Commissioner of Police", "Lakeview PD")
    assert code in html and "Commissioner of Police" in html and "<script" not in html
