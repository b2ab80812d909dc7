"""Clause A.iii.prosecution: comments on cases before the courts."""

from __future__ import annotations

from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["ProsecutionDetector"]

_COMMENT = "Comments on a case that is before the courts."
_FIX = "Give only the neutral facts: the charge and the next court date."


@register
class ProsecutionDetector(LearnedDetector):
    clause = "A.iii.prosecution"
    model_explanation = "Comments on a pending prosecution: its outcome, evidence, witnesses, bail, the court or the sentence."
    patterns = (
        # Predicting the outcome.
        Pattern(
            r"\b(?:confident|certain|sure|no\s+doubt)\s+(?:of|in|about|that)\s+(?:a|securing\s+a|"
            r"getting\s+a|the)?\s*(?:conviction|guilty\s+verdict|successful\s+prosecution)",
            0.92,
            "Predicts the outcome of a pending prosecution.",
            _FIX,
        ),
        Pattern(
            r"\b(?:conviction|guilty\s+verdict)\s+(?:is\s+)?(?:guaranteed|certain|assured|a\s+formality)\b",
            0.92,
            "Predicts the outcome of a pending prosecution.",
            _FIX,
        ),
        # Judging the evidence.
        Pattern(
            r"\b(?:evidence|case)\s+(?:against\s+\w+\s+)?(?:is|was|looks|remains)\s+"
            r"(?:overwhelming|airtight|air-tight|watertight|water-tight|iron-?clad|rock[\s-]solid|"
            r"bulletproof|damning|undeniable|indisputable)\b|\b(?:airtight|watertight|iron-?clad|"
            r"rock[\s-]solid)\s+case\b",
            0.92,
            "Judges the strength of the evidence in a pending case.",
            _FIX,
        ),
        # Bail.
        Pattern(
            r"\b(?:should|must|shouldn'?t|should\s+not|must\s+not|ought\s+to|deserves?\s+to)\s+"
            r"(?:never\s+)?(?:be\s+)?(?:get|granted|given|refused|denied|allowed|see)\s+(?:any\s+)?bail\b"
            r"|\bno\s+bail\s+for\b|\bbail\s+(?:is|was)\s+(?:a\s+joke|a\s+disgrace|ridiculous|outrageous)",
            0.92,
            "Argues about bail in a pending case.",
            _FIX,
        ),
        # Urging a sentence.
        Pattern(
            r"\b(?:throw\s+the\s+book\s+at|lock\s+(?:him|her|them)\s+up\s+and\s+throw\s+away|"
            r"(?:should|must|deserves?\s+to|needs?\s+to|will)\s+(?:rot|go\s+down\s+for|get\s+the\s+"
            r"(?:maximum|max|full\s+whack)|spend\s+the\s+rest\s+of)|maximum\s+sentence\s+(?:is\s+)?"
            r"(?:what\s+)?(?:he|she|they)\s+deserves?)",
            0.9,
            "Urges a sentence in a pending case.",
            _FIX,
        ),
        # Attacking the defence, witnesses, jury or court.
        Pattern(
            r"\b(?:the\s+)?(?:defen[cs]e|alibi|lawyer|attorney|barrister|jury|magistrate|judge)\s+"
            r"(?:is|was|will\s+be|looks)\s+(?:a\s+)?(?:joke|weak|laughable|pathetic|flimsy|"
            r"desperate|soft|lenient|clueless|useless)\b|\bjury\s+(?:will|must|should)\s+"
            r"(?:see\s+through|convict|find)",
            0.9,
            "Judges the defence, the jury or the court in a pending case.",
            _FIX,
        ),
        Pattern(
            r"\b(?:no\s+way|not\s+a\s+chance)\s+(?:he|she|they)(?:'ll|\s+will|\s+is\s+going\s+to)?\s+"
            r"(?:walk|walks|get\s+off|beat\s+(?:this|the\s+charge))",
            0.9,
            "Predicts the outcome of a pending prosecution.",
            _FIX,
        ),
    )
