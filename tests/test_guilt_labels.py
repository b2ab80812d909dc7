"""The guilt patterns of real arrest posts, on their own: an offence used as a person's label
at arrest ("Barn Arsonist Arrested"), and an act stated as fact ("arrested her after she struck a
parked car"), are A.iii.guilt; an alleged or suspected offender or act, a status from an earlier
conviction, and a post that reports the verdict are not (data/real/GUIDE.md)."""

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


# The act-stated-at-arrest pattern: a post that reports an arrest, a charge, a warrant or a
# wanted person and says, as fact, that the person did the act ("arrested her after she struck
# a parked car", "searching for a man, 33, who stabbed") is A.iii.guilt (data/real/GUIDE.md,
# settled cases). An alleged act, an act that is no crime, a neutral charge and a post that
# reports the verdict are not.
ACT = "guilt.act-stated-at-arrest"


@pytest.mark.parametrize(
    "text",
    [
        "Officers obtained warrants for Dana Pruett after she struck a parked van on Elm St and left.",
        "Deputies arrested Corwin Baez, 29, on Friday after he robbed a pharmacy on the bypass.",
        "We charged a woman after she spat at two shop workers on Saturday.",
        "Troopers arrested two men after they broke into a tyre depot overnight.",
        "WANTED: we are searching for Lyle Ambrose, 41, who stabbed a man outside a bar.",
        "Help us find Terrence Vail Jr., who violently assaulted a neighbour on Sunday.",
        "Police arrested a driver after he deliberately rammed a patrol car in Hinton.",
    ],
)
def test_an_act_stated_as_fact_at_arrest_is_found(patterns: Checker, text: str) -> None:
    assert ACT in rules_found(patterns, text)


@pytest.mark.parametrize(
    "text",
    [
        "Deputies arrested a man after he allegedly robbed a pharmacy on the bypass.",  # alleged
        "Police arrested a 33-year-old man after a pharmacy was robbed.",  # nobody said to have done it
        "Officers arrested a woman after she was found with a stolen card.",  # found with, no act
        "We are looking for Norah Fitch, 72, who left her home on foot this morning.",  # a missing person
        "A man has been charged with the murder of Keon Ward, who died in hospital.",  # the victim
        "Sheriff's Deputies Arrest Man Who Fled Traffic Stop",  # a headline's noun, not a name
        "Carl Dyer was jailed today; he was arrested after he stabbed a man in 2023.",  # the verdict
        "A man was arrested after he moved into a house on Pine Road.",  # no crime
    ],
)
def test_alleged_acts_no_acts_and_verdicts_are_not_found(patterns: Checker, text: str) -> None:
    assert ACT not in rules_found(patterns, text)
