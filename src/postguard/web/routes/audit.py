"""GET /api/v1/audit (search) and POST /api/v1/audit/verify, for auditors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from postguard.audit.queries import entries
from postguard.web.deps import ServiceDep, require, verify_trail
from postguard.web.schemas import VerifyOut

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", dependencies=[require("audit.read")], summary="Search the audit trail")
def audit_search(
    state: ServiceDep,
    since: dt.datetime | None = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    clause: Annotated[str | None, Query(max_length=32)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The newest ``limit`` entries that match, newest first (as the audit page and
    ``postguard audit show`` list them)."""
    when = since if since is None or since.tzinfo else since.replace(tzinfo=dt.UTC)
    with state.registry.db.reading() as session:
        found = entries(
            session, since=when, actor=actor, clause=clause, action=action, limit=limit, newest_first=True
        )
        return list(found)


@router.post(
    "/verify", dependencies=[require("audit.verify")], summary="Verify the chain and its checkpoints"
)
def audit_verify(state: ServiceDep) -> VerifyOut:
    """Hashes, links, signed checkpoints, and the witness (POSTGUARD_AUDIT_WITNESS) where one is set."""
    report = verify_trail(state)
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        checkpoints=report.checkpoints,
        checkpoints_verified=report.checkpoints_verified,
        witnessed=report.witnessed,
        witnessed_verified=report.witnessed_verified,
        uncovered=report.uncovered,
        first_bad=report.first_bad,
        problem=report.problem,
        warnings=report.warnings,
    )
