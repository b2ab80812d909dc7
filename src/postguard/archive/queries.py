"""Reading the archive: filtered, paginated lists of archived posts, and one post with its versions.

What the archive pages and ``/api/v1/archive`` read (issue 14). Everything is
filtered, counted and paged in SQL, newest first (``posted_at``, then ``id``,
both descending, so that posts made in the same second keep one order). Paging
is by offset: simple links a person can follow and share; an offset past
:data:`MAX_OFFSET` is refused with a word to narrow the list, so that no request
makes the database walk the whole archive.

Nothing here writes: the archive is written by the watch, by publishing and by
imports (:mod:`postguard.archive.store`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from postguard.errors import NotFoundError, ValidationError
from postguard.registry.models import ArchivedPost, Draft, PostVersion, Publication
from postguard.registry.service import Registry
from postguard.registry.values import iso, like_anywhere

__all__ = [
    "MAX_OFFSET",
    "MAX_SIZE",
    "PAGE_SIZE",
    "SOURCES",
    "ArchiveFilter",
    "Page",
    "accounts",
    "find_posts",
    "get_post",
    "media_hex",
    "platforms",
    "post_dict",
    "version_dict",
]

#: How many posts a page of the list shows, unless asked otherwise.
PAGE_SIZE = 25
#: The most posts one page may hold (the API's ``size``).
MAX_SIZE = 200
#: The deepest row a page may start at: past it, the list must be narrowed (dates, account...).
MAX_OFFSET = 10_000
#: Where an archived post came from: seen on an account, published by postguard, or imported.
SOURCES = ("watch", "published", "import")
#: The largest id a post can have (the column is a 32-bit integer on PostgreSQL).
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class ArchiveFilter:
    """What a list of archived posts is narrowed to; every field is optional ("" or None: any).

    ``account`` is ``platform:handle`` as the archive names it; ``platform`` a platform's
    name (``mastodon``...); ``source`` one of :data:`SOURCES`; ``clause`` a clause the check
    made at the time found (a clause's parent, ``A.iii``, finds its parts, ``A.iii.guilt``).
    ``text`` is searched (case-insensitively for ASCII, its ``%`` and ``_`` taken literally)
    in the post as it stands and in every earlier version, so that a post edited or deleted
    since is still found by what it once said. ``since`` and ``until``
    (inclusive, UTC days) bound when it was posted. ``outside_workflow``, ``edited`` and
    ``deleted``: True (only those), False (only the others) or None (either).
    """

    account: str = ""
    platform: str = ""
    source: str = ""
    outside_workflow: bool | None = None
    clause: str = ""
    text: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    edited: bool | None = None
    deleted: bool | None = None
    page: int = 1
    size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        for name in ("account", "platform", "source", "clause", "text"):
            if "\0" in getattr(self, name):  # PostgreSQL takes no NUL in a text, not even to compare
                raise ValidationError(f"{name} may not contain a NUL character (\\0).")
        if self.source and self.source not in SOURCES:
            raise ValidationError(f"source must be one of {', '.join(SOURCES)}.")
        if self.since and self.until and self.since > self.until:
            raise ValidationError("the date 'from' is after the date 'to'.")
        if self.page < 1:
            raise ValidationError("page must be 1 or more.")
        if not 1 <= self.size <= MAX_SIZE:
            raise ValidationError(f"size must be between 1 and {MAX_SIZE}.")
        if (self.page - 1) * self.size > MAX_OFFSET:
            raise ValidationError(
                f"page {self.page} starts past the first {MAX_OFFSET:,} posts: narrow the list "
                "(by dates, account or text) instead of paging so far."
            )


@dataclass(frozen=True)
class Page:
    """One page of a filtered list: its rows, how many match in all, and which page it is."""

    rows: list[dict[str, Any]]
    total: int
    page: int = 1
    size: int = PAGE_SIZE
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, -(-self.total // self.size)))


def _filtered(query: Select[Any], wanted: ArchiveFilter) -> Select[Any]:
    """``query`` (over :class:`ArchivedPost`) narrowed in SQL to what ``wanted`` asks for."""
    if wanted.text.strip():
        pattern = like_anywhere(wanted.text.strip().lower())
        query = query.where(
            or_(
                func.lower(ArchivedPost.text).like(pattern, escape="\\"),
                ArchivedPost.id.in_(
                    select(PostVersion.post_id).where(func.lower(PostVersion.text).like(pattern, escape="\\"))
                ),
            )
        )
    if wanted.account.strip():
        query = query.where(ArchivedPost.account == wanted.account.strip())
    if wanted.platform.strip():
        query = query.where(ArchivedPost.platform == wanted.platform.strip().lower())
    if wanted.source:
        query = query.where(ArchivedPost.source == wanted.source)
    if wanted.outside_workflow is not None:
        query = query.where(ArchivedPost.outside_workflow.is_(wanted.outside_workflow))
    if wanted.clause.strip():
        clause = wanted.clause.strip()
        query = query.where(
            or_(
                # the clause itself, and its parts (A.iii finds A.iii.guilt)
                ArchivedPost.clauses.like(like_anywhere(f" {clause} "), escape="\\"),
                ArchivedPost.clauses.like(like_anywhere(f" {clause}."), escape="\\"),
            )
        )
    if wanted.since:
        query = query.where(ArchivedPost.posted_at >= dt.datetime.combine(wanted.since, dt.time(), dt.UTC))
    if wanted.until:
        query = query.where(
            ArchivedPost.posted_at
            < dt.datetime.combine(wanted.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        )
    if wanted.edited is not None:
        edited = ArchivedPost.edited_at.is_not(None)
        query = query.where(edited if wanted.edited else ArchivedPost.edited_at.is_(None))
    if wanted.deleted is not None:
        deleted = ArchivedPost.deleted_at.is_not(None)
        query = query.where(deleted if wanted.deleted else ArchivedPost.deleted_at.is_(None))
    return query


def media_hex(item: object) -> str:
    """The SHA-256 (64 hex digits, lower case) a media entry names, or "" when it names none.

    Entries are kept as ``{"sha256": ..., ...}``, the digest bare or as a media-store
    reference (``sha256:HEX``), or with the reference alone (``{"ref": "sha256:HEX"}``);
    anything else is not trusted as a file's name.
    """
    value = (item.get("sha256") or item.get("ref")) if isinstance(item, dict) else None
    if not isinstance(value, str):
        return ""
    digest = value.strip().lower().removeprefix("sha256:")
    return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else ""


def _media(items: object) -> list[dict[str, Any]]:
    """The media entries of a post or version, as the pages and the API show them."""
    if not isinstance(items, list):
        return []
    return [
        {
            "sha256": media_hex(item),
            "content_type": str(item.get("content_type") or ""),
            "filename": str(item.get("filename") or ""),
            "url": str(item.get("url") or ""),
        }
        for item in items
        if isinstance(item, dict)
    ]


def post_dict(row: ArchivedPost) -> dict[str, Any]:
    """One archived post as the list and the API show it (its latest text and media)."""
    return {
        "id": row.id,
        "platform": row.platform,
        "account": row.account,
        "platform_id": row.platform_id,
        "url": row.url,
        "text": row.text,
        "media": _media(row.media),
        "posted_at": iso(row.posted_at),
        "first_seen_at": iso(row.first_seen_at),
        "updated_at": iso(row.updated_at),
        "edited_at": iso(row.edited_at),
        "deleted_at": iso(row.deleted_at),
        "edited": row.edited_at is not None,
        "deleted": row.deleted_at is not None,
        "source": row.source,
        "outside_workflow": bool(row.outside_workflow),
        "decision": row.decision or None,
        "clauses": row.clauses.split(),
        "policy": row.policy_version or None,
        "retain_until": iso(row.retain_until),
    }


def version_dict(v: PostVersion) -> dict[str, Any]:
    """One version of a post, with the check made of it at the time."""
    report = v.report if isinstance(v.report, dict) else {}
    return {
        "number": v.number,
        "kind": v.kind,
        "text": v.text,
        "media": _media(v.media),
        "at": iso(v.at),
        "seen_at": iso(v.seen_at),
        "decision": v.decision or report.get("decision") or None,
        "findings": list(report.get("findings") or []),
        "advice": list(report.get("advice") or []),
    }


def find_posts(registry: Registry, wanted: ArchiveFilter) -> Page:
    """One page of the archived posts ``wanted`` asks for, newest first (filtered and counted in SQL).

    A page past the last is answered with the last, as the lists of drafts do.
    """
    with registry.db.reading() as session:
        query = _filtered(select(ArchivedPost), wanted)
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        pages = max(1, -(-total // wanted.size))
        page = min(wanted.page, pages)
        rows = session.scalars(
            query.order_by(ArchivedPost.posted_at.desc(), ArchivedPost.id.desc())
            .limit(wanted.size)
            .offset((page - 1) * wanted.size)
        ).all()
        return Page([post_dict(r) for r in rows], total, page, wanted.size)


def _draft_code(session: Session, publication_id: int | None) -> str | None:
    """The draft a publication sent (its code), for a post postguard published."""
    if publication_id is None:
        return None
    return session.scalar(
        select(Draft.code)
        .join(Publication, Publication.draft_id == Draft.id)
        .where(Publication.id == publication_id)
    )


def get_post(registry: Registry, post_id: int) -> dict[str, Any]:
    """Archived post ``post_id`` with the check made at the time and every version, oldest first.

    :class:`NotFoundError` when there is none.
    """
    if not 0 < post_id <= _MAX_ID:  # never asked of the database: PostgreSQL refuses larger integers
        raise NotFoundError(f"No archived post has id {post_id}.")
    with registry.db.reading() as session:
        row = session.get(ArchivedPost, post_id)
        if row is None:
            raise NotFoundError(f"No archived post has id {post_id}.")
        report = row.report if isinstance(row.report, dict) else {}
        versions = session.scalars(
            select(PostVersion).where(PostVersion.post_id == row.id).order_by(PostVersion.number)
        ).all()
        return {
            **post_dict(row),
            "findings": list(report.get("findings") or []),
            "advice": list(report.get("advice") or []),
            "draft": _draft_code(session, row.publication_id),
            "versions": [version_dict(v) for v in versions],
        }


def accounts(registry: Registry) -> list[str]:
    """Every account the archive holds posts of (``platform:handle``), in order."""
    with registry.db.reading() as session:
        return [
            str(a)
            for a in session.scalars(select(ArchivedPost.account).distinct().order_by(ArchivedPost.account))
        ]


def platforms(registry: Registry) -> list[str]:
    """Every platform the archive holds posts of, in order."""
    with registry.db.reading() as session:
        return [
            str(p)
            for p in session.scalars(select(ArchivedPost.platform).distinct().order_by(ArchivedPost.platform))
        ]
