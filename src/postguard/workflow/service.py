"""Drafts on their way to publication, each step checked, enforced and audited.

The states and the steps between them are the table in
:mod:`postguard.workflow.states`. Rules, all in force here and not in any
route or command:

- only the author edits or submits, and no one approves their own post;
- a post with findings is approved only with the reviewer's recorded reason,
  and one with confidential material only with a valid ``confidential-release``
  permission of the authority attached;
- clause C is applied to the device the post is submitted from
  (:func:`postguard.workflow.checking.check_with_registry`): a personal device
  without the Commissioner's permission gives a finding under clause C, and no
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

from postguard.access.snapshot import load_snapshot
from postguard.audit.chain import AuditRecord, serialise
from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post, Report
from postguard.errors import AccessDeniedError, ConflictError, ValidationError
from postguard.keys import load_public_if_present
from postguard.registry.grants import Grants
from postguard.registry.models import Draft, Member, OfficialAccount, Review
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow
from postguard.workflow.checking import check_with_registry
from postguard.workflow.queries import DraftQueries, draft_dict, find_draft
from postguard.workflow.states import STATES, STEPS

__all__ = ["STATES", "Workflow", "draft_dict"]


class Workflow(DraftQueries):
    def __init__(self, registry: Registry, grants: Grants, checker: Checker) -> None:
        self.registry = registry
        self.grants = grants
        self.checker = checker
        self.rules = checker.pack.workflow
        self.releasable = checker.pack.clause_for("confidential-material")
        self.devices_clause = checker.pack.clause_for("personal-devices")

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
        with self._step(actor, "edit", code) as (session, draft, member):
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
        report = check_with_registry(
            self.checker,
            self.grants,
            current["text"],
            Context.from_dict(current["context"]),
            member=actor or "",
            device=device.strip(),
            snapshot=snapshot,
        )
        with self._step(actor, "submit", code) as (session, draft, member):
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
        confidential = any(i["clause"] == self.releasable for i in (*current["findings"], *current["advice"]))
        if confidential:  # checked before the write transaction, which the check would wait on
            self._require_release(code, permission)
        with self._step(actor, "approve", code) as (session, draft, reviewer):
            if draft.author_id == reviewer.id:
                raise AccessDeniedError(
                    f"{reviewer.service_number} wrote {code}: no one approves their own post."
                )
            self._refuse_if_expired(session, draft)
            clauses = {f["clause"] for f in draft.report.get("findings", [])}
            if self.devices_clause in clauses:
                raise ValidationError(
                    f"{code} was submitted from a personal device without the Commissioner's "
                    f"written permission (clause {self.devices_clause}); it cannot be approved."
                )
            if clauses and not reason.strip():
                raise ValidationError(
                    f"{code} has findings ({', '.join(sorted(clauses))}); record why it may "
                    "be published anyway (a reason)."
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
        with self._step(actor, "return", code) as (session, draft, reviewer):
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
        with self._step(actor, "schedule", code) as (session, draft, _):
            draft.state, draft.scheduled_for, draft.scheduled_by = "scheduled", when, actor or ""
            draft.updated_at = utcnow()
            self._audit(session, actor, "publish.schedule", draft, {"at": iso(when)})
            return draft

    def unschedule(self, actor: str | None, code: str) -> Draft:
        """Take a scheduled draft back to approved (it is not published until someone says so)."""
        with self._step(actor, "unschedule", code) as (session, draft, _):
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
                self._audit(
                    session,
                    "(scheduler)",
                    "publish.due",
                    draft,
                    {"by": draft.scheduled_by, "policy_in_force": self.checker.policy_version},
                )
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

    # Helpers ----------------------------------------------------------------

    @contextmanager
    def _step(self, actor: str | None, name: str, code: str) -> Iterator[tuple[Session, Draft, Member]]:
        step = STEPS[name]
        with self.registry.acting(actor, step.action) as (session, member):
            draft = find_draft(session, code)
            if draft.state not in step.starts_from:
                raise ConflictError(step.refusal(code, draft.state))
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
                "permission of the Commissioner (its id, CP-...)."
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
