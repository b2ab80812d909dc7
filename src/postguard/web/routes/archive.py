"""GET /api/v1/archive/posts (filtered, paginated) and /api/v1/archive/posts/{id} (with its versions).

The archive's read side (issue 14), for the roles that may read it (``archive.read``:
reviewers, the Commissioner, auditors, IT, and PIOs). The query parameters are those
of :class:`postguard.archive.queries.ArchiveFilter`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from postguard.archive.queries import MAX_SIZE, PAGE_SIZE, ArchiveFilter, find_posts, get_post
from postguard.web.deps import ServiceDep, require

router = APIRouter(prefix="/api/v1/archive", tags=["archive"])


@router.get("/posts", dependencies=[require("archive.read")], summary="Find archived posts, newest first")
def list_posts(
    state: ServiceDep,
    account: Annotated[str, Query(max_length=300, description="platform:handle")] = "",
    platform: Annotated[str, Query(max_length=32)] = "",
    source: Annotated[str, Query(max_length=16, description="watch, published or import")] = "",
    outside_workflow: bool | None = None,
    clause: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=200, description="words in the post or any earlier version")] = "",
    since: Annotated[dt.date | None, Query(description="posted on or after this UTC day")] = None,
    until: Annotated[dt.date | None, Query(description="posted on or before this UTC day")] = None,
    edited: bool | None = None,
    deleted: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = PAGE_SIZE,
) -> dict[str, Any]:
    """``{rows, total, page, size, pages}``: one page of the posts that match, with the check made
    at the time (decision and clauses); a page past the last answers the last."""
    found = find_posts(
        state.registry,
        ArchiveFilter(
            account=account,
            platform=platform,
            source=source,
            outside_workflow=outside_workflow,
            clause=clause,
            text=q,
            since=since,
            until=until,
            edited=edited,
            deleted=deleted,
            page=page,
            size=size,
        ),
    )
    return {
        "rows": found.rows,
        "total": found.total,
        "page": found.page,
        "size": found.size,
        "pages": found.pages,
    }


@router.get(
    "/posts/{post_id}",
    dependencies=[require("archive.read")],
    summary="One archived post, its findings and every version",
)
def one_post(post_id: int, state: ServiceDep) -> dict[str, Any]:
    """The post as it stands, the check made at the time, and its versions (original, edits,
    deletion), oldest first, each with the check made of it; 404 when there is none."""
    return get_post(state.registry, post_id)
