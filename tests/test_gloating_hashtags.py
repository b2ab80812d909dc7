"""The gloating-hashtag pattern, on its own: real hashtags are elongated and run words
together, so "#GotThemmm" and "#weekendnicked" gloat as "#GotThem" and "#Nicked" do; a
word that merely ends in the same letters ("#mythbusted", "#sandbagged") does not."""

from __future__ import annotations

import pytest

from conftest import rules_found
from postguard.checks import Checker

PATTERN = "decorum.gloating-hashtag"


def _fired(checker: Checker, text: str) -> bool:
    return PATTERN in rules_found(checker, text)


@pytest.mark.parametrize(
    "tag",
    ["#GotHim", "#gotcha", "#GotThemmm", "#Gottemmm", "#weekendnicked", "#BigJailTime", "#Nicked", "#byebye"],
)
def test_a_gloating_hashtag_at_an_arrest_is_found(patterns: Checker, tag: str) -> None:
    assert _fired(patterns, f"A man was arrested in Hexham this morning. {tag}")


@pytest.mark.parametrize(
    "tag", ["#mythbusted", "#sandbagged", "#Arrested", "#GotTalent", "#gothenburg", "#nickelodeon"]
)
def test_a_hashtag_that_only_looks_alike_is_not(patterns: Checker, tag: str) -> None:
    assert not _fired(patterns, f"Our team at the Hexham fun day. {tag}")


def test_the_rewrite_is_offered_for_the_hashtag(patterns: Checker) -> None:
    [finding] = [f for f in patterns.check("Arrested overnight. #GotThemmm").findings if f.rule == PATTERN]
    assert finding.evidence == "#GotThemmm" and finding.replacement == "#Arrested"


# Gloating in words at a custody or a seizure, as real posts put it.
@pytest.mark.parametrize(
    "text",
    [
        "No tax, no MOT, no insurance. And another one bites the dust...",
        "Stopped on the ring road with no licence. He's now keeping warm in one of our cells.",
        "The rider is staying nice and warm in a police cell tonight.",
    ],
)
def test_gloating_at_a_custody_is_found(patterns: Checker, text: str) -> None:
    assert "decorum.gloating" in rules_found(patterns, text)


@pytest.mark.parametrize(
    "text",
    [
        "Cold snap tonight: keep warm, check on elderly neighbours.",
        "Our cells are inspected every year by the independent custody visitors.",
        "The old oak by the station finally bit the dust in last night's storm.",
    ],
)
def test_warmth_cells_and_storms_are_not_gloating(patterns: Checker, text: str) -> None:
    assert "decorum.gloating" not in rules_found(patterns, text)
