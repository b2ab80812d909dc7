"""Request and response bodies of the API (the check's follow contract.md exactly)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccessDecideIn",
    "AccessDecisionOut",
    "ApproveIn",
    "CheckContextIn",
    "CheckIn",
    "DraftIn",
    "ReturnIn",
    "SubmitIn",
    "VerifyOut",
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
    first_bad: int | None
    problem: str
    warnings: list[str]


JsonDict = dict[str, Any]


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=65_536)
    account: str | None = Field(None, max_length=300, examples=["mastodon:@police@social.example"])
    context: CheckContextIn | None = None


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
