"""Composing, drafts and their steps, and the review queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postguard.errors import PostguardError, ValidationError
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import ViewerDep, act, back, check_csrf, needs, render
from postguard.workflow import STATES
from postguard.workflow.publish import publications, publish

router = APIRouter(include_in_schema=False)


def _devices_of(state: State, number: str) -> list[tuple[str, str]]:
    """(value, label) for the devices a member may say they submit from."""
    computers = [
        (
            c["asset_tag"],
            f"{c['asset_tag']} (department computer{', ' + c['hostname'] if c['hostname'] else ''})",
        )
        for c in state.registry.computers(active_only=True)
    ]
    own = [
        (
            d["identifier"],
            f"{d['identifier']} (your own device{', ' + d['description'] if d['description'] else ''})",
        )
        for d in state.registry.devices(owner=number, active_only=True)
    ]
    return computers + own


@router.get("/compose")
def compose_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "draft.create")
    return render(
        request, "compose.html", viewer, draft=None, accounts=state.registry.accounts(active_only=True)
    )


@router.post("/compose")
def compose_form(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    text_: Annotated[str, Form(alias="text", max_length=65_536)] = "",
    account: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        draft = state.workflow.create(viewer.number, text=text_, account=account or None)
    except PostguardError as exc:
        return render(
            request, "compose.html", viewer, status=422, error=str(exc), draft=None, text=text_,
            accounts=state.registry.accounts(active_only=True),
        )  # fmt: skip
    return back(f"/drafts/{draft.code}", ok=f"Draft {draft.code} saved and checked.")


@router.get("/drafts")
def drafts_page(request: Request, state: ServiceDep, viewer: ViewerDep, mine: int = 0) -> HTMLResponse:
    wanted = request.query_params.get("state", "")
    rows = state.workflow.list(wanted if wanted in STATES else None, author=viewer.number if mine else None)
    return render(request, "drafts.html", viewer, drafts=rows[::-1], states=STATES, wanted=wanted, mine=mine)


@router.get("/drafts/{code}")
def draft_page(request: Request, code: str, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    try:
        draft = state.workflow.get(code)
    except PostguardError as exc:
        return render(request, "error.html", viewer, status=404, title="Not found", message=str(exc))
    published = publications(state.registry, draft=code)
    pack = state.workflow.checker.pack
    released = pack.released_by_permission
    return render(
        request,
        "draft.html",
        viewer,
        draft=draft,
        blocking=state.workflow.standing(draft),
        disputable=state.workflow.disputable(draft),
        releasable=any(i["clause"] in released for i in (*draft["findings"], *draft["advice"])),
        publication=published[0] if published else None,
        devices=_devices_of(state, viewer.number) if draft["author"] == viewer.number else [],
        accounts=state.registry.accounts(active_only=True),
        mine=draft["author"] == viewer.number,
    )


@router.post("/drafts/{code}/{step}")
def draft_step(
    request: Request,
    code: str,
    step: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    text_: Annotated[str, Form(alias="text", max_length=65_536)] = "",
    device: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    permission: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    finding: Annotated[str, Form(max_length=64)] = "",
    dispute: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    check_csrf(viewer, csrf_token)
    flow, me, url = state.workflow, viewer.number, f"/drafts/{code}"

    def do_publish() -> None:
        row = publish(state.workflow, me, code, keys_dir=state.settings.keys_dir)
        if row.status != "sent":
            raise ValidationError(f"publishing failed after {row.attempts} attempt(s): {row.last_error}")

    def do_schedule() -> None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise ValidationError("give the date and time to publish at.") from None
        flow.schedule(me, code, at=when if when.tzinfo else when.replace(tzinfo=dt.UTC))

    def do_dispute() -> None:
        clause, _, start = finding.partition("@")
        if not clause or not start.isdigit():
            raise ValidationError("choose the finding you dispute.")
        flow.dispute(me, code, clause=clause, reason=reason, start=int(start))

    steps: dict[str, tuple[str, Callable[[], object]]] = {
        "edit": ("Saved and checked again.", lambda: flow.edit(me, code, text=text_)),
        "submit": ("Submitted for review.", lambda: flow.submit(me, code, device=device)),
        "approve": ("Approved.", lambda: flow.approve(me, code, reason=reason, permission=permission)),
        "return": ("Returned to its author.", lambda: flow.return_(me, code, comment=comment)),
        "dispute": ("Disputed; another reviewer or the Commissioner must confirm it.", do_dispute),
        "confirm-dispute": ("Dispute confirmed.", lambda: flow.confirm_dispute(me, code, dispute)),
        "publish": ("Published.", do_publish),
        "schedule": ("Scheduled.", do_schedule),
        "unschedule": ("Taken off the schedule.", lambda: flow.unschedule(me, code)),
    }
    if step not in steps:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such step.")
    ok, action = steps[step]
    return act(url, ok, action)


@router.get("/review")
def review_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "review.queue")
    queue: list[dict[str, Any]] = state.workflow.queue(viewer.number)
    return render(request, "review.html", viewer, queue=queue)
