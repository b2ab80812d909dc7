"""POST /api/v1/access/decide: clause B and C decisions for proxies other than Squid."""

from __future__ import annotations

from fastapi import APIRouter

from postguard.access.decide import AccessRequest
from postguard.web.deps import ServiceDep, require
from postguard.web.schemas import AccessDecideIn, AccessDecisionOut

router = APIRouter(prefix="/api/v1/access", tags=["access"])


@router.post("/decide", dependencies=[require("access.decide")], summary="May this member reach this site?")
def access_decide(body: AccessDecideIn, state: ServiceDep) -> AccessDecisionOut:
    """Decided like the Squid helper, on the same snapshot and cache; audited."""
    decision = state.access.decide(
        AccessRequest(
            body.destination,
            member=body.member,
            computer=body.computer,
            address=body.address,
            device=body.device,
        )
    )
    return AccessDecisionOut(
        allowed=decision.allowed,
        clause=decision.clause or None,
        reason=decision.reason,
        grant=decision.grant,
        site=decision.site,
        category=decision.category,
    )
