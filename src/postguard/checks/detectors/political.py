"""Clause A.iv.political: political activity while representing the department."""

from __future__ import annotations

from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["PoliticalDetector"]

_FIX = "Keep to neutral public-safety information about the election."


@register
class PoliticalDetector(LearnedDetector):
    clause = "A.iv.political"
    model_explanation = "Takes a side in politics: a candidate, party, minister, vote, petition or cause."
    patterns = (
        # Urging a vote for or against someone.
        Pattern(
            r"\b(?:vote|voting)\s+(?:for|against)\s+(?-i:[A-Z])[\w.'-]*|\b(?:re-?elect|"
            r"don'?t\s+vote\s+for)\s+(?-i:[A-Z])[\w.'-]*",
            0.88,
            "Urges a vote for or against a candidate or party.",
            _FIX,
        ),
        # Endorsement language.
        Pattern(
            r"\b(?:we\s+(?:proudly\s+)?(?:endorse|back|support)\s+(?:candidate|mayor|councillor|"
            r"senator|governor|minister|mp|mla|the\s+\w+\s+party)|(?:endorse|back)s?\s+(?:the\s+)?"
            r"(?:candidacy|campaign)\s+of)\b",
            0.9,
            "Endorses a candidate or party.",
            _FIX,
        ),
        # Petitions, protests and campaigns.
        Pattern(
            r"\b(?:sign\s+(?:the|our|this|my)\s+petition|join\s+(?:us\s+at\s+)?(?:the|our|this)\s+"
            r"(?:protest|march|rally\s+against|demonstration)|take\s+to\s+the\s+streets)\b",
            0.85,
            "Promotes a petition, protest or political campaign.",
            _FIX,
        ),
    )
