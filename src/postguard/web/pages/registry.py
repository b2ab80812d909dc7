"""The registry for IT: members, computers, personal devices, accounts and clause B authorisations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postguard.registry.grants import SCOPES
from postguard.registry.roles import ROLES
from postguard.web.deps import ServiceDep
from postguard.web.pages.common import ViewerDep, act, check_csrf, needs, render

router = APIRouter(include_in_schema=False)


@router.get("/registry")
def registry_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "registry.read")
    reg = state.registry
    return render(
        request, "registry.html", viewer, members=reg.members(), computers=reg.computers(),
        devices=reg.devices(), accounts=reg.accounts(),
        authorisations=state.grants.list_authorisations()[::-1], roles=ROLES, scopes=SCOPES,
    )  # fmt: skip


@router.post("/registry/{what}")
def registry_form(
    request: Request,
    what: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    service_number: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    rank: Annotated[str, Form(max_length=100)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    asset_tag: Annotated[str, Form(max_length=64)] = "",
    hostname: Annotated[str, Form(max_length=255)] = "",
    addresses: Annotated[str, Form(max_length=2000)] = "",
    identifier: Annotated[str, Form(max_length=128)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    member: Annotated[str, Form(max_length=64)] = "",
    computer: Annotated[str, Form(max_length=64)] = "",
    scope: Annotated[str, Form(max_length=16)] = "",
    target: Annotated[str, Form(max_length=255)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    reg, grants, me = state.registry, state.grants, viewer.number
    forms: dict[str, tuple[str, Callable[[], object]]] = {
        "member": (
            f"Member {service_number} added.",
            lambda: reg.add_member(
                me, service_number=service_number, name=name, rank=rank, unit=unit, roles=roles or ["officer"]
            ),
        ),
        "computer": (
            f"Computer {asset_tag} registered.",
            lambda: reg.add_computer(
                me, asset_tag=asset_tag, hostname=hostname, addresses=addresses.replace(",", " ").split()
            ),
        ),
        "device": (
            f"Device {identifier} registered.",
            lambda: reg.add_device(me, identifier=identifier, owner=owner, description=description),
        ),
        "authorisation": (
            "Authorisation granted.",
            lambda: grants.authorise(
                me,
                member=member or None,
                computer=computer or None,
                scope=scope,
                target=target,
                valid_until=valid_until or None,
                reason=reason,
            ),
        ),
        "revoke-authorisation": (
            f"Authorisation {code} revoked.",
            lambda: grants.revoke_authorisation(me, code, reason or "revoked"),
        ),
        "deactivate-member": (
            f"Member {service_number} deactivated.",
            lambda: reg.change_member(me, service_number, active=False),
        ),
    }
    if what not in forms:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such form.")
    ok, action = forms[what]
    return act("/registry", ok, action)
