"""The A.iii.confidential neutral shapes: a sentence about a killing or its victim that
identifies nobody is not flagged by the model; the same sentence with a name, a first name
after a relation, a school, a house number, a case-like number or a word of evidence is
still judged (policy pack, clauses[A.iii.confidential].neutral)."""

from __future__ import annotations

import pytest

from postguard.checks import Checker
from postguard.checks.detectors.learned import LearnedDetector


@pytest.fixture(scope="module")
def detector(checker: Checker) -> LearnedDetector:
    found = [
        d for d in checker.detectors if isinstance(d, LearnedDetector) and d.clause == "A.iii.confidential"
    ]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    "sentence",
    [
        "Two men have been charged with murder after a cyclist died in Hove.",
        "The family of a man who was killed in Ashby Vale have paid tribute to him.",
        "We have arrested a second person over the murder of a woman who was shot in Kettlewell.",
        "Victim named after fatal stabbing at a bus stop",
        "Police were called after a man was found dead in a flat.",
        "Officers looking into the death of a 19-year-old woman in #Kingsbridge have made two arrests.",
    ],
)
def test_a_killing_that_identifies_nobody_is_neutral(detector: LearnedDetector, sentence: str) -> None:
    assert detector.is_neutral(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Abraham was stabbed to death outside the shop.",  # a first name as the subject
        "Michael, 24, died at the scene.",  # a first name and an age
        "The murder of Smith shocked the town.",  # a surname after "of"
        "Her son Dwayne was killed in 2014.",  # a first name after a relation
        "The victim, Jane Doe, died in hospital.",  # a full name
        "The victim lived at 14 Elm Road and was killed there.",  # a house number and street
        "Officers found blood on the victim's coat.",  # unreleased evidence
        "A 15-year-old pupil at Hillside Academy was stabbed on Monday.",  # a school identifies a juvenile
        "Tributes have been paid to Anna, who was killed on Friday.",  # a first name before "who"
        "The victim named as Kelly died on Friday.",  # named as
        "Case 24/118365: the victim died of her injuries.",  # a case-like number
    ],
)
def test_a_name_relation_school_address_number_or_evidence_is_not_neutral(
    detector: LearnedDetector, sentence: str
) -> None:
    assert not detector.is_neutral(sentence)


def test_a_neutral_killing_sentence_is_allowed_but_a_named_victim_is_flagged(checker: Checker) -> None:
    plain = checker.check("Two men have been charged with murder after a cyclist died in Hove on Friday.")
    assert "A.iii.confidential" not in {f.clause for f in plain.findings}
    named = checker.check("A man has been charged with the murder of Kerry Ashdown, 31, who died in Hove.")
    assert "A.iii.confidential" in {f.clause for f in named.findings}
