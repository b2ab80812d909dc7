"""The policy in force, and members' acknowledgements of it: /api/v1/policy (issue 12).

The rules (the quiz graded here on the server, one acknowledgement per member and pack,
the audit entry) live in :mod:`postguard.registry.acknowledgements`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from postguard.policy.schema import PolicyPack
from postguard.registry.acknowledgements import Acknowledgements, acknowledgement_dict
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, State, require

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])
ReaderDep = Annotated[TokenHolder, require("policy.read")]
AcknowledgerDep = Annotated[TokenHolder, require("policy.acknowledge")]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="The SHA-256 of the pack that was read (GET /api/v1/policy).",
    )
    answers: dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=64)]] = Field(
        default_factory=dict, max_length=50, description="Quiz answers: question id to clause id, or 'none'."
    )


def acknowledgements(state: State) -> Acknowledgements:
    return Acknowledgements(state.registry, state.checker.pack)


def pack_dict(pack: PolicyPack) -> dict[str, Any]:
    """The pack in force, as members read it: its text, clauses and examples."""
    info = pack.policy
    return {
        "version": pack.version,
        "sha256": pack.sha256,
        "title": info.title,
        "department": info.department,
        "date": info.date.isoformat(),
        "authority": info.authority,
        "source": info.source,
        "definitions": dict(pack.definitions),
        "required_before_submit": pack.acknowledgement.required_before_submit,
        "clauses": [
            {
                "id": c.id,
                "name": c.name or c.title,
                "title": c.title,
                "kind": c.kind,
                "enabled": c.enabled,
                "text": c.text,
                "violates": list(c.violates),
                "does_not_violate": list(c.does_not_violate),
            }
            for c in pack.clauses
        ],
    }


@router.get("", summary="The policy in force, the caller's quiz and whether they acknowledged it")
def policy(state: ServiceDep, caller: ReaderDep) -> dict[str, Any]:
    acks = acknowledgements(state)
    quiz = state.checker.pack.acknowledgement.quiz
    return {
        **pack_dict(state.checker.pack),
        "quiz": (
            {"needed": quiz.needed, "questions": [q.public() for q in acks.quiz(caller.service_number)]}
            if quiz is not None
            else None
        ),
        "acknowledged": acks.status(caller.service_number),
    }


@router.post(
    "/acknowledge", status_code=201, summary="Acknowledge the policy in force (with the quiz's answers)"
)
def acknowledge(body: AcknowledgeIn, state: ServiceDep, caller: AcknowledgerDep) -> dict[str, Any]:
    """The caller acknowledges for themselves only; a wrong quiz is refused (422), a pack other
    than the one in force (409)."""
    row = acknowledgements(state).acknowledge(caller.service_number, sha256=body.sha256, answers=body.answers)
    return acknowledgement_dict(row)


@router.get(
    "/unacknowledged",
    dependencies=[require("policy.unacknowledged")],
    summary="Active members who have not acknowledged the policy in force (overseers)",
)
def unacknowledged(state: ServiceDep) -> dict[str, Any]:
    return acknowledgements(state).summary()
