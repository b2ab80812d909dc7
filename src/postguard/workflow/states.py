"""A draft's states and the steps between them: the workflow as a table.

::

    checked --submit--> submitted --approve (enough approvals)--> approved --schedule--> scheduled
       ^                    |  \\--return (with a comment)--> returned --edit/submit--^      |
       |                    \\--(not approved in time)--> expired             <--unschedule--/
    edit (author only, in checked or returned)            approved --publish--> published
                                                          approved --held at publication--> returned

Any state but published may be withdrawn (by the author or a reviewer): withdrawn is final.
A submission's findings may be disputed, and the disputes confirmed, while it is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STATES", "STEPS", "Step"]

STATES = (
    "checked",
    "submitted",
    "approved",
    "returned",
    "expired",
    "scheduled",
    "published",
    "withdrawn",
)


@dataclass(frozen=True)
class Step:
    """One step: the action it is audited as, the states it starts from, and its past tense."""

    action: str
    starts_from: tuple[str, ...]
    done: str

    def refusal(self, code: str, state: str) -> str:
        return f"{code} is {state}; it can be {self.done} only when {' or '.join(self.starts_from)}."


STEPS: dict[str, Step] = {
    "edit": Step("draft.edit", ("checked", "returned"), "edited"),
    "submit": Step("draft.submit", ("checked", "returned"), "submitted"),
    "approve": Step("review.approve", ("submitted",), "approved"),
    "return": Step("review.return", ("submitted",), "returned"),
    "dispute": Step("review.dispute", ("submitted",), "disputed"),
    "confirm-dispute": Step("review.confirm-dispute", ("submitted",), "confirmed"),
    "schedule": Step("publish.schedule", ("approved",), "scheduled"),
    "unschedule": Step("publish.unschedule", ("scheduled",), "taken off the schedule"),
    # Withdrawn by its author or a reviewer: final; it is never submitted, approved or published.
    "withdraw": Step(
        "draft.withdraw",
        ("checked", "submitted", "approved", "returned", "expired", "scheduled"),
        "withdrawn",
    ),
}
