"""Request and response bodies of the API (the check's follow contract.md exactly)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from postguard.registry.roles import Role
from postguard.registry.values import date_only, end_of_day

__all__ = [
    "AccessDecideIn",
    "AccessDecisionOut",
    "ApproveIn",
    "AuthorisationIn",
    "CheckContextIn",
    "CheckIn",
    "ComputerIn",
    "DisputeIn",
    "DraftIn",
    "MemberChangeIn",
    "MemberIn",
    "PermissionIn",
    "PersonalDeviceIn",
    "ReturnIn",
    "RevokeIn",
    "RolesIn",
    "ScheduleIn",
    "SubmitIn",
    "VerifyOut",
]


def _through_the_day(value: object) -> object:
    """An end given as a date alone (``2027-06-30``) is the end of that day, 23:59:59.999999 UTC."""
    day = date_only(value)
    return end_of_day(day) if day is not None else value


#: A grant's end: a date-time, or a date alone meaning through the end of that day (UTC).
Until = Annotated[
    dt.datetime | None,
    BeforeValidator(_through_the_day),
    Field(
        description="The end: a date-time (no zone means UTC), or a date alone (YYYY-MM-DD) meaning "
        "through the end of that day, 23:59:59.999999 UTC. Empty: until revoked."
    ),
]


class CheckContextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Literal["official", "personal"] = "official"
    capacity: Literal["official", "personal"] = "official"
    attachments: list[str] = Field(default_factory=list, max_length=50)
    permissions: list[str] = Field(default_factory=list, max_length=50)


class CheckIn(BaseModel):
    """One post, as one line of the batch contract."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=200)
    text: str = Field(max_length=65_536)
    context: CheckContextIn | None = None


class AccessDecideIn(BaseModel):
    """For proxies other than Squid: who, from what, to where."""

    model_config = ConfigDict(extra="forbid")

    destination: str = Field(min_length=1, max_length=8192, examples=["https://x.com/police"])
    member: str = Field(min_length=1, max_length=64)
    computer: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=64)
    device: str | None = Field(None, max_length=128)


class AccessDecisionOut(BaseModel):
    allowed: bool
    clause: str | None
    reason: str
    grant: str | None
    site: str | None
    category: str | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    checkpoints: int
    checkpoints_verified: int
    witnessed: int = 0
    witnessed_verified: int = 0
    uncovered: int = Field(0, description="Entries no signed checkpoint or witnessed head covers yet.")
    first_bad: int | None
    problem: str
    warnings: list[str]


JsonDict = dict[str, Any]


class DraftIn(BaseModel):
    """A draft for a department account. Its context is the department's: account and capacity
    are official (a personal one is refused); the author names attachments and any permissions."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=65_536)
    account: str | None = Field(
        None,
        max_length=300,
        examples=["mastodon:@police@social.example"],
        description="The official account it is published on (platform:handle), active and connected; "
        "it must be set before the draft is submitted. On an edit, none keeps the account it has.",
    )
    context: CheckContextIn | None = None


class DisputeIn(BaseModel):
    """A reviewer's word that one finding of a submission is wrong."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(min_length=1, max_length=32, description="The clause id of the finding.")
    reason: str = Field(min_length=1, max_length=4000, description="Why the finding is wrong.")
    start: int | None = Field(
        None, ge=0, description="The finding's span start, when its clause has several."
    )


class RewriteIn(BaseModel):
    """Which finding's one-step rewrite (its ``replacement``) to put in place of its words."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(min_length=1, max_length=32, description="The clause id of the finding.")
    start: int = Field(ge=0, description="The finding's span start.")


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str = Field(min_length=1, max_length=128, description="Asset tag or personal device id.")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=4000, description="Why a post with findings may be published.")
    permission: str = Field("", max_length=32, description="A confidential-release permission id.")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=4000)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=4000)


_ID = Field(min_length=1, max_length=64)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_number: str = _ID
    name: str = Field(min_length=1, max_length=200)
    rank: str = Field("", max_length=100)
    unit: str = Field("", max_length=200)
    roles: list[Role] = Field(default=["officer"], min_length=1, max_length=6)


class MemberChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    rank: str | None = Field(None, max_length=100)
    unit: str | None = Field(None, max_length=200)
    roles: list[Role] | None = Field(None, min_length=1, max_length=6)
    active: bool | None = None


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1, max_length=6)


class ComputerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_tag: str = _ID
    hostname: str = Field("", max_length=255)
    addresses: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=64,
        description="IPv4 or IPv6 addresses or CIDR ranges (10.20.0.42, 10.20.0.0/24), stored normalised; "
        "no other active computer may have the same address or an overlapping range.",
    )
    on_police_network: bool = True


class PersonalDeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(min_length=1, max_length=128, description="Serial, IMEI or MAC.")
    owner: str = _ID
    description: str = Field("", max_length=500)


class AuthorisationIn(BaseModel):
    """Clause B: a member (or all), on a computer (or all), to a site, category or all social media."""

    model_config = ConfigDict(extra="forbid")

    member: str | None = Field(None, max_length=64)
    computer: str | None = Field(None, max_length=64)
    scope: Literal["site", "category", "all"]
    target: str = Field("", max_length=255)
    valid_from: dt.datetime | None = None
    valid_until: Until = None
    reason: str = Field(min_length=1, max_length=2000)


class PermissionIn(BaseModel):
    """A written permission of the Commissioner, signed on the server with the commissioner key."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["personal-device", "confidential-release"]
    member: str | None = Field(None, max_length=64)
    device: str | None = Field(None, max_length=128)
    post: str = Field("", max_length=200, description="The draft or post it releases (confidential-release).")
    valid_from: dt.datetime | None = None
    valid_until: Until = None
    reason: str = Field(min_length=1, max_length=2000)
    text: str = Field(min_length=1, max_length=8000, description="The permission's words, as signed.")
    passphrase: str = Field(
        min_length=1, max_length=1024, description="The commissioner key's passphrase (never stored)."
    )


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: dt.datetime = Field(description="When to publish (ISO 8601; UTC unless an offset is given).")
