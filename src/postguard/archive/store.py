"""Keeping posts as records: one :class:`ArchivedPost` per post, one :class:`PostVersion` per version.

Everything that adds to the archive goes through :func:`keep` and :func:`mark_deleted`: the
watch (posts read from an account), publishing (a post postguard made), and imports (a
platform's own export). A post is known by ``(platform, account, platform_id)``; seeing it
again with the same text and media changes nothing, seeing it changed adds an ``edit``
version, and its deletion adds a ``deletion`` version. Versions are never changed and a
post is kept until ``retain_until`` (the pack's ``archive.retention_days`` after it was
posted): the database's triggers refuse otherwise (migration 0012).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.checks.types import Report
from postguard.registry.models import ArchivedPost, PostVersion
from postguard.registry.values import utcnow

__all__ = ["Change", "Seen", "account_name", "keep", "mark_deleted", "report_fields"]

Change = Literal["new", "edited", "unchanged"]
Source = Literal["watch", "import", "published"]


def account_name(platform: str, handle: str) -> str:
    """How the archive names an account: ``platform:handle``."""
    return f"{platform}:{handle}"


@dataclass(frozen=True)
class Seen:
    """A post as it is now, ready to keep: ``media`` holds store refs (``{"sha256", ...}``)."""

    platform: str
    account: str
    platform_id: str
    url: str
    text: str
    posted_at: dt.datetime
    edited_at: dt.datetime | None = None
    media: tuple[dict[str, Any], ...] = field(default=())


def report_fields(report: Report | dict[str, Any] | None, policy_version: str = "") -> dict[str, Any]:
    """The columns an archived post (or version) keeps of the check made at the time: from a
    :class:`Report`, or a report already stored as a dict (a draft's, with its ``policy_version``)."""
    if report is None:
        return {"decision": "", "clauses": "", "report": {}, "policy_version": ""}
    if isinstance(report, dict):
        data = dict(report)
    else:
        data = report.to_dict(rewrites=True)
        policy_version = report.policy_version
    data.pop("id", None)
    found = sorted({str(f["clause"]) for f in data.get("findings", [])})
    return {
        "decision": str(data.get("decision", "")),
        "clauses": f" {' '.join(found)} " if found else "",
        "report": data,
        "policy_version": policy_version,
    }


def find(session: Session, platform: str, account: str, platform_id: str) -> ArchivedPost | None:
    return session.scalar(
        select(ArchivedPost).where(
            ArchivedPost.platform == platform,
            ArchivedPost.account == account,
            ArchivedPost.platform_id == platform_id,
        )
    )


def keep(
    session: Session,
    seen: Seen,
    *,
    source: Source,
    report: Report | dict[str, Any] | None,
    retention_days: int,
    policy_version: str = "",
    account_id: int | None = None,
    publication_id: int | None = None,
    outside_workflow: bool = False,
    now: dt.datetime | None = None,
) -> tuple[ArchivedPost, Change]:
    """Keep ``seen``: a new post, an edit of one kept already, or nothing new.

    An edit (its text or media differ from the latest version) adds an ``edit`` version
    and the check of the new text replaces the post's. A post seen again after it was
    marked deleted is left as it is (the deletion stands in the record).
    """
    now = now or utcnow()
    media = [dict(m) for m in seen.media]
    fields = report_fields(report, policy_version)
    post = find(session, seen.platform, seen.account, seen.platform_id)
    if post is None:
        post = ArchivedPost(
            account_id=account_id,
            platform=seen.platform,
            account=seen.account,
            platform_id=seen.platform_id,
            url=seen.url,
            text=seen.text,
            media=media,
            posted_at=seen.posted_at,
            first_seen_at=now,
            updated_at=now,
            edited_at=seen.edited_at,
            deleted_at=None,
            watched_at=now if source == "watch" else None,
            source=source,
            publication_id=publication_id,
            outside_workflow=outside_workflow,
            retain_until=seen.posted_at + dt.timedelta(days=retention_days),
            **fields,
        )
        session.add(post)
        session.flush()
        _version(session, post, 1, "original", seen.text, media, seen.posted_at, now, fields)
        return post, "new"
    if post.deleted_at is not None or (post.text == seen.text and _refs(post.media) == _refs(media)):
        if publication_id is not None and post.publication_id is None:
            post.publication_id, post.outside_workflow, post.updated_at = publication_id, False, now
        return post, "unchanged"
    number = _next_number(session, post)
    _version(session, post, number, "edit", seen.text, media, seen.edited_at or now, now, fields)
    post.text, post.media, post.edited_at, post.updated_at = seen.text, media, seen.edited_at or now, now
    post.url = seen.url or post.url
    for name, value in fields.items():
        setattr(post, name, value)
    return post, "edited"


def add_versions(
    session: Session, post: ArchivedPost, versions: list[Seen], *, now: dt.datetime | None = None
) -> int:
    """Keep edits the platform's history shows between the versions kept already (those
    made and replaced between two rounds of the watch); returns how many were added.

    ``versions`` is the platform's history, oldest first, its first item the original.
    Only the middle ones that are missing are added, as unchecked ``edit`` versions."""
    now = now or utcnow()
    kept = session.scalars(select(PostVersion.text).where(PostVersion.post_id == post.id)).all()
    added = 0
    for seen in versions[1:-1]:
        if seen.text in kept:
            continue
        number = _next_number(session, post)
        _version(session, post, number, "edit", seen.text, list(seen.media), seen.edited_at or now, now, {})
        added += 1
    return added


def mark_deleted(session: Session, post: ArchivedPost, *, at: dt.datetime | None = None) -> bool:
    """Record that ``post`` was deleted from the platform (False: it was recorded already)."""
    if post.deleted_at is not None:
        return False
    now = utcnow()
    at = at or now
    _version(session, post, _next_number(session, post), "deletion", post.text, list(post.media), at, now, {})
    post.deleted_at, post.updated_at = at, now
    return True


def _refs(media: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("sha256") or m.get("url") or "") for m in media]


def _next_number(session: Session, post: ArchivedPost) -> int:
    numbers = session.scalars(select(PostVersion.number).where(PostVersion.post_id == post.id)).all()
    return max(numbers, default=0) + 1


def _version(
    session: Session,
    post: ArchivedPost,
    number: int,
    kind: str,
    text: str,
    media: list[dict[str, Any]],
    at: dt.datetime,
    now: dt.datetime,
    fields: dict[str, Any],
) -> None:
    session.add(
        PostVersion(
            post_id=post.id,
            number=number,
            kind=kind,
            text=text,
            media=media,
            at=at,
            seen_at=now,
            decision=str(fields.get("decision", "")),
            report=fields.get("report") or {},
        )
    )
    session.flush()
