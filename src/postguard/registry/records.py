"""The registry's records as the outside sees them (dicts), and how each table is written.

A :class:`RecordKind` describes one table for the registry's shared add /
change / revoke scaffold: the noun its actions and audit targets take, its
key, how it is described, and which clause its entries are filed under.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from postguard.policy.schema import Concept
from postguard.registry.models import Computer, Member, OfficialAccount, PersonalDevice

__all__ = [
    "ACCOUNTS",
    "COMPUTERS",
    "DEVICES",
    "MEMBERS",
    "RecordKind",
    "account_dict",
    "computer_dict",
    "device_dict",
    "member_dict",
]

T = TypeVar("T", Member, Computer, PersonalDevice, OfficialAccount)


def member_dict(m: Member) -> dict[str, Any]:
    return {
        "service_number": m.service_number,
        "name": m.name,
        "rank": m.rank,
        "unit": m.unit,
        "roles": list(m.roles),
        "active": m.active,
    }


def computer_dict(c: Computer) -> dict[str, Any]:
    return {
        "asset_tag": c.asset_tag,
        "hostname": c.hostname,
        "addresses": list(c.addresses),
        "on_police_network": c.on_police_network,
        "active": c.active,
    }


def device_dict(d: PersonalDevice) -> dict[str, Any]:
    return {
        "identifier": d.identifier,
        "owner": d.owner.service_number,
        "description": d.description,
        "active": d.active,
    }


def account_dict(a: OfficialAccount) -> dict[str, Any]:
    return {"platform": a.platform, "handle": a.handle, "active": a.active}


@dataclass(frozen=True)
class RecordKind(Generic[T]):
    """How one registry table is written and described (for the shared scaffold)."""

    noun: str  # the actions' and targets' prefix: member.add, member:1001
    what: str  # for people: "member", "department computer"
    key: Callable[[T], str]  # the record's key in targets: a service number, "platform:handle"
    describe: Callable[[T], dict[str, Any]]
    concept: Concept | None  # the clause its entries are filed under, by what the clause covers


MEMBERS: RecordKind[Member] = RecordKind("member", "member", lambda m: m.service_number, member_dict, None)
COMPUTERS: RecordKind[Computer] = RecordKind(
    "computer", "department computer", lambda c: c.asset_tag, computer_dict, "department-computers"
)
DEVICES: RecordKind[PersonalDevice] = RecordKind(
    "device", "personally owned device", lambda d: d.identifier, device_dict, "personal-devices"
)
ACCOUNTS: RecordKind[OfficialAccount] = RecordKind(
    "account", "official account", lambda a: f"{a.platform}:{a.handle}", account_dict, "identification"
)
