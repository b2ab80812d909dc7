"""Read the registry: members, devices, authorisations, permissions (writes come with the web app)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from postguard.registry.models import Computer, Member, PersonalDevice
from postguard.registry.service import computer_dict, device_dict, member_dict
from postguard.web.deps import ServiceDep, require

router = APIRouter(prefix="/api/v1", tags=["registry"])
READERS = ("it_admin", "commissioner", "auditor", "reviewer")


@router.get("/members", dependencies=[require(*READERS)], summary="List members")
def list_members(state: ServiceDep) -> list[dict[str, Any]]:
    return state.registry.read(
        lambda s: [member_dict(m) for m in s.scalars(select(Member).order_by(Member.id))]
    )


@router.get("/members/{service_number}", dependencies=[require(*READERS)], summary="One member")
def get_member(service_number: str, state: ServiceDep) -> dict[str, Any]:
    return state.registry.read(lambda s: member_dict(state.registry.member(s, service_number)))


@router.get("/devices", dependencies=[require(*READERS)], summary="Computers and personal devices")
def list_devices(state: ServiceDep) -> list[dict[str, Any]]:
    return state.registry.read(
        lambda s: (
            [{"kind": "computer", **computer_dict(c)} for c in s.scalars(select(Computer))]
            + [{"kind": "personal", **device_dict(d)} for d in s.scalars(select(PersonalDevice))]
        )
    )


@router.get("/authorisations", dependencies=[require(*READERS)], summary="Clause B authorisations")
def list_authorisations(state: ServiceDep) -> list[dict[str, Any]]:
    return state.grants.list_authorisations()


@router.get(
    "/permissions", dependencies=[require(*READERS)], summary="Written permissions, with whether honoured"
)
def list_permissions(state: ServiceDep) -> list[dict[str, Any]]:
    rows = state.grants.list_permissions()
    for row in rows:
        verdict = state.grants.honoured(row["id"])
        row["honoured"], row["why"] = verdict.valid, verdict.reason
    return rows
