"""The registry over the API: members, devices, authorisations (clause B), permissions (clause C, A.iii).

Reads are open to the roles that oversee the registry; each write needs the
role that the one role table (:mod:`postguard.registry.roles`) gives its
action, is checked again by the registry, and is audited in the same
transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from postguard.registry.grants import permission_dict
from postguard.registry.roles import allowed
from postguard.registry.service import computer_dict, device_dict, member_dict
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, require
from postguard.web.schemas import (
    AuthorisationIn,
    ComputerIn,
    MemberChangeIn,
    MemberIn,
    PermissionIn,
    PersonalDeviceIn,
    RevokeIn,
    RolesIn,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])
MemberWriterDep = Annotated[TokenHolder, require("member.change")]
GranterOfRolesDep = Annotated[TokenHolder, require("member.grant")]
ComputerWriterDep = Annotated[TokenHolder, require("computer.add")]
DeviceWriterDep = Annotated[TokenHolder, require("device.add")]
GranterDep = Annotated[TokenHolder, require("authorisation.add")]
CommissionerDep = Annotated[TokenHolder, require("permission.add")]
PermissionReaderDep = Annotated[TokenHolder, require("permission.read-own")]


# Members ----------------------------------------------------------------------


@router.get("/members", dependencies=[require("registry.read")], summary="List members")
def list_members(state: ServiceDep) -> list[dict[str, Any]]:
    return state.registry.members()


@router.post("/members", status_code=201, summary="Add a member (it_admin)")
def add_member(body: MemberIn, state: ServiceDep, caller: MemberWriterDep) -> dict[str, Any]:
    member = state.registry.add_member(
        caller.service_number,
        service_number=body.service_number,
        name=body.name,
        rank=body.rank,
        unit=body.unit,
        roles=list(body.roles),
    )
    return member_dict(member)


@router.get("/members/{service_number}", dependencies=[require("registry.read")], summary="One member")
def get_member(service_number: str, state: ServiceDep) -> dict[str, Any]:
    return state.registry.read(lambda s: member_dict(state.registry.member(s, service_number)))


@router.patch("/members/{service_number}", summary="Change a member; active=false revokes (it_admin)")
def change_member(
    service_number: str, body: MemberChangeIn, state: ServiceDep, caller: MemberWriterDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    if "roles" in changes:
        changes["roles"] = list(changes["roles"])
    member = state.registry.change_member(caller.service_number, service_number, **changes)
    return member_dict(member)


@router.post("/members/{service_number}/grant", summary="Grant roles (privileged ones: the Commissioner)")
def grant_roles(
    service_number: str, body: RolesIn, state: ServiceDep, caller: GranterOfRolesDep
) -> dict[str, Any]:
    member = state.registry.grant_roles(caller.service_number, service_number, list(body.roles))
    return member_dict(member)


# Devices and accounts ---------------------------------------------------------------


@router.get("/devices", dependencies=[require("registry.read")], summary="Computers and personal devices")
def list_devices(state: ServiceDep) -> list[dict[str, Any]]:
    return [{"kind": "computer", **c} for c in state.registry.computers()] + [
        {"kind": "personal", **d} for d in state.registry.devices()
    ]


@router.post("/devices/computers", status_code=201, summary="Register a department computer (it_admin)")
def add_computer(body: ComputerIn, state: ServiceDep, caller: ComputerWriterDep) -> dict[str, Any]:
    computer = state.registry.add_computer(
        caller.service_number,
        asset_tag=body.asset_tag,
        hostname=body.hostname,
        addresses=body.addresses,
        on_police_network=body.on_police_network,
    )
    return {"kind": "computer", **computer_dict(computer)}


@router.post("/devices/personal", status_code=201, summary="Register a personally owned device (it_admin)")
def add_personal_device(body: PersonalDeviceIn, state: ServiceDep, caller: DeviceWriterDep) -> dict[str, Any]:
    device = state.registry.add_device(
        caller.service_number, identifier=body.identifier, owner=body.owner, description=body.description
    )
    return {"kind": "personal", **device_dict(device)}


@router.post("/devices/computers/{asset_tag}/retire", summary="Retire a department computer (it_admin)")
def retire_computer(asset_tag: str, state: ServiceDep, caller: ComputerWriterDep) -> dict[str, Any]:
    computer = state.registry.change_computer(caller.service_number, asset_tag, active=False)
    return {"kind": "computer", **computer_dict(computer)}


@router.post("/devices/personal/{identifier}/retire", summary="Retire a personal device (it_admin)")
def retire_personal_device(identifier: str, state: ServiceDep, caller: DeviceWriterDep) -> dict[str, Any]:
    device = state.registry.change_device(caller.service_number, identifier, active=False)
    return {"kind": "personal", **device_dict(device)}


@router.get("/accounts", dependencies=[require("account.read")], summary="The department's official accounts")
def list_accounts(state: ServiceDep) -> list[dict[str, Any]]:
    return state.registry.accounts()


# Authorisations (clause B) ---------------------------------------------------------


@router.get("/authorisations", dependencies=[require("registry.read")], summary="Clause B authorisations")
def list_authorisations(state: ServiceDep) -> list[dict[str, Any]]:
    return state.grants.list_authorisations()


@router.post("/authorisations", status_code=201, summary="Authorise social media on department computers")
def add_authorisation(body: AuthorisationIn, state: ServiceDep, caller: GranterDep) -> dict[str, Any]:
    row = state.grants.authorise(
        caller.service_number,
        member=body.member,
        computer=body.computer,
        scope=body.scope,
        target=body.target,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        reason=body.reason,
    )
    return state.grants.get_authorisation(row.code)


@router.post("/authorisations/{code}/revoke", summary="Revoke an authorisation")
def revoke_authorisation(code: str, body: RevokeIn, state: ServiceDep, caller: GranterDep) -> dict[str, Any]:
    state.grants.revoke_authorisation(caller.service_number, code, body.reason)
    return state.grants.get_authorisation(code)


# Written permissions (clause C, A.iii) ------------------------------------------------------


def _with_verdict(state: ServiceDep, row: dict[str, Any]) -> dict[str, Any]:
    verdict = state.grants.honoured(row["id"])
    return {**row, "honoured": verdict.valid, "why": verdict.reason}


@router.get(
    "/permissions", summary="Written permissions, with whether honoured (overseers: all; others: their own)"
)
def list_permissions(state: ServiceDep, caller: PermissionReaderDep) -> list[dict[str, Any]]:
    rows = state.grants.list_judged()
    if allowed(caller.roles, "permission.read"):
        return rows
    return [r for r in rows if r.get("member") == caller.service_number]


@router.post(
    "/permissions",
    status_code=201,
    summary="Issue a written permission, signed with the commissioner key (commissioner)",
)
def add_permission(body: PermissionIn, state: ServiceDep, caller: CommissionerDep) -> dict[str, Any]:
    key = state.grants.unlock_key(caller.service_number, body.passphrase)
    row = state.grants.permit(
        caller.service_number,
        key,
        kind=body.kind,
        member=body.member,
        device=body.device,
        post=body.post,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        reason=body.reason,
        text_=body.text,
    )
    return _with_verdict(state, permission_dict(row))


@router.get("/permissions/{code}", summary="One written permission (overseers: any; others: their own)")
def get_permission(
    code: str, request: Request, state: ServiceDep, caller: PermissionReaderDep
) -> dict[str, Any]:
    row = state.grants.get_permission(code)[1]
    if row.get("member") != caller.service_number:
        require("permission.read").dependency(request, caller, state)  # refused and audited, or on
    return _with_verdict(state, row)


@router.post("/permissions/{code}/revoke", summary="Revoke a written permission (commissioner)")
def revoke_permission(
    code: str, body: RevokeIn, state: ServiceDep, caller: CommissionerDep
) -> dict[str, Any]:
    state.grants.revoke_permission(caller.service_number, code, body.reason)
    return _with_verdict(state, state.grants.get_permission(code)[1])
