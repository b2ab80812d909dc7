"""The registry on SQLite and PostgreSQL: records, roles, refusals and bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import World
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from postguard.registry.db import Database
from postguard.registry.models import Member


def _count(world: World, table: str) -> int:
    with world.db.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _last_entry(world: World) -> sa.Row[tuple[object, ...]]:
    with world.db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM audit_entry ORDER BY seq DESC LIMIT 1")).one()


def test_every_write_is_audited_with_actor_origin_and_clause(world: World) -> None:
    before = _count(world, "audit_entry")
    world.registry.add_member("IT-1", service_number="4711", name="Jo Bloggs", rank="Sergeant", roles="pio")
    entry = _last_entry(world)
    assert (entry.actor, entry.action, entry.target, entry.origin) == (
        "IT-1",
        "member.add",
        "member:4711",
        "test",
    )
    world.registry.add_computer("IT-1", asset_tag="PC-9", addresses=["10.0.0.9"])
    assert _last_entry(world).clause == "B"
    assert _count(world, "audit_entry") == before + 2


def test_member_change_and_revoke(world: World) -> None:
    member = world.registry.change_member("IT-1", "PIO-1", rank="Constable", roles="pio,auditor")
    assert member.rank == "Constable" and member.roles == ["auditor", "pio"]
    world.registry.change_member("IT-1", "REV-1", active=False)
    assert _last_entry(world).action == "member.revoke"
    with pytest.raises(AccessDeniedError, match="not an active member"):
        world.registry.add_computer("REV-1", asset_tag="PC-X")


@pytest.mark.parametrize(
    ("actor", "action"),
    [
        ("PIO-1", lambda w: w.registry.add_computer("PIO-1", asset_tag="PC-2")),
        ("CP-1", lambda w: w.registry.add_member("CP-1", service_number="9", name="N")),
        ("AUD-1", lambda w: w.registry.add_device("AUD-1", identifier="D-2", owner="PIO-1")),
        (
            "IT-1",
            lambda w: w.grants.permit(
                "IT-1",
                w.commissioner_key,
                kind="personal-device",
                member="PIO-1",
                device="IMEI-1",
                reason="r",
                text_="t",
            ),
        ),
        ("NOBODY", lambda w: w.registry.add_account("NOBODY", platform="x", handle="@police")),
        (None, lambda w: w.registry.add_account(None, platform="x", handle="@police")),
    ],
)
def test_a_member_acting_beyond_their_role_is_refused_and_audited(
    world: World, actor: str | None, action
) -> None:  # type: ignore[no-untyped-def]
    rows = {
        t: _count(world, t)
        for t in ("member", "computer", "personal_device", "permission", "official_account")
    }
    entries = _count(world, "audit_entry")
    with pytest.raises(AccessDeniedError):
        action(world)
    assert {t: _count(world, t) for t in rows} == rows  # nothing written
    assert _count(world, "audit_entry") == entries + 1  # but the refusal is recorded
    denied = _last_entry(world)
    assert denied.action == "denied" and denied.actor == (actor or "(none)")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w: w.registry.add_device("IT-1", identifier="D-9", owner="NOPE"), NotFoundError, "NOPE"),
        (
            lambda w: w.registry.change_member("IT-1", "NOPE", rank="x"),
            NotFoundError,
            "service number 'NOPE'",
        ),
        (
            lambda w: w.registry.add_member("IT-1", service_number="PIO-1", name="Dup"),
            ConflictError,
            "exists",
        ),
        (
            lambda w: w.registry.add_member("IT-1", service_number="7", name="R", roles="pilot"),
            ValidationError,
            "unknown role",
        ),
        (
            lambda w: w.registry.add_computer("IT-1", asset_tag="PC-3", addresses=["10.0.0.300"]),
            ValidationError,
            "not an IPv4",
        ),
        (
            lambda w: w.grants.authorise(
                "IT-1", member="PIO-1", computer="PC-1", scope="all", reason="r", valid_from="next week"
            ),
            ValidationError,
            "is not a date",
        ),
        (
            lambda w: w.grants.authorise(
                "IT-1",
                member="PIO-1",
                computer="PC-1",
                scope="all",
                reason="r",
                valid_from="2027-01-02",
                valid_until="2027-01-01",
            ),
            ValidationError,
            "not after",
        ),
        (
            lambda w: w.grants.authorise("IT-1", member="PIO-1", computer="PC-404", scope="all", reason="r"),
            NotFoundError,
            "PC-404",
        ),
        (lambda w: w.grants.revoke_permission("CP-1", "CP-2099-0001", "r"), NotFoundError, "CP-2099-0001"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(world: World, call, error, message: str) -> None:  # type: ignore[no-untyped-def]
    tables = ("member", "computer", "personal_device", "authorisation", "permission", "audit_entry")
    before = {t: _count(world, t) for t in tables}
    with pytest.raises(error, match=message):
        call(world)
    assert {t: _count(world, t) for t in tables} == before


def test_bootstrap_only_on_an_empty_registry(world: World) -> None:
    with pytest.raises(ConflictError, match="has members already"):
        world.registry.bootstrap(service_number="X", name="Y")


def test_authorisation_change_and_revoke(world: World) -> None:
    row = world.grants.authorise(
        "CP-1",
        member=None,
        computer="PC-1",
        scope="category",
        target="Micro-Blogging",
        reason="press office",
        valid_until="2027-06-30",
    )
    assert row.code == "AU-0001" and row.target == "micro-blogging" and row.member is None
    changed = world.grants.change_authorisation("IT-1", row.code, valid_until="2027-12-31")
    assert (
        changed.valid_until is not None
        and changed.valid_until.year == 2027
        and changed.valid_until.month == 12
    )
    world.grants.revoke_authorisation("IT-1", row.code, "no longer needed")
    with pytest.raises(ValidationError, match="revoked already"):
        world.grants.revoke_authorisation("IT-1", row.code, "again")
    assert world.grants.get_authorisation(row.code)["revoked_reason"] == "no longer needed"


def test_a_database_not_at_head_is_refused_with_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'old.db'}", create=True)
    with pytest.raises(Exception, match=r"is empty.*postguard db upgrade"):
        db.require_current()
    db.upgrade("0001")
    with pytest.raises(Exception, match="revision 0001"):
        db.require_current()


def test_an_older_database_migrates_without_loss(database_url: str) -> None:
    db = Database(database_url, create=True)
    db.upgrade("0001")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO member (service_number, name, rank, unit, roles, active, created_at, updated_at) "
                "VALUES ('77', 'Old Timer', 'Sgt', 'Traffic', '[\"officer\"]', true, :t, :t)"
            ),
            {"t": "2024-01-01 00:00:00+00:00"},
        )
        conn.execute(
            sa.text(
                "INSERT INTO computer (asset_tag, hostname, addresses, active, created_at, updated_at) "
                "VALUES ('PC-OLD', 'old', '[\"10.1.1.1\"]', true, :t, :t)"
            ),
            {"t": "2024-01-01 00:00:00+00:00"},
        )
    before, after = db.upgrade()
    assert (before, after) == ("0001", db.head_revision())
    with db.session() as session:
        member = session.scalar(sa.select(Member).where(Member.service_number == "77"))
        assert member is not None and member.name == "Old Timer" and member.roles == ["officer"]
        assert session.execute(sa.text("SELECT on_police_network, addresses FROM computer")).one()[0] in (
            1,
            True,
        )
    db.engine.dispose()
