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
        "County Troopers Arrest Man Who Fled Checkpoint",  # a headline's noun, not a name
        "Carl Dyer was jailed today; he was arrested after he stabbed a man in 2023.",  # the verdict
        "A man was arrested after he moved into a house on Pine Road.",  # no crime
    ],
)
def test_alleged_acts_no_acts_and_verdicts_are_not_found(patterns: Checker, text: str) -> None:
    assert ACT not in rules_found(patterns, text)


# Three more shapes of the same settled cases, each a pattern of its own:
# - guilt.offence-label-caught: verb first, headline style ("Troopers Collar Serial Catalytic
#   Converter Thief"); not an alleged, suspected, convicted or registered person, not an appeal to
#   catch people nobody has been arrested as ("help us catch the vandals"), not after a verdict.
# - guilt.arrested-after-act: an arrest or charge "after" the act as fact, in the gerund ("Man
#   Arrested After Brandishing Machete at Bus Driver"); not "after stabbing in Longfield" (the
#   event, not an act said of the person).
# - guilt.named-subject-did-act: in a warrant, wanted or arrest post, the person (by name, or
#   "he"/"she") is the subject of a crime's act ("Okafor rammed a delivery van on Elm Street"); not
#   an officer after a rank, a passive ("assaulted by"), a car's model after its maker or an alleged act.
CAUGHT, AFTER, SUBJECT = (
    "guilt.offence-label-caught",
    "guilt.arrested-after-act",
    "guilt.named-subject-did-act",
)

FOUND = [
    (CAUGHT, "Troopers Collar Serial Catalytic Converter Thief in Glenmoor (03/14), https://t.co/Ab12Cd34Ef"),
    (CAUGHT, "SHERIFF'S OFFICE NABS WEAPONS VIOLATOR OUTSIDE THE BOWLING ALLEY"),
    (CAUGHT, "Officers caught two shoplifters at the retail park this afternoon."),
    (CAUGHT, "Sheriff's Office Captures Another Fugitive Carjacker near the county line"),
    (CAUGHT, "We arrested the burglar on Friday morning after a tip from a neighbour."),
    (AFTER, "Man Arrested After Brandishing Machete at Bus Driver (05/02), https://t.co/Xy98Zw76Vu"),
    (AFTER, "Driver With Three Warrants Caught After Ramming Two Parked Cars"),
    (AFTER, "A man has been charged after firing shots at a patrol car on Kingsway."),
    (AFTER, "Teen arrested after stabbing a classmate outside the leisure centre."),
    (
        SUBJECT,
        "WANTED: we are searching for Tara Quill, 38. Quill, of Dunmore, rammed a delivery van on Elm Street.",
    ),
    (SUBJECT, "Can you help us trace Malik Ostrow? He smashed the windows of four shops on Bank Street."),
    (
        SUBJECT,
        "Warrants obtained for Dean Harlow. Harlow stole two bicycles from the station racks on Monday.",
    ),
    (SUBJECT, "Imani Roche is in custody. Roche punched a bus driver on the number 12 route."),
]

LEFT_ALONE = [
    (CAUGHT, "Deputies arrested an alleged car thief on Route 4 this morning."),
    (CAUGHT, "Officers arrested a registered sex offender for failing to report his address."),
    (CAUGHT, "Deputies Nab Convicted Burglar Who Skipped Probation"),
    (CAUGHT, "Help us catch the vandals who sprayed graffiti on the war memorial."),
    (CAUGHT, "Woman arrested in search for the attacker of a jogger."),
    (CAUGHT, "Constables collared the shoplifter, who has since been sent to prison for a year."),
    (CAUGHT, "We arrested the burglar last year; he was jailed for four years today."),
    (AFTER, "Teenager charged after stabbing in #Longfield"),
    (AFTER, "Two arrested after shooting."),
    (AFTER, "A man has been arrested after allegedly threatening staff at a pharmacy."),
    (AFTER, "A woman was arrested after a car was struck on Mill Lane."),
    (AFTER, "A man was arrested after being found with cannabis; he has been released under investigation."),
    (AFTER, "Woman jailed: she was arrested after carrying a knife into a nightclub last May."),
    (
        SUBJECT,
        "Warrants obtained for Dean Harlow, who is accused of burglaries. Harlow allegedly broke into three flats.",
    ),
    (SUBJECT, "Officer Brandt fired once; the suspect was arrested and is in custody."),
    (SUBJECT, "A man was arrested. The victim, Priya Nair, 34, assaulted by a stranger, is recovering."),
    (SUBJECT, "A silver Kia Picanto drove off; we arrested the driver later."),
    (SUBJECT, "A blue Vauxhall Corsa rammed a bollard on Tuesday; we arrested the driver later."),
    (
        SUBJECT,
        "Being kicked or spat at is no part of an officer's shift. Anyone arrested for it will be charged.",
    ),
    (SUBJECT, "Rowe, 29, was jailed on Friday. Rowe stabbed a man in 2024 and was arrested at the scene."),
]


@pytest.mark.parametrize(("rule", "text"), FOUND)
def test_each_settled_shape_is_found_by_its_pattern(patterns: Checker, rule: str, text: str) -> None:
    assert rule in rules_found(patterns, text)


@pytest.mark.parametrize(("rule", "text"), LEFT_ALONE)
def test_alleged_convicted_passive_and_event_shapes_are_left_alone(
    patterns: Checker, rule: str, text: str
) -> None:
    assert rule not in rules_found(patterns, text)
