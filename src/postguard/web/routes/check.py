"""POST /api/v1/check: one post in contract.md's input shape, its report in the output shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from postguard.checks.types import Context, Post
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, require
from postguard.web.schemas import CheckIn

router = APIRouter(prefix="/api/v1", tags=["check"])


@router.post("/check", summary="Check a post against every clause")
async def check_post(
    body: CheckIn,
    state: ServiceDep,
    caller: Annotated[TokenHolder, require("check.post")],
    rewrites: Annotated[bool, Query(description="Add each finding's one-step replacement, if any.")] = False,
) -> dict[str, Any]:
    """The contract's output line: decision, findings (and advice), for the post given.

    A claimed permission is honoured only if the registry holds it as a confidential
    release in force for the caller (or no one in particular) and this very post (the
    SHA-256 of its text and attachments). The check runs in the worker threads, never on
    the event loop, so a long post does not hold up any other request; the pack's
    ``limits.check_seconds`` bounds it. With ``?rewrites=true`` a finding whose pattern
    gives a wording that may stand in place of its words as they are carries it as
    ``replacement`` (the compose page's "Apply"); without, the answer is exactly the contract's.

    An attachment given as the ``ref`` of an upload (``sha256:HEX``, from ``POST
    /api/v1/media``) is looked at itself: its findings name it in ``attachment`` and say
    what was seen in ``kind`` (with ``box`` and ``at`` where they apply); one that names no
    upload is an ``unreadable`` finding. Any other attachment is judged by its name only
    (the service never reads a file a caller names).
    """
    context = Context.from_dict(body.context.model_dump() if body.context else None)
    checker = state.checker.with_permissions(state.grants.resolver(member=caller.service_number))
    report = await run_in_threadpool(checker.check_post, Post(body.text, context))
    return report.to_dict(body.id, rewrites=rewrites)
