"""POST /api/v1/check: one post in contract.md's input shape, its report in the output shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from postguard.checks.types import Context, Post
from postguard.web.deps import ServiceDep, require
from postguard.web.schemas import CheckIn

router = APIRouter(prefix="/api/v1", tags=["check"])


@router.post("/check", dependencies=[require("check.post")], summary="Check a post against every clause")
async def check_post(body: CheckIn, state: ServiceDep) -> dict[str, Any]:
    """The contract's output line: decision, findings (and advice), for the post given.

    The check runs in the worker threads, never on the event loop, so a long post does not
    hold up any other request; the pack's ``limits.check_seconds`` bounds it.
    """
    context = Context.from_dict(body.context.model_dump() if body.context else None)
    report = await run_in_threadpool(state.checker.check_post, Post(body.text, context))
    return report.to_dict(body.id)
