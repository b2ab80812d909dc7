"""The audit trail for auditors: search, and verify the chain and its signed checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from postguard.audit.queries import entries
from postguard.web.deps import ServiceDep, verify_trail
from postguard.web.pages.common import ViewerDep, check_csrf, needs, render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    actor: str = "",
    action: str = "",
    clause: str = "",
    q: str = "",
    limit: int = 100,
) -> HTMLResponse:
    needs(state, viewer, request, "audit.read")
    with state.registry.db.reading() as session:
        rows = list(
            entries(
                session,
                actor=actor[:64] or None,
                clause=clause[:64] or None,
                action=action[:64] or None,
                search=q[:200] or None,
                limit=min(max(limit, 1), 1000),
                newest_first=True,
            )
        )
    filters = {"actor": actor, "action": action, "clause": clause, "q": q}
    return render(request, "audit.html", viewer, rows=rows, filters=filters, result=None)


@router.post("/audit/verify")
def audit_verify(
    request: Request, state: ServiceDep, viewer: ViewerDep, csrf_token: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "audit.verify")
    result = verify_trail(state)
    filters = {"actor": "", "action": "", "clause": "", "q": ""}
    return render(request, "audit.html", viewer, rows=[], filters=filters, result=result)
