"""Victims named by a given name alone, on the patterns alone: real posts name a victim
they have named before, or know by a first name ("Kayden's killers", "Tomasz was
stabbed"); a day's or a city's possessive, a place, a pronoun or officers are not names."""

from __future__ import annotations

import pytest

from postguard.checks import Checker


def _rules(checker: Checker, text: str) -> list[str]:
    return [f.rule for f in checker.check(text).findings if f.clause == "A.iii.confidential"]


@pytest.mark.parametrize(
    "text",
    [
        "Can you help us find Kayden's killers? Call 101.",
        "A reward is offered for information about Marisol's tragic murder in Hove.",
        "Detectives investigating Priya Shah's death have made a second arrest.",
        "We are no closer to Tyrell's murderers being caught, but we will not stop.",
    ],
)
def test_a_victims_possessive_killing_is_found(patterns: Checker, text: str) -> None:
    assert _rules(patterns, text) == ["confidential.named-victims-killing"]


def test_a_given_name_attacked_goes_to_a_reviewer(patterns: Checker) -> None:
    [finding] = patterns.check("Tomasz was stabbed outside the club on Friday.").findings
    assert finding.rule == "confidential.first-name-was-attacked" and finding.evidence == "Tomasz was stabbed"
    assert patterns.check("Tomasz was stabbed outside the club on Friday.").decision == "review"


@pytest.mark.parametrize(
    "text",
    [
        "Saturday's shooting in Moss Side is being investigated.",
        "London's murder rate fell again last year.",
        "The country's homicide figures are published today.",
        "A shop on Marine Parade was robbed on Saturday night.",
        "A house in Longsight was shot at overnight; nobody was hurt.",
        "He was stabbed in the leg and is in a stable condition.",
        "Officers were assaulted during the arrest.",
        "Police Scotland's murder investigation team is leading the enquiry.",
        "Come and meet the team on Friday August 16, at the park.",  # a date is not "Name, 16,"
        "Rape Suspect Arrested in Durham",  # a headline's words are not a victim's name
    ],
)
def test_days_places_pronouns_and_officers_are_not_victims_named(patterns: Checker, text: str) -> None:
    assert _rules(patterns, text) == []


# Victims named in the shapes real posts use beyond the first ones: an age spelled out, a
# description or a relation before the name, a name in another alphabet or with a Mc/O'
# prefix, a middle initial or "Jr.", the dead named "as" someone, and a named person who died.
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("A man has been jailed for the murder of two-year-old Elsie Marr-Quinn.", "killing-of-named-victim"),
        (
            "Detectives continue to investigate the homicide of Dwayne McAllister Jr. in May.",
            "killing-of-named-victim",
        ),
        (
            "A woman was found guilty of murdering mother of four, Grace Ilunga, in her flat.",
            "killing-of-named-victim",
        ),
        ("He was convicted of the murder of his partner Renée Okafor last year.", "killing-of-named-victim"),
        (
            "A reward is offered in the unsolved homicide cases of Tomás Ibáñez and Ruth Penn.",
            "killing-of-named-victim",
        ),
        ("An arrest has been made in the hunt for the killer of Aiden O'Rourke.", "killing-of-named-victim"),
        (
            "The body of Lorna Beatrix Quaid was found in a field near the ring road.",
            "killing-of-named-victim",
        ),
        (
            "A woman was charged with racially abusing shop worker Femi Adeyemi-Cole.",
            "victim-object-of-crime",
        ),
        ("The victim in this case has been identified as 33-year-old Curtis Ambler.", "dead-named-as"),
        (
            "A teenager who was fatally stabbed on Tuesday has been named locally as Mikey Santangelo.",
            "dead-named-as",
        ),
        (
            "Officers investigating the death of a man in Hulme have named him as 41yo Bartosz Wren.",
            "dead-named-as",
        ),
        ("Hollis Brandt, 77, died following a collision on the bypass on Sunday.", "named-person-died"),
        ("Ianto Pryce has died, and two men have been arrested.", "named-person-died"),
        (
            "Deputy Rhoda K. Vance who was killed in the line of duty will be remembered.",
            "named-person-was-attacked",
        ),
        ("Colm Darragh (pictured) was stabbed outside a takeaway.", "named-person-was-attacked"),
        ("A reward is now offered in the Marisa Quayle homicide case.", "named-killing-case"),
        ("Officers on the Dion Achebe murder investigation have made a third arrest.", "named-killing-case"),
        (
            "Nadia Ferreira suffered serious head injuries when she was struck by the van.",
            "named-person-was-attacked",
        ),
    ],
)
def test_victims_named_in_more_shapes_are_found(patterns: Checker, text: str, rule: str) -> None:
    assert f"confidential.{rule}" in _rules(patterns, text)


@pytest.mark.parametrize(
    "text",
    [
        "Two men were arrested after the armed robbery of Westgate Credit Union.",  # a business
        "Officers are appealing for witnesses to a serious assault on Mill Lane Drive.",  # a street
        "Manhunt Continues For Suspect In Shooting Of Riverton Police Officer",  # a headline
        "Man Convicted For The Murders Of Three Generations Of A Family",  # a number is not a name
        "The man charged with the murder has been named as Dale Ormsby, 34, of Hull.",  # the accused
        "The missing man found dead yesterday has been named as Owen Pike.",  # a missing-person update
        "We are saddened by the death of retired Inspector Glen Hale, who died of cancer.",  # an illness
        "Glen Hale died peacefully at home, surrounded by his family.",  # no crime, no collision
        "Arrests Made In Saffron Drive Murder Investigation",  # a place, in a headline's capitals
        "Detectives leading the Kingsway Market murder case appeal for dashcam footage.",  # a place
    ],
)
def test_businesses_streets_headlines_and_the_accused_are_not_victims_named(
    patterns: Checker, text: str
) -> None:
    assert _rules(patterns, text) == []
