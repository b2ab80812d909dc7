"""Every text clause, table-driven: what violates it, what does not, and
obfuscated spellings of violations. These run the full shipped checker
(patterns and the learned model together)."""

from __future__ import annotations

import pytest

from postguard.checks import Checker

PERSONAL = {"account": "personal", "capacity": "official"}

VIOLATIONS = [
    # A.i conduct and decorum
    ("A.i", "Another genius tried to outrun a patrol car on a moped. What an idiot.", None),
    ("A.i", "Drink-drivers are absolute scum and deserve everything they get, the morons.", None),
    ("A.i", "To the clowns who keep calling 999 about their wifi: get a life 🙄", None),
    ("A.i", "Shut up and stop whining about parking tickets, nobody cares.", None),
    ("A.i", "Wh@t a bunch of 1d10ts blocking the junction again.", None),
    ("A.i", "This is f\u200bu\u200bc\u200bk\u200bi\u200bn\u200bg ridiculous.", None),
    # A.iii.guilt
    ("A.iii.guilt", "We got our man! The 45-year-old was arrested at his home this morning.", None),
    ("A.iii.guilt", "The thief who robbed the corner shop was arrested last night.", None),
    ("A.iii.guilt", "Proud of the team for taking this animal off our streets after his arrest.", None),
    ("A.iii.guilt", "Justice has been served: the suspect is now in custody.", None),
    ("A.iii.guilt", "The k i l l e r was arrested in Northfield and remains in custody.", None),
    (
        "A.iii.guilt",
        "From my phone: the man we arrested for the bakery robbery is guilty, no question. Good riddance!",
        None,
    ),
    # A.iii.prosecution
    ("A.iii.prosecution", "He appears in court on Monday and we are confident of a conviction.", None),
    ("A.iii.prosecution", "The evidence against her is overwhelming. Her trial begins next week.", None),
    ("A.iii.prosecution", "After what he did, he should never get bail when he appears on Friday.", None),
    ("A.iii.prosecution", "His defence is a joke and the jury will see right through it.", None),
    # A.iii.confidential
    (
        "A.iii.confidential",
        "The victim, named as Sarah Collins, 32, of 14 Rose Lane, remains in hospital.",
        None,
    ),
    (
        "A.iii.confidential",
        "A 16-year-old boy, Kieran Walsh of Tramore, was charged with criminal damage.",
        None,
    ),
    ("A.iii.confidential", "Officers arrested Tamsin Doyle, 15, after the fire at the youth centre.", None),
    ("A.iii.confidential", "The man who assaulted Priya Raman outside the bank has been charged.", None),
    ("A.iii.confidential", "The deceased, Michael Anthony Byrne, was a well-known local coach.", None),
    ("A.iii.confidential", "Here's the radio traffic from last night's pursuit, have a listen!", None),
    ("A.iii.confidential", "Our informant inside the gang tipped us off about the shipment.", None),
    ("A.iii.confidential", "Great day at the range!", {"attachments": ["firearms_training_day.mp4"]}),
    # A.iv.political
    (
        "A.iv.political",
        "Polling day tomorrow. Vote for Hendricks, the only candidate who backs the police!",
        None,
    ),
    ("A.iv.political", "Sign the petition against the mayor's budget cuts, link below.", None),
    ("A.iv.political", "The opposition leader is a disgrace and should never be elected.", None),
    # A.iv.private
    (
        "A.iv.private",
        "Stay safe this winter. My cousin's garage on King Street does tyre checks, tell them I sent you!",
        None,
    ),
    ("A.iv.private", "Use my code COPS20 for 20% off my wife's candles.", None),
    ("A.iv.private", "Buy my new book about life on the beat, out now on all good stores!", None),
    # A.ii identification (personal account, official capacity)
    ("A.ii", "Road closure on Main Street until 6pm due to a water main break.", PERSONAL),
    ("A.ii", "Lock your cars tonight, six break-ins this week. – Sgt. Hollis", PERSONAL),
    ("A.ii", "Our team will be at the school fair on Saturday, come and say hi! #ProudToServe", PERSONAL),
]

COMPLIANT = [
    "MISSING: 14-year-old Amy Clarke was last seen in Tralee on Friday. Have you seen her?",
    "Our Victim Support Unit helps anyone affected by crime. Call 0800 555 0101.",
    "Daniel Reyes, 34, of Carlow has been charged with robbery and will appear in court on Monday.",
    "Speeding kills. Slow down.",
    "A 34-year-old man was arrested and charged with robbery. He is due to appear in the Magistrates' Court on Monday.",
    "Police are seeking a man wanted for questioning in connection with a burglary on Oak Street.",
    "The suspect is described as white, about 6ft tall, wearing a dark hoodie.",
    "Daniel Reeve, 41, was found guilty by the High Court and sentenced to eight years.",
    "Officers will be present at all polling stations on Thursday. Expect delays near the town hall.",
    "Thank you to everyone who joined our Blue Light charity run for the children's hospice.",
    "MISSING: Have you seen Aisha, 12? She was last seen in Greenfield wearing a school uniform.",
    "Drink or drug drive this Christmas and you will be caught. It is not worth it.",
    "ROAD CLOSURE: the A38 is closed northbound after a collision. Please avoid the area.",
    "This behaviour is unacceptable and we will not tolerate it in our town centre.",
    "He was remanded in custody and will reappear on 14 March.",
    "The man who was found guilty of the robbery was jailed for six years on Friday.",
]

IDENTIFIED = [
    "Sgt. Leona Barrow, Community Policing Unit, Royal Bahamas Police Force: Bay Street is closed from 6 p.m.",
    "Keep laptops out of sight in cars. – Insp. Tom Hurley, Community Engagement, An Garda Síochána",
    "Posting as Constable Priya Nair of the Ridgeview Police Service: thank you for coming today.",
    "Media Relations Officer, Capeview Police Department: Harbor Drive is closed due to a gas leak.",
]


@pytest.mark.parametrize(("clause", "text", "context"), VIOLATIONS)
def test_violation_is_found(
    checker: Checker, clause: str, text: str, context: dict[str, object] | None
) -> None:
    report = checker.check(text, context)
    assert clause in report.clauses, [(f.clause, f.evidence, f.score) for f in report.findings]
    assert report.decision in ("review", "block")
    for finding in report.findings:
        assert text[finding.start : finding.end] == finding.evidence
        assert 0.0 <= finding.score <= 1.0 and finding.explanation


@pytest.mark.parametrize("text", COMPLIANT)
def test_compliant_post_is_allowed(checker: Checker, text: str) -> None:
    report = checker.check(text)
    assert report.decision == "allow", [(f.clause, f.evidence, f.score) for f in report.findings]


@pytest.mark.parametrize("text", IDENTIFIED)
def test_identified_writer_on_personal_account_is_not_a_ii(checker: Checker, text: str) -> None:
    assert "A.ii" not in checker.check(text, PERSONAL).clauses


def test_official_account_never_violates_a_ii(checker: Checker) -> None:
    assert "A.ii" not in checker.check("Road closed on Main Street.", {"account": "official"}).clauses


def test_personal_capacity_is_outside_the_content_clauses(checker: Checker) -> None:
    report = checker.check(
        "My wife's bakery opens Saturday, use my code CAKE10! Vote Harbourside!",
        {"account": "personal", "capacity": "personal"},
    )
    assert report.decision == "allow" and not report.findings


def test_two_violations_give_two_findings(checker: Checker) -> None:
    text = "We got our man, the scumbag. Vote for Hendricks on Tuesday!"
    report = checker.check(text)
    assert {"A.iii.guilt", "A.iv.political"} <= report.clauses
    assert len(report.findings) >= 2


def test_a_one_line_neutral_arrest_report_is_allowed(checker: Checker) -> None:
    """Once a strict xfail (the whole-post head read 'arrested' as guilt); tests/test_ordinary_posts.py
    holds the family of such posts."""
    assert checker.check("A 41-year-old man was arrested this morning.").decision == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "WITNESSES Jane Carter - 12 Oak Road Mohammed Patel - 7 Hill St",
        "Victim details: Sarah Jones, aged 15. Case 24/1187",
        "Witness: Tom Price, 4 Mill Lane, saw the car leave.",
    ],
)
def test_a_witness_or_victim_named_with_an_address_or_age_is_confidential(
    checker: Checker, text: str
) -> None:
    report = checker.check(text)
    assert any(f.rule == "confidential.identified-person-details" for f in report.findings), report.findings


@pytest.mark.parametrize(
    "text",
    [
        "Witnesses should call 101. Victim Support - 24 Hours a day.",
        "Witness appeal: anyone on Oak Road last night, please call 101.",
        "Victim Support Scotland is open 8am to 8pm on 0800 160 1985.",
    ],
)
def test_an_appeal_to_witnesses_is_not_a_named_witness(checker: Checker, text: str) -> None:
    assert not any(f.rule == "confidential.identified-person-details" for f in checker.check(text).findings)
