"""The Commissioner's written permissions: issued and revoked here, read by the roles that oversee."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postguard.registry.grants import PERMISSION_KINDS
from postguard.web.deps import ServiceDep
from postguard.web.pages.common import ViewerDep, act, back, check_csrf, needs, render

router = APIRouter(include_in_schema=False)


@router.get("/permissions")
def permissions_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "permission.read")
    rows = state.grants.list_judged()
    return render(
        request, "permissions.html", viewer, permissions=rows[::-1], kinds=PERMISSION_KINDS,
        members=state.registry.members(active_only=True), devices=state.registry.devices(active_only=True),
    )  # fmt: skip


@router.post("/permissions")
def permissions_issue(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    member: Annotated[str, Form(max_length=64)] = "",
    device: Annotated[str, Form(max_length=128)] = "",
    post: Annotated[str, Form(max_length=200)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    text_: Annotated[str, Form(alias="text", max_length=8000)] = "",
    passphrase: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "permission.add")
    made: list[str] = []

    def issue() -> None:
        key = state.grants.unlock_key(viewer.number, passphrase)
        row = state.grants.permit(
            viewer.number, key, kind=kind, member=member or None, device=device or None, post=post,
            valid_until=valid_until or None, reason=reason, text_=text_,
        )  # fmt: skip
        made.append(row.code)

    response = act("/permissions", "", issue)
    return back("/permissions", ok=f"Permission {made[0]} issued and signed.") if made else response


@router.post("/permissions/{code}/revoke")
def permissions_revoke(
    request: Request,
    code: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "permission.revoke")
    return act(
        "/permissions",
        f"Permission {code} revoked.",
        lambda: state.grants.revoke_permission(viewer.number, code, reason or "revoked by the Commissioner"),
    )
