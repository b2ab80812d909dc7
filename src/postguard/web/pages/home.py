"""The first page: what waits for the signed-in member (the charts are on /dashboard)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from postguard.web.deps import ServiceDep
from postguard.web.pages.alerts import open_panel
from postguard.web.pages.common import ViewerDep, render
from postguard.web.pages.listing import people, time_left, with_time_left
from postguard.workflow.queries import DraftFilter

router = APIRouter(include_in_schema=False)

#: Permissions whose end falls within this many days are shown as about to expire.
EXPIRY_WARNING_DAYS = 14


@router.get("/")
def my_work(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    """Drafts returned to me, waiting for my review, approved and scheduled; permissions ending soon.

    Approved and scheduled drafts are everyone's for a member who may publish, else their own;
    the Commissioner sees every permission about to expire, anyone else those naming them.
    """
    flow, me = state.workflow, viewer.number
    publisher = viewer.may("publish.send")
    lists: dict[str, Any] = {
        "returned": flow.find(DraftFilter(state="returned", author=me)),
        "review": flow.find_queue(me, DraftFilter()) if viewer.may("review.queue") else None,
        "approved": flow.find(DraftFilter(state="approved", author="" if publisher else me)),
        "scheduled": flow.find(DraftFilter(state="scheduled", author="" if publisher else me)),
    }
    everyone = "commissioner" in viewer.roles
    permits = [
        {**p, "left": time_left(p["valid_until"])}
        for p in state.grants.expiring(None if everyone else me, days=EXPIRY_WARNING_DAYS)
    ]
    return render(
        request,
        "home.html",
        viewer,
        lists={k: v and {"rows": with_time_left(v.rows), "total": v.total} for k, v in lists.items()},
        permits=permits,
        everyone=everyone,
        days=EXPIRY_WARNING_DAYS,
        people=people(state),
        publisher=publisher,
        alerts=open_panel(state, viewer),  # the watch's open alerts, for those who answer them
    )
