"""Drafts on their way to publication, each step checked, enforced and audited.

States::

    checked --submit--> submitted --approve (enough approvals)--> approved
       ^                    |  \\--return (with a comment)--> returned --edit/submit--^
       |                    \\--(not approved in time)--> expired
    edit (author only, in checked or returned)

Rules, all in force here and not in any route or command:

- only the author edits or submits, and no one approves their own post;
- a post with findings is approved only with the reviewer's recorded reason,
  and one with confidential material only with a valid ``confidential-release``
  permission of the authority attached;
- clause C is applied to the device the post is submitted from: a personal
  device without the Commissioner's permission gives a ``C`` finding, and no
  approval can clear it;
- an account listed in the pack's ``workflow.second_approval_accounts`` needs
  two approvals by different reviewers;
- a submission not approved within ``workflow.approval_timeout_hours``
  expires, visibly (its state says so and the audit trail records it).

Every step is audited with the policy version and the checker's findings at
that moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.access.publication import device_items
from postguard.access.snapshot import load_snapshot
from postguard.audit.chain import AuditRecord, serialise
from postguard.checks.decide import decide
from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post, Report
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from postguard.registry.grants import Grants
from postguard.registry.keys import load_public_if_present
from postguard.registry.models import Draft, Member, OfficialAccount, Review
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow

__all__ = ["STATES", "Workflow", "draft_dict"]

STATES = ("checked", "submitted", "approved", "returned", "expired", "scheduled", "published")
CONFIDENTIAL = "A.iii.confidential"


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


class Workflow:
    def __init__(self, registry: Registry, grants: Grants, checker: Checker) -> None:
        self.registry = registry
        self.grants = grants
        self.checker = checker
        self.rules = checker.pack.workflow

    # Steps ------------------------------------------------------------------

    def create(
        self,
        actor: str | None,
        *,
        text: str,
        account: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> Draft:
        """A new draft, checked at once (the author needs the pio or officer role)."""
        report = self._check(text, context)
        with self.registry.acting(actor, "draft.create") as (session, author):
            now = utcnow()
            count = session.scalar(select(func.count()).select_from(Draft)) or 0
            draft = Draft(
                code=f"D-{count + 1:05d}",
                author=author,
                account=self._account(session, account),
                text=text,
                context=dict(context or {}),
                device="",
                state="checked",
                report={},
                policy_version=self.checker.policy_version,
                approvals_needed=1,
                created_at=now,
                updated_at=now,
                submitted_at=None,
                expires_at=None,
                scheduled_for=None,
            )
            self._record(draft, report)
            session.add(draft)
            session.flush()
            self._audit(session, actor, "draft.create", draft)
            return draft

    def edit(
        self, actor: str | None, code: str, *, text: str, context: dict[str, Any] | None = None
    ) -> Draft:
        report = self._check(text, context)
        with self._step(actor, "draft.edit", code, ("checked", "returned")) as (session, draft, member):
            self._author_only(draft, member, "edit")
            draft.text, draft.state = text, "checked"
            if context is not None:
                draft.context = dict(context)
            self._record(draft, report)
            self._audit(session, actor, "draft.edit", draft)
            return draft

    def submit(self, actor: str | None, code: str, *, device: str) -> Draft:
        """Submit for review from ``device`` (asset tag or personal device id): clause C applies."""
        if not device.strip():
            raise ValidationError("say which device the post is submitted from (asset tag or device id).")
        # Read what the decision needs before the write transaction (SQLite allows one writer).
        snapshot = load_snapshot(
            self.registry.db, load_public_if_present(self.grants.keys_dir, "commissioner")
        )
        current = self.get(code)
        report = self._check(current["text"], current["context"])
        found, advised = device_items(snapshot, actor or "", device.strip())
        findings, advice = (*report.findings, *found), (*report.advice, *advised)
        report = Report(
            decide(self.checker.pack.decision_rules, findings, advice),
            findings,
            advice,
            report.policy_version,
        )
        with self._step(actor, "draft.submit", code, ("checked", "returned")) as (session, draft, member):
            self._author_only(draft, member, "submit")
            if draft.text != current["text"]:
                raise ConflictError(f"{code} changed while it was being submitted; submit it again.")
            now = utcnow()
            draft.device, draft.state, draft.submitted_at = device.strip(), "submitted", now
            draft.expires_at = now + dt.timedelta(hours=self.rules.approval_timeout_hours)
            account = f"{draft.account.platform}:{draft.account.handle}" if draft.account else ""
            draft.approvals_needed = (
                max(2, self.rules.approvals_required)
                if account in self.rules.second_approval_accounts
                else self.rules.approvals_required
            )
            self._record(draft, report)
            self._audit(session, actor, "draft.submit", draft)
            return draft

    def approve(self, actor: str | None, code: str, *, reason: str = "", permission: str = "") -> Draft:
        current = self.get(code)
        confidential = any(i["clause"] == CONFIDENTIAL for i in (*current["findings"], *current["advice"]))
        if confidential:  # checked before the write transaction, which the check would wait on
            self._require_release(code, permission)
        with self._step(actor, "review.approve", code, ("submitted",)) as (session, draft, reviewer):
            if draft.author_id == reviewer.id:
                raise AccessDeniedError(
                    f"{reviewer.service_number} wrote {code}: no one approves their own post."
                )
            self._refuse_if_expired(session, draft)
            clauses = {f["clause"] for f in draft.report.get("findings", [])}
            if "C" in clauses:
                raise ValidationError(
                    f"{code} was submitted from a personal device without the Commissioner's "
                    "written permission (clause C); it cannot be approved."
                )
            if clauses and not reason.strip():
                raise ValidationError(
                    f"{code} has findings ({', '.join(sorted(clauses))}); record why it may "
                    "be published anyway (--reason)."
                )
            submission = self._submission(session, draft)
            earlier = session.scalars(
                select(Review).where(
                    Review.draft_id == draft.id, Review.submission == submission, Review.action == "approve"
                )
            ).all()
            if any(r.reviewer_id == reviewer.id for r in earlier):
                raise ConflictError(
                    f"{reviewer.service_number} has approved {code} already; another reviewer "
                    "must give the second approval."
                )
            session.add(
                Review(
                    draft_id=draft.id,
                    reviewer=reviewer,
                    action="approve",
                    comment=reason.strip(),
                    permission=permission.strip(),
                    submission=submission,
                    at=utcnow(),
                )
            )
            if len(earlier) + 1 >= draft.approvals_needed:
                draft.state = "approved"
            draft.updated_at = utcnow()
            self._audit(
                session,
                actor,
                "review.approve",
                draft,
                {"reason": reason, "permission": permission, "approvals": len(earlier) + 1},
            )
            return draft

    def return_(self, actor: str | None, code: str, *, comment: str) -> Draft:
        if not comment.strip():
            raise ValidationError("returning a post needs a comment for its author.")
        with self._step(actor, "review.return", code, ("submitted",)) as (session, draft, reviewer):
            if draft.author_id == reviewer.id:
                raise AccessDeniedError(f"{reviewer.service_number} wrote {code}: ask another reviewer.")
            self._refuse_if_expired(session, draft)
            session.add(
                Review(
                    draft_id=draft.id,
                    reviewer=reviewer,
                    action="return",
                    comment=comment.strip(),
                    permission="",
                    submission=self._submission(session, draft),
                    at=utcnow(),
                )
            )
            draft.state, draft.updated_at = "returned", utcnow()
            self._audit(session, actor, "review.return", draft, {"comment": comment})
            return draft

    def schedule(self, actor: str | None, code: str, *, at: dt.datetime) -> Draft:
        """Publish an approved draft at ``at`` (UTC), as ``actor``; :meth:`due` finds it then."""
        when = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        if when <= utcnow():
            raise ValidationError("a publication can be scheduled only for a time in the future.")
        with self._step(actor, "publish.schedule", code, ("approved",)) as (session, draft, _):
            draft.state, draft.scheduled_for, draft.scheduled_by = "scheduled", when, actor or ""
            draft.updated_at = utcnow()
            self._audit(session, actor, "publish.schedule", draft, {"at": iso(when)})
            return draft

    def unschedule(self, actor: str | None, code: str) -> Draft:
        """Take a scheduled draft back to approved (it is not published until someone says so)."""
        with self._step(actor, "publish.unschedule", code, ("scheduled",)) as (session, draft, _):
            draft.state, draft.scheduled_for, draft.scheduled_by = "approved", None, ""
            draft.updated_at = utcnow()
            self._audit(session, actor, "publish.unschedule", draft)
            return draft

    def claim_due(self, now: dt.datetime | None = None) -> list[tuple[str, str]]:
        """Claim every scheduled draft whose time has come: (id, who scheduled it) each.

        A claim moves the draft back to approved in one conditional update, so of
        several service processes sharing a database exactly one claims each
        draft; the claimer then publishes it (and a failed publication stays
        approved and reported, as any other).
        """
        when = now or utcnow()
        claimed: list[tuple[str, str]] = []
        with self.registry.db.session() as session:
            serialise(session)
            due = session.scalars(
                select(Draft).where(Draft.state == "scheduled", Draft.scheduled_for <= when)
            ).all()
            for draft in due:
                draft.state, draft.updated_at = "approved", when
                self._audit(session, "(scheduler)", "publish.due", draft, {"by": draft.scheduled_by})
                claimed.append((draft.code, draft.scheduled_by))
        return claimed

    def expire_overdue(self, now: dt.datetime | None = None) -> list[str]:
        """Mark every submission past its time as expired (audited); returns their ids."""
        when = now or utcnow()
        with self.registry.db.session() as session:
            serialise(session)
            overdue = session.scalars(
                select(Draft).where(Draft.state == "submitted", Draft.expires_at < when)
            )
            codes = []
            for draft in overdue:
                draft.state, draft.updated_at = "expired", when
                self._audit(session, "(system)", "draft.expire", draft)
                codes.append(draft.code)
            return codes

    def get(self, code: str) -> dict[str, Any]:
        with self.registry.db.session() as session:
            draft = self._draft(session, code)
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
            }

    def counts(self) -> dict[str, int]:
        """How many drafts are in each state (every state listed, in workflow order)."""
        with self.registry.db.session() as session:
            rows = session.execute(select(Draft.state, func.count()).group_by(Draft.state)).all()
            found = {str(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in STATES}

    def queue(self, reviewer: str) -> list[dict[str, Any]]:
        """Submissions ``reviewer`` may act on (not their own, not yet approved by them), oldest first."""
        with self.registry.db.session() as session:
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
        with self.registry.db.session() as session:
            query = select(Draft).order_by(Draft.id)
            if author:
                query = query.join(Member, Draft.author_id == Member.id).where(
                    Member.service_number == author
                )
            if state:
                query = query.where(Draft.state == state)
            return [draft_dict(d) for d in session.scalars(query)]

    # Helpers ----------------------------------------------------------------

    @contextmanager
    def _step(
        self, actor: str | None, action: str, code: str, states: tuple[str, ...]
    ) -> Iterator[tuple[Session, Draft, Member]]:
        with self.registry.acting(actor, action) as (session, member):
            draft = self._draft(session, code)
            if draft.state not in states:
                raise ConflictError(
                    f"{code} is {draft.state}; it can be {action.split('.')[1]}ed only when "
                    f"{' or '.join(states)}."
                )
            yield session, draft, member

    def _check(self, text: str, context: dict[str, Any] | None) -> Report:
        return self.checker.check_post(Post(text, Context.from_dict(context)))

    @staticmethod
    def _record(draft: Draft, report: Report) -> None:
        data = report.to_dict()
        data.pop("id", None)
        draft.report = data
        draft.policy_version = report.policy_version
        draft.updated_at = utcnow()

    def _audit(
        self,
        session: Session,
        actor: str | None,
        action: str,
        draft: Draft,
        extra: dict[str, Any] | None = None,
    ) -> None:
        findings = draft.report.get("findings", [])
        self.registry.audit(
            session,
            AuditRecord(
                actor or "",
                action,
                f"draft:{draft.code}",
                ",".join(sorted({f["clause"] for f in findings})),
                {
                    "state": draft.state,
                    "policy": draft.policy_version,
                    "decision": draft.report.get("decision"),
                    "findings": [
                        {"clause": f["clause"], "span": f["span"], "score": f["score"]} for f in findings
                    ],
                    **(extra or {}),
                },
            ),
        )

    @staticmethod
    def _author_only(draft: Draft, member: Member, what: str) -> None:
        if draft.author_id != member.id:
            raise AccessDeniedError(f"only the author of {draft.code} may {what} it.")

    def _refuse_if_expired(self, session: Session, draft: Draft) -> None:
        if draft.expires_at is not None and draft.expires_at <= utcnow():
            raise ConflictError(
                f"{draft.code} was not reviewed in time and has expired; the author must submit it again."
            )

    def _require_release(self, code: str, permission: str) -> None:
        if not permission.strip():
            raise ValidationError(
                f"{code} holds confidential material: attach a valid confidential-release "
                "permission of the Commissioner (--permission CP-...)."
            )
        ok, why = self.grants.check_permission(permission.strip(), None)
        if not ok:
            raise ValidationError(f"permission {permission} cannot release it: {why}.")

    @staticmethod
    def _submission(session: Session, draft: Draft) -> int:
        returns = (
            session.scalar(
                select(func.count())
                .select_from(Review)
                .where(Review.draft_id == draft.id, Review.action == "return")
            )
            or 0
        )
        return int(returns) + 1

    def _account(self, session: Session, account: str | None) -> OfficialAccount | None:
        if not account:
            return None
        platform, _, handle = account.partition(":")
        if not handle:
            raise ValidationError(f"account '{account}' must be given as platform:handle.")
        return self.registry.account(session, platform.strip().lower(), handle.strip())

    @staticmethod
    def _draft(session: Session, code: str) -> Draft:
        draft = session.scalar(select(Draft).where(Draft.code == code))
        if draft is None:
            raise NotFoundError(f"No draft has id '{code}'.")
        return draft
