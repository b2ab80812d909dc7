"""Drafts and reviews: /api/v1/drafts (the workflow's routes; the rules live in postguard.workflow)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from postguard.errors import ValidationError
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, require
from postguard.web.schemas import (
    ApproveIn,
    DisputeIn,
    DraftIn,
    ReturnIn,
    RewriteIn,
    ScheduleIn,
    SubmitIn,
    WithdrawIn,
)
from postguard.workflow import STATES
from postguard.workflow.publish import publication_dict, publications, publish

router = APIRouter(prefix="/api/v1/drafts", tags=["workflow"])
AuthorDep = Annotated[TokenHolder, require("draft.create")]
ReviewerDep = Annotated[TokenHolder, require("review.approve")]
PublisherDep = Annotated[TokenHolder, require("publish.send")]
WithdrawerDep = Annotated[TokenHolder, require("draft.withdraw")]


@router.post("", status_code=201, summary="Write a draft (it is checked at once)")
def create_draft(body: DraftIn, state: ServiceDep, caller: AuthorDep) -> dict[str, Any]:
    draft = state.workflow.create(
        caller.service_number,
        text=body.text,
        account=body.account,
        context=body.context.model_dump() if body.context else None,
    )
    return state.workflow.get(draft.code)


@router.get("", dependencies=[require("draft.read")], summary="List drafts, by state and author")
def list_drafts(
    state: ServiceDep,
    state_: Annotated[str | None, Query(alias="state", max_length=16)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    if state_ is not None and state_ not in STATES:
        raise ValidationError(f"state must be one of {', '.join(STATES)}.")
    return state.workflow.list(state_, author=author)


@router.get("/{code}", dependencies=[require("draft.read")], summary="One draft, its findings and reviews")
def get_draft(code: str, state: ServiceDep) -> dict[str, Any]:
    return state.workflow.get(code)


@router.put("/{code}", summary="Edit a draft (its author, while checked or returned)")
def edit_draft(code: str, body: DraftIn, state: ServiceDep, caller: AuthorDep) -> dict[str, Any]:
    state.workflow.edit(
        caller.service_number,
        code,
        text=body.text,
        context=body.context.model_dump() if body.context else None,
        account=body.account,
    )
    return state.workflow.get(code)


@router.post("/{code}/rewrites", summary="Apply a finding's one-step rewrite (its author, while editable)")
def apply_rewrite(code: str, body: RewriteIn, state: ServiceDep, caller: AuthorDep) -> dict[str, Any]:
    """Put the finding's ``replacement`` in place of its words; the draft is checked again.

    Only a finding that has a ``replacement`` may be applied (its suggestion otherwise is advice).
    """
    state.workflow.apply_rewrite(caller.service_number, code, clause=body.clause, start=body.start)
    return state.workflow.get(code)


@router.post("/{code}/submit", summary="Submit for review from a device (clause C applies)")
def submit_draft(code: str, body: SubmitIn, state: ServiceDep, caller: AuthorDep) -> dict[str, Any]:
    state.workflow.submit(caller.service_number, code, device=body.device)
    return state.workflow.get(code)


@router.post("/{code}/approve", summary="Approve a submission (not one's own)")
def approve_draft(code: str, body: ApproveIn, state: ServiceDep, caller: ReviewerDep) -> dict[str, Any]:
    state.workflow.approve(caller.service_number, code, reason=body.reason, permission=body.permission)
    return state.workflow.get(code)


@router.post("/{code}/disputes", status_code=201, summary="Dispute a finding of a submission (with a reason)")
def dispute_finding(code: str, body: DisputeIn, state: ServiceDep, caller: ReviewerDep) -> dict[str, Any]:
    """The finding still blocks approval until another reviewer or the Commissioner confirms."""
    state.workflow.dispute(
        caller.service_number, code, clause=body.clause, reason=body.reason, start=body.start
    )
    return state.workflow.get(code)


@router.post("/{code}/disputes/{dispute}/confirm", summary="Confirm another reviewer's dispute")
def confirm_dispute(code: str, dispute: int, state: ServiceDep, caller: ReviewerDep) -> dict[str, Any]:
    state.workflow.confirm_dispute(caller.service_number, code, dispute)
    return state.workflow.get(code)


@router.post("/{code}/return", summary="Return a submission to its author with a comment")
def return_draft(code: str, body: ReturnIn, state: ServiceDep, caller: ReviewerDep) -> dict[str, Any]:
    state.workflow.return_(caller.service_number, code, comment=body.comment)
    return state.workflow.get(code)


@router.post("/{code}/withdraw", summary="Withdraw a draft that is not published (its author or a reviewer)")
def withdraw_draft(
    code: str, state: ServiceDep, caller: WithdrawerDep, body: WithdrawIn | None = None
) -> dict[str, Any]:
    """For good: a withdrawn draft is never submitted, approved, scheduled or published."""
    state.workflow.withdraw(caller.service_number, code, reason=body.reason if body else "")
    return state.workflow.get(code)


@router.post("/{code}/schedule", summary="Schedule an approved draft's publication")
def schedule_draft(code: str, body: ScheduleIn, state: ServiceDep, caller: PublisherDep) -> dict[str, Any]:
    state.workflow.schedule(caller.service_number, code, at=body.at)
    return state.workflow.get(code)


@router.post("/{code}/unschedule", summary="Take a scheduled draft back to approved")
def unschedule_draft(code: str, state: ServiceDep, caller: PublisherDep) -> dict[str, Any]:
    state.workflow.unschedule(caller.service_number, code)
    return state.workflow.get(code)


@router.post("/{code}/publish", summary="Publish an approved draft to its account (retried, never twice)")
def publish_draft(code: str, state: ServiceDep, caller: PublisherDep) -> dict[str, Any]:
    row = publish(
        state.workflow,
        caller.service_number,
        code,
        keys_dir=state.settings.keys_dir,
        media_root=state.settings.media_root,
    )
    return {**state.workflow.get(code), "publication": publication_dict(row, code)}


reviews = APIRouter(prefix="/api/v1", tags=["workflow"])


@reviews.get("/reviews", summary="The review queue: submissions waiting for the caller, oldest first")
def review_queue(state: ServiceDep, caller: ReviewerDep) -> list[dict[str, Any]]:
    return state.workflow.queue(caller.service_number)


@reviews.get(
    "/publications", dependencies=[require("publish.read")], summary="Publications: sent, pending and failed"
)
def list_publications(
    state: ServiceDep, status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None
) -> list[dict[str, Any]]:
    return publications(state.registry, status)
