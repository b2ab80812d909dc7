"""Reading drafts: one draft with its reviews, lists, the review queue, counts by state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.errors import NotFoundError
from postguard.registry.models import Draft, Member, Review
from postguard.registry.service import Registry
from postguard.registry.values import iso
from postguard.workflow.disputes import dispute_dict, disputes_of
from postguard.workflow.states import STATES

__all__ = ["DraftQueries", "draft_dict", "find_draft"]


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
