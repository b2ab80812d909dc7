"""Reading drafts: one draft with its reviews, lists, the review queue, counts by state."""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from postguard.errors import NotFoundError, ValidationError
from postguard.registry.models import Draft, DraftSubmission, Member, OfficialAccount, Review
from postguard.registry.service import Registry
from postguard.registry.values import iso, like_anywhere
from postguard.workflow.disputes import dispute_dict, disputes_of
from postguard.workflow.states import STATES

__all__ = ["PAGE_SIZE", "DraftFilter", "DraftPage", "DraftQueries", "draft_dict", "find_draft"]

#: How many drafts a page of a list shows.
PAGE_SIZE = 25


@dataclass(frozen=True)
class DraftFilter:
    """What a list of drafts is narrowed to; every field is optional ("" or None: any).

    ``text`` is searched in the post and its id; ``author`` is a service number;
    ``account`` is ``platform:handle``; ``clause`` a clause of its findings;
    ``since`` and ``until`` (inclusive, UTC days) bound the date the list is
    about: when it was written (drafts) or submitted (the review queue).
    """

    text: str = ""
    state: str = ""
    author: str = ""
    account: str = ""
    clause: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.state and self.state not in STATES:
            raise ValidationError(f"state must be one of {', '.join(STATES)}.")
        if self.since and self.until and self.since > self.until:
            raise ValidationError("the date 'from' is after the date 'to'.")


@dataclass(frozen=True)
class DraftPage:
    """One page of a filtered list: its rows, how many match in all, and which page it is."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int = PAGE_SIZE
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, -(-self.total // self.size)))


def _filtered(query: Select[Any], wanted: DraftFilter, dated: Any) -> Select[Any]:
    """``query`` narrowed in SQL to what ``wanted`` asks for; ``dated`` is the date column."""
    if wanted.text.strip():
        pattern = like_anywhere(wanted.text.strip().lower())
        query = query.where(
            or_(
                func.lower(Draft.text).like(pattern, escape="\\"),
                func.lower(Draft.code).like(pattern, escape="\\"),
            )
        )
    if wanted.state:
        query = query.where(Draft.state == wanted.state)
    if wanted.author:
        query = query.where(
            Draft.author_id.in_(select(Member.id).where(Member.service_number == wanted.author))
        )
    if wanted.account:
        platform, _, handle = wanted.account.partition(":")
        query = query.where(
            Draft.account_id.in_(
                select(OfficialAccount.id).where(
                    OfficialAccount.platform == platform, OfficialAccount.handle == handle
                )
            )
        )
    if wanted.clause.strip():
        query = query.where(Draft.clauses.like(like_anywhere(f" {wanted.clause.strip()} "), escape="\\"))
    if wanted.since:
        query = query.where(dated >= dt.datetime.combine(wanted.since, dt.time(), dt.UTC))
    if wanted.until:
        query = query.where(
            dated < dt.datetime.combine(wanted.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        )
    return query


def _page_of(session: Session, query: Select[Any], page: int, extra: Any = None) -> DraftPage:
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    drafts = session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    rows = [draft_dict(d) if extra is None else {**draft_dict(d), **extra(d)} for d in drafts]
    return DraftPage(rows, total, page)


def draft_dict(d: Draft) -> dict[str, Any]:
    return {
        "id": d.code,
        "author": d.author.service_number,
        "account": f"{d.account.platform}:{d.account.handle}" if d.account else None,
        "state": d.state,
        "text": d.text,
        "context": d.context,
        "device": d.device or None,
        "decision": d.report.get("decision"),
        "findings": d.report.get("findings", []),
        "advice": d.report.get("advice", []),
        "policy": d.policy_version,
        "approvals_needed": d.approvals_needed,
        "submitted_at": iso(d.submitted_at),
        "expires_at": iso(d.expires_at),
        "scheduled_for": iso(d.scheduled_for),
        "updated_at": iso(d.updated_at),
        "created_at": iso(d.created_at),
    }


def find_draft(session: Session, code: str) -> Draft:
    draft = session.scalar(select(Draft).where(Draft.code == code))
    if draft is None:
        raise NotFoundError(f"No draft has id '{code}'.")
    return draft


class DraftQueries:
    """What the pages, the API and the CLI read about drafts."""

    registry: Registry

    def get(self, code: str) -> dict[str, Any]:
        with self.registry.db.reading() as session:
            draft = find_draft(session, code)
            reviews = session.scalars(select(Review).where(Review.draft_id == draft.id).order_by(Review.id))
            return {
                **draft_dict(draft),
                "reviews": [
                    {
                        "reviewer": r.reviewer.service_number,
                        "action": r.action,
                        "comment": r.comment,
                        "permission": r.permission or None,
                        "at": iso(r.at),
                    }
                    for r in reviews
                ],
                "disputes": [dispute_dict(d) for d in disputes_of(session, draft.id)],
            }

    def counts(self) -> dict[str, int]:
        """How many drafts are in each state (every state listed, in workflow order)."""
        with self.registry.db.reading() as session:
            rows = session.execute(select(Draft.state, func.count()).group_by(Draft.state)).all()
            found = {str(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in STATES}

    def queue(self, reviewer: str) -> list[dict[str, Any]]:
        """Submissions ``reviewer`` may act on (not their own, not yet approved by them), oldest first."""
        with self.registry.db.reading() as session:
            me = self.registry.member(session, reviewer)
            drafts = session.scalars(
                select(Draft)
                .where(Draft.state == "submitted", Draft.author_id != me.id)
                .order_by(Draft.submitted_at, Draft.id)
            ).all()
            mine = set(
                session.scalars(
                    select(Review.draft_id).where(Review.reviewer_id == me.id, Review.action == "approve")
                )
            )
            return [{**draft_dict(d), "approved_by_me": d.id in mine} for d in drafts]

    def list(self, state: str | None = None, *, author: str | None = None) -> list[dict[str, Any]]:
        with self.registry.db.reading() as session:
            query = select(Draft).order_by(Draft.id)
            if author:
                query = query.join(Member, Draft.author_id == Member.id).where(
                    Member.service_number == author
                )
            if state:
                query = query.where(Draft.state == state)
            return [draft_dict(d) for d in session.scalars(query)]

    def find(self, wanted: DraftFilter, *, page: int = 1) -> DraftPage:
        """One page of the drafts ``wanted`` asks for, newest first (filtered and counted in SQL)."""
        with self.registry.db.reading() as session:
            query = _filtered(select(Draft), wanted, Draft.created_at).order_by(Draft.id.desc())
            return _page_of(session, query, page)

    def find_queue(self, reviewer: str, wanted: DraftFilter, *, page: int = 1) -> DraftPage:
        """One page of ``reviewer``'s review queue (as :meth:`queue`), narrowed by ``wanted``."""
        with self.registry.db.reading() as session:
            me = self.registry.member(session, reviewer)
            query = _filtered(
                select(Draft).where(Draft.state == "submitted", Draft.author_id != me.id),
                DraftFilter(**{**wanted.__dict__, "state": ""}),
                Draft.submitted_at,
            ).order_by(Draft.submitted_at, Draft.id)
            mine = set(
                session.scalars(
                    select(Review.draft_id).where(Review.reviewer_id == me.id, Review.action == "approve")
                )
            )
            return _page_of(session, query, page, lambda d: {"approved_by_me": d.id in mine})

    def submissions(self, code: str) -> builtins.list[dict[str, Any]]:
        """The text of each submission of draft ``code``, first to last."""
        with self.registry.db.reading() as session:
            draft = find_draft(session, code)
            rows = session.scalars(
                select(DraftSubmission)
                .where(DraftSubmission.draft_id == draft.id)
                .order_by(DraftSubmission.number)
            )
            return [
                {"number": r.number, "text": r.text, "device": r.device or None, "at": iso(r.at)}
                for r in rows
            ]
