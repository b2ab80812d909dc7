"""Drafts on their way to publication, each step checked, enforced and audited.

The states and the steps between them are the table in
:mod:`postguard.workflow.states`. Rules, all in force here and not in any
route or command:

- a draft is published on a department account in the department's name: its
  context (account and capacity) is official, whatever a client sends, and a
  personal context is refused; only its attachments and claimed permissions
  come from the author;
- only the author edits or submits, and no one approves their own post;
- the check runs again at approval and at publication, with the pack, model
  and registry in force then (:func:`postguard.workflow.checking.check_with_registry`,
  permissions honoured only for the author and this post);
- what may clear a finding is :mod:`postguard.workflow.approval`: clause C
  (a personal device without permission) never; confidential material only a
  permission scoped to the post; any other blocking finding an edit or a
  confirmed dispute (:mod:`postguard.workflow.disputes`); the rest the
  reviewer's recorded reason;
- an account listed in the pack's ``workflow.second_approval_accounts`` needs
  two approvals by different reviewers;
- a draft is submitted and approved only with an official account that can
  publish (active and connected) and a text that fits its platform's
  ``limits.post_length`` (:mod:`postguard.workflow.length`); a draft may be
  saved with no account yet, and its author may set or change it while editing;
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
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from postguard.keys import load_public_if_present
from postguard.registry.acknowledgements import require_acknowledged
from postguard.registry.grants import Grants
from postguard.registry.models import Dispute, Draft, DraftSubmission, Member, OfficialAccount, Review
from postguard.registry.permissions import post_sha256
from postguard.registry.roles import allowed
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow
from postguard.workflow.approval import (
    SpanKey,
    disputable,
    key_of,
    needs_reason,
    outstanding,
    span_key,
    stored_report,
)
from postguard.workflow.checking import check_with_registry
from postguard.workflow.disputes import confirmed_keys
from postguard.workflow.length import account_label, length_problem, publishable
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
        chosen = self._draft_context(context)
        report = self._check(text, chosen, author=actor, draft=None)
        with self.registry.acting(actor, "draft.create") as (session, author):
            now = utcnow()
            count = session.scalar(select(func.count()).select_from(Draft)) or 0
            draft = Draft(
                code=f"D-{count + 1:05d}",
                author=author,
                account=self._account(session, account),
                text=text,
                context=chosen.to_dict(),
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
        self,
        actor: str | None,
        code: str,
        *,
        text: str,
        context: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> Draft:
        """Change a draft's text (and its account, ``platform:handle``, when given), and check it again."""
        current = self.get(code)
        chosen = self._draft_context(context if context is not None else current["context"])
        report = self._check(text, chosen, author=current["author"], draft=code)
        with self._step(actor, "edit", code) as (session, draft, member):
            self._author_only(draft, member, "edit")
            extra: dict[str, Any] = {}
            if account:
                was = account_label(draft.account) if draft.account else ""
                draft.account = self._account(session, account)
                if draft.account is not None and account_label(draft.account) != was:
                    extra = {"account": account_label(draft.account), "account_was": was}
            draft.text, draft.state, draft.context = text, "checked", chosen.to_dict()
            self._record(draft, report)
            self._audit(session, actor, "draft.edit", draft, extra)
            return draft

    def apply_rewrite(self, actor: str | None, code: str, *, clause: str, start: int) -> Draft:
        """Put a finding's one-step rewrite (its ``replacement``) in place of its words, and check again.

        Only a finding that carries a ``replacement`` (a pattern's wording that may stand in
        place of the match as it is) may be applied; a suggestion that is advice is not text.
        The stored text must still hold the finding's words where it found them.
        """
        current = self.get(code)
        found = [
            f
            for f in current["findings"]
            if f["clause"] == clause and int(f["span"][0]) == start and f.get("replacement")
        ]
        if not found:
            raise NotFoundError(
                f"{code} has no finding under {clause} at {start} with a rewrite to apply "
                "(a suggestion that is advice is not applied: edit the text yourself)."
            )
        finding = found[0]
        begin, end = int(finding["span"][0]), int(finding["span"][1])
        old = current["text"]
        if old[begin:end] != finding["evidence"]:
            raise ConflictError(f"{code} changed since it was checked; look at it again.")
        text = old[:begin] + str(finding["replacement"]) + old[end:]
        chosen = self._draft_context(current["context"])
        report = self._check(text, chosen, author=current["author"], draft=code)
        with self._step(actor, "edit", code) as (session, draft, member):
            self._author_only(draft, member, "edit")
            if draft.text != old:
                raise ConflictError(f"{code} changed while the rewrite was applied; look at it again.")
            draft.text, draft.state = text, "checked"
            self._record(draft, report)
            self._audit(
                session,
                actor,
                "draft.edit",
                draft,
                {
                    "rewrite": {
                        "clause": clause,
                        "span": [begin, end],
                        "from": finding["evidence"],
                        "to": finding["replacement"],
                    }
                },
            )
            return draft

    def replace_attachment(
        self, actor: str | None, code: str, *, original: str, copy: str, detail: dict[str, Any] | None = None
    ) -> Draft:
        """Put ``copy`` (a safe copy's ref) in place of the attachment ``original``, and check again.

        The original stays in the media store and the audit entry names both (``safe_copy``),
        so the draft keeps both and publishes the copy.
        """
        current = self.get(code)
        attachments = [str(a) for a in current["context"].get("attachments") or []]
        if original not in attachments:
            raise NotFoundError(f"{code} has no attachment {original}.")
        given = dict(current["context"])
        given["attachments"] = [copy if a == original else a for a in attachments]
        chosen = self._draft_context(given)
        report = self._check(current["text"], chosen, author=current["author"], draft=code)
        with self._step(actor, "edit", code) as (session, draft, member):
            self._author_only(draft, member, "edit")
            if draft.context != current["context"] or draft.text != current["text"]:
                raise ConflictError(f"{code} changed while the safe copy was made; look at it again.")
            draft.context, draft.state = chosen.to_dict(), "checked"
            self._record(draft, report)
            self._audit(
                session,
                actor,
                "draft.edit",
                draft,
                {"safe_copy": {"original": original, "copy": copy, **(detail or {})}},
            )
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
            self._stored_context(current["context"]),
            member=current["author"],
            draft=code,
            device=device.strip(),
            snapshot=snapshot,
        )
        with self._step(actor, "submit", code) as (session, draft, member):
            self._author_only(draft, member, "submit")
            require_acknowledged(session, member, self.checker.pack, f"submitting {code}")
            self._fits(draft, "submitted")
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
            session.add(
                DraftSubmission(
                    draft_id=draft.id,
                    number=self._submission(session, draft),
                    text=draft.text,
                    device=draft.device,
                    at=now,
                )
            )
            self._audit(session, actor, "draft.submit", draft)
            return draft

    def withdraw(self, actor: str | None, code: str, *, reason: str = "") -> Draft:
        """Withdraw a draft that is not published, for good: its author or a reviewer may.

        A withdrawn draft leaves the review queue and the schedule; no step starts
        from ``withdrawn`` (:data:`~postguard.workflow.states.STEPS`), so it is never
        edited, submitted, approved, scheduled or published again.
        """
        with self._step(actor, "withdraw", code) as (session, draft, member):
            if draft.author_id != member.id and not allowed(member.roles, "review.approve"):
                raise AccessDeniedError(
                    f"only the author of {code} or a reviewer may withdraw it; "
                    f"{member.service_number} is neither."
                )
            before = draft.state
            draft.state, draft.scheduled_for, draft.scheduled_by = "withdrawn", None, ""
            draft.updated_at = utcnow()
            self._audit(session, actor, "draft.withdraw", draft, {"was": before, "reason": reason.strip()})
            return draft

    def approve(self, actor: str | None, code: str, *, reason: str = "", permission: str = "") -> Draft:
        """Approve a submission: the check runs again now, and only what may be cleared is.

        ``permission``: a confidential-release permission of the Commissioner issued for
        this post (and for its author or no one in particular); ``reason``: why the
        findings that remain (none blocking) may be published.
        """
        current = self.get(code)
        claimed = (permission.strip(),) if permission.strip() else ()
        report = self._recheck(current, claimed)  # before the write transaction, which it would hold up
        with self._step(actor, "approve", code) as (session, draft, reviewer):
            if draft.author_id == reviewer.id:
                raise AccessDeniedError(
                    f"{reviewer.service_number} wrote {code}: no one approves their own post."
                )
            self._refuse_if_expired(session, draft)
            if draft.text != current["text"] or draft.context != current["context"]:
                raise ConflictError(f"{code} changed while it was being approved; look at it again.")
            self._fits(draft, "approved")
            submission = self._submission(session, draft)
            confirmed = confirmed_keys(session, draft.id, submission)
            blocking = outstanding(self.checker.pack, report, confirmed)
            if blocking:
                refused = self._release_refusal(permission, current) if claimed else ""
                raise ValidationError(
                    f"{code} cannot be approved: "
                    + "; ".join(str(item) for item in blocking)
                    + (f". {refused}" if refused else ".")
                )
            remaining = needs_reason(self.checker.pack, report, confirmed)
            if remaining and not reason.strip():
                clauses = sorted({f.clause for f in remaining})
                raise ValidationError(
                    f"{code} has findings ({', '.join(clauses)}); record why it may be published "
                    "anyway (a reason)."
                )
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
            used = report.permissions_used
            session.add(
                Review(
                    draft_id=draft.id,
                    reviewer=reviewer,
                    action="approve",
                    comment=reason.strip(),
                    permission=",".join(used),
                    submission=submission,
                    at=utcnow(),
                )
            )
            self._record(draft, report)
            if len(earlier) + 1 >= draft.approvals_needed:
                draft.state = "approved"
            self._audit(
                session,
                actor,
                "review.approve",
                draft,
                {
                    "reason": reason,
                    "permission": ",".join(used),
                    "approvals": len(earlier) + 1,
                    "disputed": sorted(f"{c}[{s}:{e}]" for c, s, e in confirmed),
                },
            )
            for pid in used:
                self.registry.audit(
                    session,
                    AuditRecord(
                        actor or "",
                        "permission.used",
                        f"permission:{pid}",
                        self.releasable,
                        {"post": f"draft:{code}", "author": current["author"], "decision": report.decision},
                    ),
                )
            return draft

    def dispute(
        self, actor: str | None, code: str, *, clause: str, reason: str, start: int | None = None
    ) -> Dispute:
        """Say a finding of the submission is wrong, and why; it still blocks until confirmed.

        ``start`` picks the finding when the clause has several (its span's start).
        A finding that only a permission clears (confidential material) or under
        clause C (a fact of the device, not a judgement) cannot be disputed.
        """
        if not reason.strip():
            raise ValidationError("a dispute needs its reason: why the finding is wrong.")
        with self._step(actor, "dispute", code) as (session, draft, reviewer):
            if draft.author_id == reviewer.id:
                raise AccessDeniedError(f"{reviewer.service_number} wrote {code}: ask another reviewer.")
            self._refuse_if_expired(session, draft)
            if clause == self.devices_clause:
                raise ValidationError(
                    f"clause {clause} is about the device {code} was submitted from, not its words: "
                    "it cannot be disputed; submit it again from an allowed device."
                )
            if clause in self.checker.pack.released_by_permission:
                raise ValidationError(
                    f"a finding under {clause} is cleared only by the "
                    f"{self.checker.pack.policy.authority}'s written permission scoped to this post, "
                    "not by a dispute."
                )
            found = [
                f
                for f in draft.report.get("findings", [])
                if f["clause"] == clause and (start is None or f["span"][0] == start)
            ]
            if not found:
                raise NotFoundError(
                    f"{code} has no finding under {clause}" + (f" at {start}." if start else ".")
                )
            if len(found) > 1:
                starts = ", ".join(str(f["span"][0]) for f in found)
                raise ValidationError(
                    f"{code} has {len(found)} findings under {clause}; say which by its start ({starts})."
                )
            finding = found[0]
            submission = self._submission(session, draft)
            again = session.scalar(
                select(Dispute).where(
                    Dispute.draft_id == draft.id,
                    Dispute.submission == submission,
                    Dispute.clause == clause,
                    Dispute.span_start == finding["span"][0],
                    Dispute.span_end == finding["span"][1],
                )
            )
            if again is not None:
                raise ConflictError(f"that finding of {code} is disputed already (dispute {again.id}).")
            row = Dispute(
                draft_id=draft.id,
                submission=submission,
                clause=clause,
                evidence=finding["evidence"],
                span_start=finding["span"][0],
                span_end=finding["span"][1],
                score=float(finding["score"]),
                reason=reason.strip(),
                disputed_by=reviewer,
                at=utcnow(),
                confirmed_by=None,
                confirmed_at=None,
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                actor,
                "review.dispute",
                draft,
                {"dispute": row.id, "clause": clause, "evidence": row.evidence, "reason": row.reason},
            )
            return row

    def confirm_dispute(self, actor: str | None, code: str, dispute: int) -> Dispute:
        """Confirm another reviewer's dispute (the pack says whose roles may): the finding stops blocking."""
        with self._step(actor, "confirm-dispute", code) as (session, draft, member):
            row = session.get(Dispute, dispute)
            if row is None or row.draft_id != draft.id:
                raise NotFoundError(f"{code} has no dispute {dispute}.")
            if row.confirmed_at is not None:
                raise ConflictError(f"dispute {dispute} was confirmed already.")
            if row.submission != self._submission(session, draft):
                raise ConflictError(f"dispute {dispute} was about an earlier submission of {code}.")
            if member.id in (row.disputed_by_id, draft.author_id):
                raise AccessDeniedError(
                    f"{member.service_number} "
                    + ("raised this dispute" if member.id == row.disputed_by_id else f"wrote {code}")
                    + ": another person must confirm it."
                )
            may = self.checker.pack.approval.dispute_confirmed_by
            if not set(may) & set(member.roles):
                raise AccessDeniedError(f"the policy pack lets only a {' or '.join(may)} confirm a dispute.")
            self._refuse_if_expired(session, draft)
            row.confirmed_by, row.confirmed_at = member, utcnow()
            draft.updated_at = utcnow()
            self._audit(
                session,
                actor,
                "review.confirm-dispute",
                draft,
                {"dispute": row.id, "clause": row.clause, "evidence": row.evidence},
            )
            return row

    def assert_publishable(self, actor: str | None, code: str) -> None:
        """Check an approved draft again before it is sent, with the pack and model in force now.

        If the check now finds what its approval did not clear (a new finding, or one
        no longer cleared: a revoked permission, a changed pack), the draft is held:
        returned to its author with the reasons, audited as ``publish.held``, and
        :class:`~postguard.errors.ConflictError` is raised. Nothing is sent.
        """
        current = self.get(code)
        if current["state"] != "approved":
            return  # publish() refuses it with its own reason
        approvals = [r for r in current["reviews"] if r["action"] == "approve" and r["permission"]]
        claimed = tuple(p for r in approvals for p in str(r["permission"]).split(",") if p)
        report = self._recheck(current, claimed)
        with self.registry.acting(actor, "publish.send") as (session, member):
            draft = find_draft(session, code)
            submission = self._submission(session, draft)
            confirmed = confirmed_keys(session, draft.id, submission)
            approved = {span_key(f["clause"], *f["span"]) for f in draft.report.get("findings", [])}
            problems = [str(item) for item in outstanding(self.checker.pack, report, confirmed)]
            approvers = set(
                session.scalars(
                    select(Review.reviewer_id).where(
                        Review.draft_id == draft.id,
                        Review.submission == submission,
                        Review.action == "approve",
                        Review.reviewer_id != draft.author_id,
                    )
                )
            )
            needed = max(draft.approvals_needed, self.rules.approvals_required, 1)
            if len(approvers) < needed:
                problems.append(
                    f"it has {len(approvers)} approval(s) by reviewers other than its author, "
                    f"and needs {needed}"
                )
            problems += [
                f'{f.clause} "{f.evidence}": found by the check in force now, not when it was approved'
                for f in report.findings
                if span_key(f.clause, f.start, f.end) not in approved | confirmed
            ]
            too_long = length_problem(self.checker.pack, draft.text, draft.account) if draft.account else ""
            if too_long:  # the pack in force now takes fewer characters on this platform
                problems.append(too_long)
            if not problems:
                return
            session.add(
                Review(
                    draft_id=draft.id,
                    reviewer=member,
                    action="held",
                    comment="Held at publication: " + "; ".join(problems),
                    permission="",
                    submission=submission,
                    at=utcnow(),
                )
            )
            draft.state, draft.scheduled_for, draft.scheduled_by = "returned", None, ""
            self._record(draft, report)
            self._audit(session, actor, "publish.held", draft, {"problems": problems})
        raise ConflictError(
            f"{code} was not published: the check in force now finds what its approval did not "
            f"clear ({'; '.join(problems)}). It is returned to its author."
        )

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

    # What the draft page shows ---------------------------------------------

    def standing(self, draft: dict[str, Any]) -> list[str]:
        """What stands between ``draft`` (as :meth:`get` returns it) and its approval, as it was
        last checked: each finding no reason can clear, and what would."""
        confirmed = self._current_disputes(draft, confirmed_only=True)
        return [str(item) for item in outstanding(self.checker.pack, stored_report(draft), confirmed)]

    def disputable(self, draft: dict[str, Any]) -> list[dict[str, Any]]:
        """The findings of ``draft`` a reviewer may still dispute, in its report's shape."""
        taken = self._current_disputes(draft, confirmed_only=False)
        keys = {key_of(f) for f in disputable(self.checker.pack, stored_report(draft), taken)}
        return [f for f in draft["findings"] if span_key(f["clause"], *f["span"]) in keys]

    def _current_disputes(self, draft: dict[str, Any], *, confirmed_only: bool) -> set[SpanKey]:
        submission = 1 + sum(1 for r in draft["reviews"] if r["action"] in ("return", "held"))
        return {
            span_key(d["clause"], *d["span"])
            for d in draft["disputes"]
            if d["submission"] == submission and (d["confirmed_by"] or not confirmed_only)
        }

    # Helpers ----------------------------------------------------------------

    @contextmanager
    def _step(self, actor: str | None, name: str, code: str) -> Iterator[tuple[Session, Draft, Member]]:
        step = STEPS[name]
        with self.registry.acting(actor, step.action) as (session, member):
            draft = find_draft(session, code)
            if draft.state not in step.starts_from:
                raise ConflictError(step.refusal(code, draft.state))
            yield session, draft, member

    @staticmethod
    def _draft_context(context: dict[str, Any] | None) -> Context:
        """The context a draft is checked in: official, with the author's attachments and permissions."""
        try:
            given = Context.from_dict(context)
        except ValueError as exc:
            raise ValidationError(f"{exc}.") from None
        if given.account != "official" or given.capacity != "official":
            raise ValidationError(
                "a draft is published on a department account, in the department's name: its context "
                "is official. A personal account or capacity is not a draft's; check such a post with "
                "postguard check instead."
            )
        return given

    @staticmethod
    def _stored_context(stored: dict[str, Any], extra: tuple[str, ...] = ()) -> Context:
        """A stored draft's context, official whatever the row says (a row edited by hand included)."""
        attachments = stored.get("attachments") or []
        permissions = stored.get("permissions") or []
        return Context(
            "official",
            "official",
            tuple(str(a) for a in attachments),
            tuple(dict.fromkeys([*(str(p) for p in permissions), *extra])),
        )

    def _check(self, text: str, context: Context, *, author: str | None, draft: str | None) -> Report:
        return check_with_registry(self.checker, self.grants, text, context, member=author, draft=draft)

    def _recheck(self, current: dict[str, Any], claimed: tuple[str, ...] = ()) -> Report:
        """The draft checked now, as its author publishes it from the device it was submitted from."""
        return check_with_registry(
            self.checker,
            self.grants,
            current["text"],
            self._stored_context(current["context"], claimed),
            member=current["author"],
            draft=current["id"],
            device=current["device"],
        )

    def _release_refusal(self, permission: str, current: dict[str, Any]) -> str:
        context = self._stored_context(current["context"])
        verdict = self.grants.honoured_for(
            permission.strip(),
            kind="confidential-release",
            member=current["author"],
            draft=current["id"],
            digest=post_sha256(Post(current["text"], context)),
        )
        return (
            "" if verdict.valid else f"Permission {permission.strip()} does not release it: {verdict.reason}."
        )

    @staticmethod
    def _record(draft: Draft, report: Report) -> None:
        data = report.to_dict(rewrites=True)  # a finding's one-step rewrite, where it has one
        data.pop("id", None)
        draft.report = data
        found = sorted({str(f["clause"]) for f in data.get("findings", [])})
        draft.clauses = f" {' '.join(found)} " if found else ""
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

    @staticmethod
    def _submission(session: Session, draft: Draft) -> int:
        returns = (
            session.scalar(
                select(func.count())
                .select_from(Review)
                .where(Review.draft_id == draft.id, Review.action.in_(("return", "held")))
            )
            or 0
        )
        return int(returns) + 1

    def _account(self, session: Session, account: str | None) -> OfficialAccount | None:
        """The account a draft names (active and connected: :func:`publishable`), or None for none yet."""
        if not account:
            return None
        platform, _, handle = account.partition(":")
        if not handle:
            raise ValidationError(f"account '{account}' must be given as platform:handle.")
        return publishable(self.registry.account(session, platform.strip().lower(), handle.strip()))

    def _fits(self, draft: Draft, done: str) -> None:
        """Refuse a draft whose account cannot publish, or whose text is too long for it."""
        try:
            account = publishable(draft.account, draft.code)
        except ValidationError as exc:
            raise ValidationError(f"{draft.code} cannot be {done}: {exc}") from None
        problem = length_problem(self.checker.pack, draft.text, account)
        if problem:
            raise ValidationError(f"{draft.code} cannot be {done}: {problem}")
