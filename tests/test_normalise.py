"""Normalisation sees through obfuscation and maps spans back to the original."""

from __future__ import annotations

import pytest

from postguard.checks.normalise import normalise
from postguard.checks.segment import sentences


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Plain words stay as they are.", "Plain words stay as they are."),
        ("what a k1ll3r", "what a killer"),
        ("sh1t happens", "shit happens"),
        ("$cumbag", "scumbag"),
        ("s c u m b a g", "scumbag"),
        ("t.h.u.g", "thug"),
        ("t-h-u-g", "thug"),
        ("thе kіller", "the killer"),  # Cyrillic е and і
        ("ｔｈｕｇ", "thug"),  # full-width
        ("𝐭𝐡𝐮𝐠", "thug"),  # mathematical bold
        ("f\u200bu\u200bc\u200bk", "fuck"),  # zero-width spaces
        ("th\u00adug", "thug"),  # soft hyphen
        ("idi\u0301ot", "idiot"),  # combining accent
        ("Here's the 📻 chatter", "Here's the  radio  chatter"),
        ("you 🤡", "you  clown\u2060face "),
        ("face to face 🙄", "face to face  face\u2060with\u2060rolling\u2060eyes "),
    ],
)
def test_obfuscation_is_seen_through(original: str, expected: str) -> None:
    assert normalise(original).text == expected


@pytest.mark.parametrize(
    "kept",
    [
        "A38 northbound",
        "at 10am on the 3rd",
        "call 999 or 911",
        "COVID19 rules",
        "U.S. Marshals",
        "at 8 a.m.",
        "Route 66",
        "B4 the match",
        "@NYPD",
        "M25 J10",
    ],
)
def test_ordinary_numbers_and_codes_are_not_leetspeak(kept: str) -> None:
    assert normalise(kept).text == kept


def test_spans_map_back_into_the_original() -> None:
    original = "Wow, thе \u200bk1ll3r 🔪 was caught"
    view = normalise(original)
    start = view.text.index("killer")
    s, e = view.to_original(start, start + len("killer"))
    assert original[s:e] == "k1ll3r"
    s, e = view.to_original(0, len(view.text))
    assert (s, e) == (0, len(original))


def test_sentences_cover_the_text_and_respect_abbreviations() -> None:
    text = "Sgt. Jones of St. Mary's arrested a man, 34. He appears at 10 a.m. Monday!\nCall 999."
    parts = [text[s:e] for s, e in sentences(text)]
    assert parts == [
        "Sgt. Jones of St. Mary's arrested a man, 34.",
        "He appears at 10 a.m. Monday!",
        "Call 999.",
    ]


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        ("An0th3r sc*mb@g l0ck3d up", "Another scumbag locked up"),
        ("What a f*cking night", "What a fucking night"),
        ("F**K this", "FUCK this"),
        ("Id**ts everywhere", "Idiots everywhere"),
        ("call *123# now", "call *123# now"),  # not a word: left alone
        ("a 5*star review", "a 5*star review"),
        ("s**t", "s**t"),  # fits both 'shit' and 'slut': left alone
    ],
)
def test_masked_words_are_read_when_only_one_word_fits(text: str, seen: str) -> None:
    normal = normalise(text)
    assert normal.text == seen
    assert normal.to_original(0, len(normal.text)) == (0, len(text))
