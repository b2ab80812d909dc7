"""Properties that hold for any text: the checker never raises on arbitrary
Unicode, and every span indexes the original text exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postguard.checks import Checker
from postguard.checks.normalise import normalise
from postguard.checks.segment import sentences
from postguard.errors import InputError

# Words that make detectors fire, mixed with arbitrary Unicode.
_TRIGGERS = st.sampled_from(
    [
        "We got our man",
        "k1ll3r",
        "s c u m",
        "thе thіef",
        "🤡",
        "\u200b",
        "vote for Smith",
        "my cousin's garage",
        "confident of a conviction",
        "victim named as Ann",
        "f*ck",
        "\u0301",
        "Sgt. Ann Lee, Kent Police",
        "\n",
        "  ",
        ".",
        "!?",
        "\ufe0f",
        "👮\u200d♀️",
        "\U0001f3fb",
    ]
)
_TEXT = st.lists(st.one_of(st.text(min_size=0, max_size=40), _TRIGGERS), max_size=12).map("".join)
_CONTEXT = st.fixed_dictionaries(
    {
        "account": st.sampled_from(["official", "personal"]),
        "capacity": st.sampled_from(["official", "personal"]),
        "attachments": st.lists(st.sampled_from(["memo.pdf", "appeal.jpg", "x"]), max_size=2),
        "permissions": st.lists(st.sampled_from(["CP-1"]), max_size=1),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, context=_CONTEXT)
def test_checker_never_raises_and_spans_index_the_original(
    checker: Checker, text: str, context: dict[str, object]
) -> None:
    try:
        report = checker.check(text, context)
    except InputError:
        assert not text.strip() or "\x00" in text or len(text.encode("utf-8", "surrogatepass")) > 64 * 1024
        return
    assert report.decision in ("allow", "review", "block")
    for item in (*report.findings, *report.advice):
        assert 0 <= item.start <= item.end <= len(text)
        assert text[item.start : item.end] == item.evidence
        assert 0.0 <= item.score <= 1.0


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_normalised_spans_map_inside_the_original(text: str) -> None:
    view = normalise(text)
    for start, end in sentences(view.text):
        s, e = view.to_original(start, end)
        assert 0 <= s <= e <= len(text)
