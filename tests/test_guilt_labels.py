"""The offence-label-at-arrest pattern, on its own: an offence used as a person's label at
arrest ("Barn Arsonist Arrested") is A.iii.guilt; an alleged or suspected offender, a status from
an earlier conviction, and a post that reports the verdict are not (data/real/GUIDE.md)."""

from __future__ import annotations

import pytest

from conftest import rules_found
from postguard.checks import Checker

PATTERN = "guilt.offence-label-at-arrest"


def _fired(checker: Checker, text: str) -> bool:
    return PATTERN in rules_found(checker, text)


@pytest.mark.parametrize(
    "text",
    [
        "| Barn Arsonist Arrested | Investigators searched a farmhouse outside Dunmore on Tuesday.",
        "Knife offender detained near the bus station; a blade was recovered.",
        "Tractor thief caught on the B4120 thanks to the ANPR team!",
        "UPDATE: Bike-shed burglar nabbed in Castleford overnight.",
        "Porch pirates nabbed! Two people are in custody after a string of parcel thefts.",
        "The shoplifter has been detained by store security and handed to officers.",
    ],
)
def test_an_offence_used_as_a_label_at_arrest_is_found(patterns: Checker, text: str) -> None:
    assert _fired(patterns, text)


@pytest.mark.parametrize(
    "text",
    [
        "Alleged credit union robber arrested by deputies in Oakvale.",
        "Suspected Ferry Lane shooter apprehended after a short chase.",
        "Accused catalytic converter thief charged at Hollins Court.",
        "A sex offender arrested in Ashgrove had not told us his new address.",
        "Registered offender arrested for breaching the terms of his order.",
        "A man the court designated a sexually violent predator apprehended at a motel on Route 9.",
        "Burglar caught on doorbell camera has been jailed for three years.",
        "A man has been arrested on suspicion of arson after the warehouse fire.",
        "Police are hunting the robbers who targeted a post office; nobody has been arrested.",
    ],
)
def test_alleged_status_and_verdict_are_not_a_label(patterns: Checker, text: str) -> None:
    assert not _fired(patterns, text)
