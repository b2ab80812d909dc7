"""The Commissioner's written permissions: issued and revoked here, read by the roles that oversee."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postguard.errors import PostguardError, SigningKeyError, TooManyAttemptsError
from postguard.keys import load_public
from postguard.registry.documents import export_document
from postguard.registry.grants import PERMISSION_KINDS
from postguard.registry.roles import allowed
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import Viewer, ViewerDep, act, back, check_csrf, needs, render
from postguard.web.problems import status_of

router = APIRouter(include_in_schema=False)


def _view(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> HTMLResponse:
    rows = readable(state, viewer.number, viewer.roles, state.grants.list_judged())
    members = state.registry.members(active_only=True)
    devices = state.registry.devices(active_only=True)
    return render(
        request, "permissions.html", viewer, status=status, permissions=rows[::-1],
        kinds=PERMISSION_KINDS, members=members, devices=devices, all_of_them=viewer.may("permission.read"),
        kind_choices=[(k, k) for k in PERMISSION_KINDS],
        member_choices=[(m["service_number"], f"{m['service_number']} {m['name']}") for m in members],
        device_choices=[(d["identifier"], f"{d['identifier']} ({d['owner']})") for d in devices],
        failed="permission" if values is not None else "", values=values or {}, errors=errors or {},
        error=error,
    )  # fmt: skip


def readable(
    state: State, number: str, roles: Iterable[str], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The permissions a member may read: every one for the roles that oversee
    (``permission.read``), else those that name the member (``permission.read-own``)."""
    if allowed(roles, "permission.read"):
        return rows
    return [r for r in rows if r.get("member") == number]


def _one(request: Request, state: State, viewer: Viewer, code: str) -> dict[str, Any]:
    """Permission ``code`` with its verdict, if the viewer may read it (a refusal is audited)."""
    needs(state, viewer, request, "permission.read-own")
    row = state.grants.get_permission(code)[1]
    if not readable(state, viewer.number, viewer.roles, [row]):
        needs(state, viewer, request, "permission.read")
    verdict = state.grants.honoured(code)
    return {**row, "honoured": verdict.valid, "why": verdict.reason}


@router.get("/permissions")
def permissions_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "permission.read-own")
    return _view(request, state, viewer)


@router.get("/permissions/{code}/print")
def permission_print(request: Request, code: str, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    """The permission as a page to print (the print style leaves out the menus and buttons)."""
    row = _one(request, state, viewer, code)
    pack = state.checker.pack
    return render(
        request, "permission_print.html", viewer, p=row, authority=pack.policy.authority,
        department=pack.policy.department,
    )  # fmt: skip


@router.get("/permissions/{code}/document")
def permission_document(request: Request, code: str, state: ServiceDep, viewer: ViewerDep) -> Response:
    """The signed document ``postguard permit export`` writes, as a download (checkable offline
    with ``postguard permit verify``)."""
    _one(request, state, viewer, code)
    row, _ = state.grants.get_permission(code)
    document = export_document(row, load_public(state.settings.keys_dir, "commissioner"))
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Response(
        body.encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{code}.json"'},
    )


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
    try:
        key = state.grants.unlock_key(viewer.number, passphrase)
        row = state.grants.permit(
            viewer.number, key, kind=kind, member=member or None, device=device or None, post=post,
            valid_until=valid_until or None, reason=reason, text_=text_,
        )  # fmt: skip
    except PostguardError as exc:
        sent = {
            "kind": kind, "member": member, "device": device, "post": post, "valid_until": valid_until,
            "reason": reason, "text": text_,
        }  # fmt: skip
        field = _field_of(exc)
        return _view(
            request, state, viewer, status=status_of(exc), values=sent,
            errors={field: str(exc)} if field else {}, error=str(exc),
        )  # fmt: skip
    return back("/permissions", ok=f"Permission {row.code} issued and signed.")


#: Words in a refusal that point at a field of the permission form (first match wins).
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("passphrase", ("passphrase", "too many")),
    ("valid_until", ("date", "until", "the end")),
    ("device", ("device",)),
    ("post", ("post", "draft")),
    ("member", ("member",)),
    ("kind", ("kind",)),
    ("reason", ("reason",)),
    ("text", ("wording", "text")),
)


def _field_of(exc: PostguardError) -> str:
    named = getattr(exc, "field", "")
    if named and any(named == name for name, _ in _WORDS):
        return str(named)
    if isinstance(exc, SigningKeyError | TooManyAttemptsError):
        return "passphrase"
    message = str(exc).lower()
    return next((name for name, words in _WORDS if any(w in message for w in words)), "")


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
