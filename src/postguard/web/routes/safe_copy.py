"""POST /api/v1/drafts/{code}/safe-copy: the compose page's "Make a safe copy", over the API.

The draft's author names one of its attachments (``sha256:HEX``); every place its check
found in it is blurred, its metadata stripped, the copy kept in the media store and put
in the draft in place of the original (kept; the audit entry names both), and the draft
is checked again (:func:`postguard.workflow.media.make_safe_copy`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from postguard.media.store import MediaStore
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, require
from postguard.workflow.media import make_safe_copy

__all__ = ["SafeCopyIn", "router"]

router = APIRouter(prefix="/api/v1/drafts", tags=["workflow"])


class SafeCopyIn(BaseModel):
    ref: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$", description="The attachment to replace by its safe copy."
    )
    boxes: list[Annotated[list[int], Field(min_length=4, max_length=4)]] = Field(
        default_factory=list, max_length=100, description="More boxes [x, y, w, h] to blur, in pixels."
    )


@router.post("/{code}/safe-copy", summary="Replace a draft's photo or video by its safe copy (its author)")
def safe_copy(
    code: str, body: SafeCopyIn, state: ServiceDep, caller: Annotated[TokenHolder, require("draft.create")]
) -> dict[str, Any]:
    """Answer the draft, checked again, with ``safe_copy``: ``{"original", "copy"}`` refs."""
    boxes = [(b[0], b[1], b[2], b[3]) for b in body.boxes]
    _, copy = make_safe_copy(
        state.workflow,
        caller.service_number,
        code,
        body.ref,
        store=MediaStore(state.settings.media_root),
        boxes=boxes,
    )
    return {**state.workflow.get(code), "safe_copy": {"original": body.ref, "copy": copy}}
