"""The archive keeps posts as records: versions for edits and deletions, the retention the pack sets,
and rules the database itself enforces (an edit of the database by hand cannot get round them)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from conftest import World
from postguard.archive.store import Seen, keep, mark_deleted
from postguard.checks import Checker
from postguard.checks.types import Context
from postguard.registry.models import ArchivedPost, PostVersion
from postguard.registry.values import utcnow

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
ACCOUNT = "mastodon:police"


def _seen(text: str, platform_id: str = "101", **extra: object) -> Seen:
    return Seen(
        "mastodon", ACCOUNT, platform_id, f"https://social.example/@police/{platform_id}", text, NOW, **extra
    )  # type: ignore[arg-type]


def _versions(world: World, post_id: int) -> list[tuple[int, str, str]]:
    with world.db.reading() as session:
        rows = session.scalars(
            sa.select(PostVersion).where(PostVersion.post_id == post_id).order_by(PostVersion.number)
        ).all()
        return [(v.number, v.kind, v.text) for v in rows]


def test_new_edit_unchanged_and_deletion_are_versions(world: World, checker: Checker) -> None:
    report = checker.check("The suspect is guilty and will go down for this.", Context())
    with world.db.session() as session:
        post, change = keep(
            session, _seen("Road closed on Main St."), source="watch", report=None, retention_days=30
        )
        assert change == "new"
        post_id = post.id
        assert post.retain_until == NOW + dt.timedelta(days=30)
    with world.db.session() as session:
        _, change = keep(
            session, _seen("Road closed on Main St."), source="watch", report=None, retention_days=30
        )
        assert change == "unchanged"
    edited_at = NOW + dt.timedelta(hours=1)
    with world.db.session() as session:
        post, change = keep(
            session,
            _seen("The suspect is guilty and will go down for this.", edited_at=edited_at),
            source="watch",
            report=report,
            retention_days=30,
        )
        assert change == "edited"
        assert post.decision == report.decision
        assert post.clauses.split() == sorted({f.clause for f in report.findings})
        assert post.edited_at == edited_at
    with world.db.session() as session:
        row = session.get(ArchivedPost, post_id)
        assert row is not None
        assert mark_deleted(session, row) is True
        assert mark_deleted(session, row) is False  # once
    assert _versions(world, post_id) == [
        (1, "original", "Road closed on Main St."),
        (2, "edit", "The suspect is guilty and will go down for this."),
        (3, "deletion", "The suspect is guilty and will go down for this."),
    ]
    with world.db.session() as session:  # a deleted post seen again: the deletion stands
        _, change = keep(session, _seen("Back again"), source="watch", report=None, retention_days=30)
        assert change == "unchanged"


def _post(world: World, *, retain_days: int) -> int:
    with world.db.session() as session:
        seen = Seen("mastodon", ACCOUNT, f"p{retain_days}", "", "A post", utcnow() - dt.timedelta(days=10))
        post, _ = keep(session, seen, source="import", report=None, retention_days=retain_days)
        return post.id


def _sql(world: World, statement: str, **params: object) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_the_database_keeps_a_post_until_its_retention_ends(world: World) -> None:
    kept = _post(world, retain_days=3650)
    with pytest.raises(DBAPIError, match="kept as long as its post"):
        _sql(world, "DELETE FROM archived_post_version WHERE post_id = :id", id=kept)
    with pytest.raises(DBAPIError, match="kept until"):
        _sql(world, "DELETE FROM archived_post WHERE id = :id", id=kept)
    with pytest.raises(DBAPIError, match="cannot be shortened"):
        _sql(world, "UPDATE archived_post SET retain_until = :t WHERE id = :id", t=utcnow(), id=kept)
    expired = _post(world, retain_days=1)  # posted 10 days ago, kept for 1: past its retention
    _sql(world, "DELETE FROM archived_post_version WHERE post_id = :id", id=expired)
    _sql(world, "DELETE FROM archived_post WHERE id = :id", id=expired)
    with world.db.reading() as session:
        assert session.get(ArchivedPost, kept) is not None
        assert session.get(ArchivedPost, expired) is None


def test_a_version_is_never_changed(world: World) -> None:
    kept = _post(world, retain_days=3650)
    with pytest.raises(DBAPIError, match="never changed"):
        _sql(
            world, "UPDATE archived_post_version SET text = 'rewritten history' WHERE post_id = :id", id=kept
        )
    assert _versions(world, kept) == [(1, "original", "A post")]


def test_the_pack_sets_the_retention(checker: Checker) -> None:
    assert checker.pack.archive.retention_days == 2555  # seven years, as the shipped pack says
