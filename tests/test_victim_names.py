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
