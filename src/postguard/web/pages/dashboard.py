"""The dashboard: drafts by state, and the department's charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from postguard.registry.acknowledgements import Acknowledgements
from postguard.web import charts
from postguard.web.deps import ServiceDep
from postguard.web.pages.common import ViewerDep, render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, state: ServiceDep, viewer: ViewerDep, days: int = 30) -> HTMLResponse:
    days = min(max(days, 7), 365)
    counts = state.workflow.counts()
    data = charts.dashboard(state.registry, state.checker.pack, days=days)
    acks = (  # who has not acknowledged the policy in force (issue 12): overseers see it
        Acknowledgements(state.registry, state.checker.pack).summary()
        if viewer.may("policy.unacknowledged")
        else None
    )
    return render(
        request, "dashboard.html", viewer, counts=counts, data=data, days=days, acknowledgements=acks
    )
